//! The wallboard: live legs, the callback queue, and every active seat with its presence,
//! availability and today's answered / missed / talk time. `GET /admin/api/wallboard` is one
//! snapshot; `/admin/api/wallboard/stream` sends one at once and again after each change
//! (coalesced over [`COALESCE`]), with a keep-alive comment, until the relay shuts down.
//!
//! Today's counters are kept from the legs the live-call view saw end (`Derived::Ended`, from
//! the store's commits), each leg counted once, by the team's day in its time zone.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use futures::Stream;
use serde::Serialize;
use team_api::{Availability, Presence};

use super::ConsoleError;
use super::session::Caller;
use crate::state::RelayState;

/// Changes closer together than this go out as one snapshot.
const COALESCE: Duration = Duration::from_millis(100);
/// A comment this often keeps proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `Wallboard` of the contract.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "Wallboard.ts")]
pub struct Wallboard {
    #[ts(type = "string")]
    at: DateTime<Utc>,
    time_zone: String,
    calls: Vec<WallboardCall>,
    missed: Vec<WallboardMissed>,
    operators: Vec<WallboardOperator>,
}

/// A live leg.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "WallboardCall.ts")]
pub struct WallboardCall {
    leg_id: String,
    #[ts(type = "\"ringing\" | \"talking\"")]
    state: &'static str,
    direction: Option<String>,
    caller: Option<String>,
    callee: Option<String>,
    seat: Option<i64>,
    seat_name: Option<String>,
    workplace: Option<String>,
    #[ts(type = "string")]
    since: DateTime<Utc>,
    #[ts(type = "string | null")]
    answered_at: Option<DateTime<Utc>>,
}

/// A missed call not yet called back.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "WallboardMissed.ts")]
pub struct WallboardMissed {
    number: String,
    company_number: Option<String>,
    leg_id: String,
    #[ts(type = "string")]
    missed_at: DateTime<Utc>,
}

/// An active seat on the wallboard.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "WallboardOperator.ts")]
pub struct WallboardOperator {
    seat: i64,
    name: String,
    workplace: String,
    role: String,
    presence: Presence,
    availability: Availability,
    answered_today: u32,
    missed_today: u32,
    talk_seconds_today: i64,
}

/// The wallboard now.
pub(crate) async fn snapshot(state: &RelayState) -> Result<Wallboard, ConsoleError> {
    let seats: Vec<_> = state
        .team
        .seats()
        .await?
        .into_iter()
        .filter(|seat| seat.revoked_at.is_none())
        .collect();
    let seat_at = |workplace: &String| {
        seats
            .iter()
            .find(|seat| seat.profile.workplace == *workplace)
            .map(|seat| &seat.profile)
    };
    // Whose call it is: the operator it is connected to; while it rings, the operator it rings
    // at if only one. A leg also touches the colleagues a group call rang (and who hid), and
    // forwarders: the first seat it touched may be someone else's name on the call.
    let owner = |leg_id: &str| {
        let (talking, ringing) = state.calls.leg_parties(leg_id);
        let talking: Vec<_> = talking.iter().filter_map(&seat_at).collect();
        let ringing: Vec<_> = ringing.iter().filter_map(&seat_at).collect();
        match (talking.as_slice(), ringing.as_slice()) {
            ([seat, ..], _) | ([], [seat]) => Some(*seat),
            _ => None,
        }
    };
    let calls = state
        .calls
        .live_calls(None)
        .into_iter()
        .map(|call| {
            let leg = state.calls.leg(&call.leg_id);
            let seat = owner(&call.leg_id);
            WallboardCall {
                state: if call.state == "connected" {
                    "talking"
                } else {
                    "ringing"
                },
                direction: call.direction,
                caller: call.caller,
                callee: call.callee,
                seat: seat.map(|seat| seat.id),
                seat_name: seat.map(|seat| seat.name.clone()),
                // Without a seat, the one workplace it reached if only one (a workplace no
                // seat sits at); a call ringing at several belongs to none yet.
                workplace: seat.map(|seat| seat.workplace.clone()).or_else(|| {
                    match call.workplaces.as_slice() {
                        [only] => Some(only.clone()),
                        _ => None,
                    }
                }),
                since: call.since,
                answered_at: leg.and_then(|leg| leg.answered_at),
                leg_id: call.leg_id,
            }
        })
        .collect();
    let missed = state
        .calls
        .callbacks()
        .into_iter()
        .map(|offer| WallboardMissed {
            number: offer.number,
            company_number: offer.company_number,
            leg_id: offer.leg_id,
            missed_at: offer.missed_at,
        })
        .collect();
    let operators = seats
        .iter()
        .map(|seat| {
            let profile = &seat.profile;
            let counts = state.console.today.of(&profile.workplace);
            WallboardOperator {
                seat: profile.id,
                name: profile.name.clone(),
                workplace: profile.workplace.clone(),
                role: profile.role.as_str().to_owned(),
                presence: state
                    .calls
                    .presence_of(&profile.workplace)
                    .unwrap_or(Presence::Free),
                availability: state.availability.availability(profile.id),
                answered_today: counts.answered,
                missed_today: counts.missed,
                talk_seconds_today: counts.talk_seconds,
            }
        })
        .collect();
    Ok(Wallboard {
        at: Utc::now(),
        time_zone: state.config.console.time_zone.name().to_owned(),
        calls,
        missed,
        operators,
    })
}

