//! The event stream: `GET /events/stream`, Server-Sent Events for clients with a key.
//!
//! A stream opens with `retry:`, then `event: epoch` (`data: {"epoch":"<16 hex digits>"}`, the
//! store's history), then a `resync` notice if it does not continue where the client asked (see
//! [`starting_point`]), then the events, each with `id: <epoch>:<id>`. A client resumes exactly
//! after `Last-Event-ID` (or `?after=`), given as `<epoch>:<id>` or as a bare `<id>`; with the
//! epoch, a resume point from a history that a restore or a new store replaced is recognised
//! and resynced instead of resumed after ids that now name other events.
//!
//! The stream reads the backlog from the store page by page; when a page comes back short (the
//! end is near) it subscribes to the live fan-out, reads the backlog once more to its end, then
//! switches to the live queue and skips the ids it already sent. Because the store announces an event only after committing
//! it, every event committed before the subscription is in the last backlog read and every
//! later one is in the live queue (some in both, sent once): no gap, no duplicate. Subscribing
//! only near the end keeps a long catch-up from overflowing the client's live queue.
//!
//! The switch is marked on the wire: once per connection, after the last backlog event and
//! before the first live one, the stream sends a `caught-up` event (no `id:`, so it moves no
//! client's resume point) whose data is `{"lastId":<the last id of the backlog, or the resume
//! point when the backlog was empty>,"at":"<the relay's clock at the switch, RFC 3339 UTC>"}`.
//! A client takes what came before it as late (it happened while the client was away) and what
//! comes after as live, without comparing its own clock with the relay's. The response says that
//! this relay sends the marker with the header `Trubka-Stream: caught-up`, so that a client can
//! tell an older relay, which never sends it, from a long backlog.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::access::{Denied, Holder, StreamSlot};
use crate::audience::Viewer;
use crate::connection::{Cutoff, Peer};
use crate::fanout::{Fanout, ResumePoint, Subscription, render};
use crate::keys::ClientKey;
use crate::metrics::{Metrics, RejectReason};
use crate::state::RelayState;
use crate::store::{Epoch, EventId, Horizon, SharedStore};

/// How many stored events one backlog read fetches.
const BACKLOG_PAGE: usize = 256;

/// The response header naming the stream's features, and the feature of the end-of-backlog
/// marker (see the module's explanation).
pub(crate) const STREAM_FEATURES_HEADER: &str = "trubka-stream";
/// The feature, and the SSE event name, of the end-of-backlog marker.
pub(crate) const CAUGHT_UP: &str = "caught-up";

/// The marker sent once the backlog has been sent, after `last_id`.
fn caught_up(last_id: EventId) -> Event {
    let data = json!({
        "lastId": last_id.0,
        "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    });
    Event::default().event(CAUGHT_UP).data(data.to_string())
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamQuery {
    after: Option<String>,
}

fn problem(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn unauthorized(metrics: &Metrics) -> Response {
    metrics.rejected(RejectReason::Unauthorized);
    let mut response = problem(
        StatusCode::UNAUTHORIZED,
        "a valid client key or seat credential is required: Authorization: Bearer trk_… or tks_…",
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"trubka-relay\""),
    );
    response
}

fn presented_key(headers: &HeaderMap) -> Option<ClientKey> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| ClientKey::from_presented(key.trim()))
}

/// The client's resume point: `Last-Event-ID` wins over `?after=`; `None` means "from the
/// oldest stored event".
fn resume_point(headers: &HeaderMap, query: &StreamQuery) -> Result<Option<ResumePoint>, String> {
    let given = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| "Last-Event-ID is not text".to_owned())?
                .trim()
                .to_owned(),
        ),
        None => query.after.clone(),
    };
    match given.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => ResumePoint::parse(text).map(Some),
    }
}

