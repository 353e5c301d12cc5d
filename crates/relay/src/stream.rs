//! The event stream: `GET /events/stream`, Server-Sent Events for clients with a key.
//!
//! A client resumes exactly after `Last-Event-ID` (or `?after=`). The stream reads the backlog
//! from the store page by page; when a page comes back short (the end is near) it subscribes to
//! the live fan-out, reads the backlog once more to its end, then switches to the live queue and
//! skips the ids it already sent. Because the store announces an event only after committing
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

use crate::connection::{Cutoff, Peer};
use crate::fanout::{Fanout, Subscription, render};
use crate::keys::ClientKey;
use crate::metrics::{Metrics, RejectReason};
use crate::state::RelayState;
use crate::store::{EventId, SharedStore};

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
        "a valid client key is required: Authorization: Bearer trk_…",
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
fn resume_point(headers: &HeaderMap, query: &StreamQuery) -> Result<Option<EventId>, String> {
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
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|id| *id >= 0)
            .map(|id| Some(EventId(id)))
            .ok_or_else(|| {
                format!("resume point {text:?} is not an event id (a whole number ≥ 0)")
            }),
    }
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
    let keys = match state.store.client_keys().await {
        Ok(keys) => keys,
        Err(err) => {
            tracing::error!(error = %err, "client keys could not be read");
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "the relay's store is unavailable",
            );
        }
    };
    if !key.is_active_in(&keys) {
        return unauthorized(metrics);
    }
    let requested = match resume_point(&headers, &query) {
        Ok(requested) => requested,
        Err(message) => return problem(StatusCode::BAD_REQUEST, &message),
    };

    let cutoff = peer.map(|Extension(ConnectInfo(peer))| peer.cutoff);
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

    let mut opening = VecDeque::new();
    opening.push_back(Event::default().retry(state.config.retry));
    let oldest_kept = horizon.pruned_through;
    let start = match requested {
        None => oldest_kept,
        Some(after) if after < oldest_kept || after > horizon.last_id => {
            let reason = if after < oldest_kept {
                "pruned"
            } else {
                "unknown"
            };
            let data = json!({
                "reason": reason,
                "requested": after.0,
                "resumeAfter": oldest_kept.0,
                "lastId": horizon.last_id.0,
            });
            opening.push_back(Event::default().event("resync").data(data.to_string()));
            oldest_kept
        }
        Some(after) => after,
    };

    let mut key_check = tokio::time::interval_at(
        tokio::time::Instant::now() + state.config.heartbeat,
        state.config.heartbeat,
    );
    key_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let feed = Feed {
        store: Arc::clone(&state.store),
        fanout: Arc::clone(&state.fanout),
        cutoff,
        subscription: None,
        last_sent: start,
        pending: opening,
        live: false,
        shutdown: state.shutdown.clone(),
        metrics: Arc::clone(&state.metrics),
        key,
        key_check,
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

/// Whether the key is still active; a store that cannot tell keeps the stream going (the
/// client would only reconnect into the same failure).
async fn key_still_active(store: &SharedStore, key: &ClientKey) -> bool {
    match store.client_keys().await {
        Ok(keys) => {
            let active = key.is_active_in(&keys);
            if !active {
                tracing::info!("a stream's client key was revoked; closing the stream");
            }
            active
        }
        Err(err) => {
            tracing::warn!(error = %err, "client keys could not be re-read");
            true
        }
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
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
    /// The client's key, checked again at every heartbeat interval so that revoking a key
    /// also ends the streams already open with it.
    key: ClientKey,
    key_check: tokio::time::Interval,
}

impl Feed {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if let (true, Some(subscription)) = (self.live, self.subscription.as_mut()) {
                let live = tokio::select! {
                    () = self.shutdown.cancelled() => return None,
                    live = subscription.next() => live?,
                    _ = self.key_check.tick() => {
                        if !key_still_active(&self.store, &self.key).await {
                            return None;
                        }
                        continue;
                    }
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
            let short = page.len() < BACKLOG_PAGE;
            if short && self.subscription.is_none() {
                // Everything committed from now on reaches the live queue; the next read
                // covers everything committed before.
                self.subscription = Some(self.fanout.subscribe(self.cutoff.take()));
            } else if page.is_empty() {
                // The backlog is over: everything from here on comes from the live queue.
                self.live = true;
                self.pending.push_back(caught_up(self.last_sent));
            }
            for event in page {
                match render(&event) {
                    Ok(frame) => {
                        self.last_sent = event.id;
                        self.metrics.delivered();
                        self.pending.push_back(frame);
                    }
                    Err(err) => {
                        tracing::error!(id = event.id.0, error = %err, "a stored event could not be rendered");
                        return None;
                    }
                }
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

    #[test]
    fn last_event_id_wins_over_the_query() {
        let query = StreamQuery {
            after: Some("5".into()),
        };
        assert_eq!(
            resume_point(&headers(&[("last-event-id", "9")]), &query),
            Ok(Some(EventId(9)))
        );
        assert_eq!(resume_point(&headers(&[]), &query), Ok(Some(EventId(5))));
        assert_eq!(
            resume_point(&headers(&[]), &StreamQuery { after: None }),
            Ok(None)
        );
        assert!(resume_point(&headers(&[("last-event-id", "-1")]), &query).is_err());
        assert!(resume_point(&headers(&[("last-event-id", "x")]), &query).is_err());
    }

    #[test]
    fn only_bearer_keys_are_taken() {
        let key = presented_key(&headers(&[("authorization", "Bearer trk_abc")])).unwrap();
        assert_eq!(key.expose_secret(), "trk_abc");
        assert!(presented_key(&headers(&[("authorization", "Basic trk_abc")])).is_none());
        assert!(presented_key(&headers(&[])).is_none());
    }
}