/// `GET /admin/api/wallboard` (admins and supervisors).
pub(crate) async fn show(State(state): State<RelayState>) -> Result<Json<Wallboard>, ConsoleError> {
    Ok(Json(snapshot(&state).await?))
}

/// One wallboard stream's place under the caps; released when the stream ends.
struct StreamSlot {
    state: RelayState,
    session: [u8; 32],
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.state.console.streams.fetch_sub(1, Ordering::Relaxed);
        let mut open = self
            .state
            .console
            .session_streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.session) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.session);
            }
        }
    }
}

fn take_slot(state: &RelayState, caller: &Caller) -> Option<StreamSlot> {
    let settings = &state.config.console;
    let mut open = state
        .console
        .session_streams
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mine = open.entry(caller.id_hash).or_insert(0);
    if *mine >= settings.streams_per_session {
        return None;
    }
    let all = &state.console.streams;
    if all
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < settings.streams_max).then_some(n + 1)
        })
        .is_err()
    {
        return None;
    }
    *mine += 1;
    Some(StreamSlot {
        state: state.clone(),
        session: caller.id_hash,
    })
}

/// `GET /admin/api/wallboard/stream`: `event: wallboard` with the snapshot, at once and after
/// each change.
pub(crate) async fn stream(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let Some(slot) = take_slot(&state, &caller) else {
        return ConsoleError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "too many wallboards are open (8 per session, 64 in all); close one",
        )
        .retry_after(5)
        .into_response();
    };
    Sse::new(snapshots(state, slot))
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response()
}

fn snapshots(state: RelayState, slot: StreamSlot) -> impl Stream<Item = Result<Event, Infallible>> {
    let mut changes = state.console.today.subscribe();
    let shutdown = state.shutdown.clone();
    async_stream(move |send| async move {
        let _slot = slot;
        loop {
            match snapshot(&state).await {
                Ok(board) => {
                    let Ok(data) = serde_json::to_string(&board) else {
                        return;
                    };
                    if send
                        .send(Event::default().event("wallboard").data(data))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Err(err) => tracing::warn!(code = err.code(), "a wallboard snapshot failed"),
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = send.closed() => return,
                changed = changes.changed() => if changed.is_err() { return },
            }
            // Coalesce: whatever else changes meanwhile goes out in the next snapshot.
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(COALESCE) => {}
            }
            changes.mark_unchanged();
        }
    })
}

/// A stream fed by a task through a small channel (the task ends when the stream is dropped).
fn async_stream<F, Fut>(run: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (send, receive) = tokio::sync::mpsc::channel(4);
    tokio::spawn(run(send));
    futures::stream::unfold(receive, |mut receive| async move {
        receive.recv().await.map(|event| (Ok(event), receive))
    })
}