/// Where a stream starts, and the `resync` notice when that is not where the client asked.
///
/// - no resume point: from the oldest kept event, no notice;
/// - a resume point of another epoch (the store was restored or replaced since), or beyond the
///   newest id ever given out: `unknown`, from the oldest kept event;
/// - a resume point older than retention keeps: `pruned`, from the oldest kept event;
/// - otherwise right after the resume point. A bare id (no epoch) is taken as this epoch's.
fn starting_point(
    requested: Option<ResumePoint>,
    horizon: Horizon,
    epoch: Epoch,
) -> (EventId, Option<serde_json::Value>) {
    let oldest_kept = horizon.pruned_through;
    let Some(requested) = requested else {
        return (oldest_kept, None);
    };
    let foreign = requested.epoch.is_some_and(|given| given != epoch);
    let reason = if foreign || requested.after > horizon.last_id {
        "unknown"
    } else if requested.after < oldest_kept {
        "pruned"
    } else {
        return (requested.after, None);
    };
    let notice = json!({
        "reason": reason,
        "requested": requested.after.0,
        "requestedEpoch": requested.epoch.map(|given| given.to_string()),
        "epoch": epoch.to_string(),
        "resumeAfter": oldest_kept.0,
        "lastId": horizon.last_id.0,
    });
    (oldest_kept, Some(notice))
}

/// `GET /events/stream`.
pub(crate) async fn stream_events(
    State(state): State<RelayState>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
    peer: Option<Extension<ConnectInfo<Peer>>>,
) -> Response {
    let metrics = &state.metrics;
    let Some(key) = presented_key(&headers) else {
        return unauthorized(metrics);
    };
    let slot = match state.access.admit_bearer(key.expose_secret()).await {
        Ok(slot) => slot,
        Err(denied) => return refused(metrics, denied),
    };
    let requested = match resume_point(&headers, &query) {
        Ok(requested) => requested,
        Err(message) => return problem(StatusCode::BAD_REQUEST, &message),
    };

    let cutoff = peer.map(|Extension(ConnectInfo(peer))| peer.cutoff);
    let mut online = None;
    let mut seen = None;
    let viewer = match slot.holder() {
        Holder::Seat(profile) => {
            state.calls.add_workplace(&profile.workplace);
            seen = Some(crate::console::SeenWhileOpen::open(&state, profile.id, &headers).await);
            online = Some(
                state
                    .availability
                    .online(&state.team, profile.id, &profile.workplace)
                    .await,
            );
            Viewer::Seat {
                role: profile.role,
                workplace: profile.workplace.clone(),
            }
        }
        Holder::ClientKey => Viewer::Everything,
    };
    let horizon = match state.store.horizon().await {
        Ok(horizon) => horizon,
        Err(err) => {
            tracing::error!(error = %err, "the store's horizon could not be read");
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "the relay's store is unavailable",
            );
        }
    };

    let epoch = state.store.epoch();
    let mut opening = VecDeque::new();
    opening.push_back(Event::default().retry(state.config.retry));
    opening.push_back(
        Event::default()
            .event("epoch")
            .data(json!({ "epoch": epoch.to_string() }).to_string()),
    );
    let (start, resync) = starting_point(requested, horizon, epoch);
    if let Some(notice) = resync {
        opening.push_back(Event::default().event("resync").data(notice.to_string()));
    }

    let feed = Feed {
        store: Arc::clone(&state.store),
        fanout: Arc::clone(&state.fanout),
        cutoff,
        subscription: None,
        last_sent: start,
        pending: opening,
        live: false,
        shutdown: slot.end().clone(),
        metrics: Arc::clone(&state.metrics),
        slot,
        viewer,
        _online: online,
        _seen: seen,
    };
    let events = futures::stream::unfold(feed, |mut feed| async move {
        feed.next()
            .await
            .map(|event| (Ok::<Event, Infallible>(event), feed))
    });
    let keep_alive = KeepAlive::new()
        .interval(state.config.heartbeat)
        .text("heartbeat");
    (
        // A buffering proxy would hold events back; this asks nginx not to.
        [
            ("x-accel-buffering", "no"),
            (STREAM_FEATURES_HEADER, CAUGHT_UP),
        ],
        Sse::new(events).keep_alive(keep_alive),
    )
        .into_response()
}

/// The answer to a stream the relay did not admit.
fn refused(metrics: &Metrics, denied: Denied) -> Response {
    let busy = |reason: RejectReason, status: StatusCode, message: &str| {
        metrics.rejected(reason);
        let mut response = problem(status, message);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
        response
    };
    if let Some((status, code, message)) = crate::team_routes::denied(&denied)
        && !matches!(denied, Denied::Unauthorized | Denied::StoreUnavailable(_))
    {
        // A seat's refusals: the `{code, message}` of team-api, and `error` for older clients.
        metrics.rejected(RejectReason::Unauthorized);
        let mut body = json!({ "error": message, "code": code, "message": message });
        if let Denied::SeatRevoked {
            delete_local_data: true,
        } = denied
        {
            body["deleteLocalData"] = json!(true);
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"trubka-relay\""),
            );
        }
        return response;
    }
    match denied {
        Denied::Unauthorized => unauthorized(metrics),
        Denied::KeyAtLimit { limit } => busy(
            RejectReason::TooManyStreams,
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "this client key already has {limit} streams open (the relay's streams_per_key); close one first"
            ),
        ),
        Denied::RelayAtLimit { limit } => busy(
            RejectReason::Overloaded,
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("the relay already serves {limit} streams (streams_max); try again shortly"),
        ),
        Denied::StoreUnavailable(err) => {
            tracing::error!(error = %err, "client keys could not be read");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "the relay's store is unavailable",
            )
        }
        // Answered above.
        Denied::ClientKeysRefused
        | Denied::OtherRelay
        | Denied::CredentialRevoked
        | Denied::SeatRevoked { .. } => unauthorized(metrics),
    }
}

/// One client's position: first the backlog from the store, then the live queue.
struct Feed {
    store: SharedStore,
    fanout: Arc<Fanout>,
    cutoff: Option<Arc<Cutoff>>,
    /// Taken when the backlog's end is near; see the module's explanation.
    subscription: Option<Subscription>,
    last_sent: EventId,
    pending: VecDeque<Event>,
    live: bool,
    /// Cancelled when the relay stops or the client's key is revoked.
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
    /// The stream's place among its key's streams, freed when the stream is dropped.
    slot: StreamSlot,
    /// What the holder may see: live and backlog events are filtered alike.
    viewer: Viewer,
    /// A seat's stream keeps the seat online (its availability, not Offline) while it lasts.
    _online: Option<crate::availability::Online>,
    /// The seat's app version and last seen, recorded at open and at close (the console's).
    _seen: Option<crate::console::SeenWhileOpen>,
}

impl Feed {
    /// Passes over a stored event that cannot be sent, with a log line and a metric.
    fn skip(&self, id: EventId, reason: &str) {
        self.metrics.event_skipped();
        tracing::error!(
            id = id.0,
            reason,
            "a stored event cannot be read as JSON (a hand edit or a damaged disk); the stream passes over it"
        );
    }

    async fn next(&mut self) -> Option<Event> {
        loop {
            // A revoked key gets nothing more, not even what was already read for it.
            if self.shutdown.is_cancelled() {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if let (true, Some(subscription)) = (self.live, self.subscription.as_mut()) {
                let live = tokio::select! {
                    () = self.shutdown.cancelled() => return None,
                    live = subscription.next() => live?,
                };
                if live.id <= self.last_sent {
                    continue;
                }
                self.last_sent = live.id;
                self.metrics.delivered();
                return Some(live.frame.clone());
            }
            let page = tokio::select! {
                () = self.shutdown.cancelled() => return None,
                page = self.store.events_after(self.last_sent, BACKLOG_PAGE) => page,
            };
            let page = match page {
                Ok(page) => page,
                Err(err) => {
                    tracing::error!(error = %err, "the backlog could not be read; the client will resume");
                    return None;
                }
            };
            let short = page.rows() < BACKLOG_PAGE;
            if short && self.subscription.is_none() {
                // Everything committed from now on reaches the live queue; the next read
                // covers everything committed before.
                let seat = match self.slot.holder() {
                    Holder::Seat(profile) => Some(profile.id),
                    Holder::ClientKey => None,
                };
                self.subscription = Some(self.fanout.subscribe_viewing(
                    seat,
                    self.viewer.clone(),
                    self.cutoff.take(),
                ));
            } else if page.rows() == 0 {
                // The backlog is over: everything from here on comes from the live queue.
                self.live = true;
                self.pending.push_back(caught_up(self.last_sent));
            }
            // An unreadable row is passed over, not the end of the stream: the rows after it
            // are still the client's events. The next read starts after the last row read.
            let read_through = page.last_id();
            for row in &page.unreadable {
                self.skip(row.id, &row.reason);
            }
            for event in page.events {
                if !self.viewer.sees(&self.fanout.legs().audience(&event)) {
                    continue;
                }
                match render(&event) {
                    Ok(frame) => {
                        self.metrics.delivered();
                        self.pending.push_back(frame);
                    }
                    Err(err) => self.skip(event.id, &err.to_string()),
                }
            }
            if let Some(last) = read_through {
                self.last_sent = self.last_sent.max(last);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn at(after: i64) -> Option<ResumePoint> {
        Some(ResumePoint {
            epoch: None,
            after: EventId(after),
        })
    }

    #[test]
    fn last_event_id_wins_over_the_query() {
        let query = StreamQuery {
            after: Some("5".into()),
        };
        assert_eq!(
            resume_point(&headers(&[("last-event-id", "9")]), &query),
            Ok(at(9))
        );
        assert_eq!(resume_point(&headers(&[]), &query), Ok(at(5)));
        assert_eq!(
            resume_point(&headers(&[]), &StreamQuery { after: None }),
            Ok(None)
        );
        let epoch = Epoch::from_stored(1);
        assert_eq!(
            resume_point(&headers(&[("last-event-id", "0000000000000001:9")]), &query),
            Ok(Some(ResumePoint {
                epoch: Some(epoch),
                after: EventId(9)
            }))
        );
        assert!(resume_point(&headers(&[("last-event-id", "-1")]), &query).is_err());
        assert!(resume_point(&headers(&[("last-event-id", "x")]), &query).is_err());
    }

    #[test]
    fn a_resume_point_of_another_epoch_or_beyond_the_newest_id_is_resynced() {
        let epoch = Epoch::from_stored(1);
        let other = Epoch::from_stored(2);
        let horizon = Horizon {
            pruned_through: EventId(3),
            last_id: EventId(12),
        };
        let mine = |after| {
            Some(ResumePoint {
                epoch: Some(epoch),
                after: EventId(after),
            })
        };
        assert_eq!(starting_point(None, horizon, epoch), (EventId(3), None));
        assert_eq!(
            starting_point(mine(10), horizon, epoch),
            (EventId(10), None)
        );
        assert_eq!(starting_point(at(10), horizon, epoch), (EventId(10), None));
        assert_eq!(starting_point(mine(3), horizon, epoch), (EventId(3), None));
        let reason = |requested| {
            let (start, notice) = starting_point(requested, horizon, epoch);
            assert_eq!(start, EventId(3));
            notice.unwrap()["reason"].as_str().unwrap().to_owned()
        };
        assert_eq!(reason(mine(2)), "pruned");
        assert_eq!(reason(mine(13)), "unknown");
        assert_eq!(reason(at(13)), "unknown");
        let foreign = Some(ResumePoint {
            epoch: Some(other),
            after: EventId(10),
        });
        assert_eq!(reason(foreign), "unknown");
        let (_, notice) = starting_point(foreign, horizon, epoch);
        let notice = notice.unwrap();
        assert_eq!(notice["epoch"], "0000000000000001");
        assert_eq!(notice["requestedEpoch"], "0000000000000002");
        assert_eq!(notice["requested"], 10);
        assert_eq!(notice["resumeAfter"], 3);
        assert_eq!(notice["lastId"], 12);
    }

    #[test]
    fn only_bearer_keys_are_taken() {
        let key = presented_key(&headers(&[("authorization", "Bearer trk_abc")])).unwrap();
        assert_eq!(key.expose_secret(), "trk_abc");
        assert!(presented_key(&headers(&[("authorization", "Basic trk_abc")])).is_none());
        assert!(presented_key(&headers(&[])).is_none());
    }
}
