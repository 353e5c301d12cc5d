//! The seat API (Bearer seat credential): dial, transfer, hang up, parking, live calls, the
//! directory, presence and the callback queue. Endpoints, bodies and answers are documented in
//! `team-api`; the rules are [`crate::seat_rules`]. Each action is checked before the PBX is
//! called (a refusal never reaches it) and written to the audit log with the PBX's answer or
//! the refusal. The PBX is reached through `Integration::pbx()` on every request, so that a
//! reconnected integration is used at once. An action runs to its end on a task of its own,
//! so that a request that goes away midway still leaves its entry in the audit log.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use mtt_api::{Callee, LegRef, SipId};
use serde::de::DeserializeOwned;
use team_api::{
    ActionDone, CallbackQueue, DialAnswer, DialRequest, HangUpRequest, LiveCalls, ParkingRequest,
    PresenceSummary, Role, SeatProfile, TeamErrorCode, TransferRequest,
};

use crate::access::{Denied, Holder};
use crate::additions::{Addition, offer};
use crate::metrics::RejectReason;
use crate::seat_limits::{Limited, SeatPermit};
use crate::seat_rules::{Refusal, act_on, dial_from, may_park, pbx_failure};
use crate::state::RelayState;
use crate::store::audit::{NewAuditEntry, Outcome};
use crate::team_routes::{bearer, denied_refusal, refusal};

/// The largest seat API body taken.
pub const SEAT_BODY_LIMIT: usize = 16 * 1024;

/// An admitted seat: its profile and its place among its requests in flight.
pub(crate) struct Caller {
    pub(crate) seat: SeatProfile,
    _permit: SeatPermit,
}

fn answer(refused: &Refusal) -> Response {
    refusal(refused.status, refused.code, &refused.message)
}

/// The seat behind the request's credential, admitted under its caps.
pub(crate) async fn caller(state: &RelayState, headers: &HeaderMap) -> Result<Caller, Response> {
    let Some(bearer) = bearer(headers) else {
        state.metrics.rejected(RejectReason::Unauthorized);
        return Err(refusal(
            StatusCode::UNAUTHORIZED,
            TeamErrorCode::Unauthorized,
            "a seat credential is required: Authorization: Bearer tks_…",
        ));
    };
    let seat = match state.access.holder(&bearer).await {
        Ok(Holder::Seat(seat)) => seat,
        Ok(Holder::ClientKey) => {
            return Err(refusal(
                StatusCode::FORBIDDEN,
                TeamErrorCode::Unauthorized,
                "a client key has no seat: join the team with an invite",
            ));
        }
        Err(refused) => {
            if let Denied::StoreUnavailable(err) = &refused {
                tracing::error!(error = %err, "seats could not be read");
            } else {
                state.metrics.rejected(RejectReason::Unauthorized);
            }
            return Err(match denied_refusal(&refused) {
                Some(response) => response,
                None => refusal(
                    StatusCode::SERVICE_UNAVAILABLE,
                    TeamErrorCode::Unavailable,
                    "the relay is busy",
                ),
            });
        }
    };
    state.calls.add_workplace(&seat.workplace);
    match state.seat_limits.admit(seat.id) {
        Ok(permit) => Ok(Caller {
            seat,
            _permit: permit,
        }),
        Err(limited) => {
            state.metrics.rejected(RejectReason::RateLimited);
            let (message, wait) = match limited {
                Limited::InFlight => (
                    "this seat already has requests in flight at the relay; wait for them",
                    1,
                ),
                Limited::Rate(wait) => (
                    "this seat sent too many requests; try again shortly",
                    wait.as_secs().max(1),
                ),
            };
            let mut response = refusal(
                StatusCode::TOO_MANY_REQUESTS,
                TeamErrorCode::RateLimited,
                message,
            );
            if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Err(response)
        }
    }
}

/// A JSON body of at most [`SEAT_BODY_LIMIT`] bytes with no unknown fields.
pub(crate) async fn read<T: DeserializeOwned>(body: Body) -> Result<T, Response> {
    let Ok(bytes) = axum::body::to_bytes(body, SEAT_BODY_LIMIT).await else {
        let mut response = refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            TeamErrorCode::TooLarge,
            &format!("a seat API body is a small JSON object (at most {SEAT_BODY_LIMIT} bytes)"),
        );
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return Err(response);
    };
    serde_json::from_slice(&bytes).map_err(|err| {
        refusal(
            StatusCode::BAD_REQUEST,
            TeamErrorCode::BadRequest,
            &format!("the body is not what this endpoint takes: {err}"),
        )
    })
}

fn bad_input(message: String) -> Response {
    refusal(StatusCode::BAD_REQUEST, TeamErrorCode::BadRequest, &message)
}

/// Records an action; answers its entry's number (0 if the log could not be written, which is
/// logged: the PBX's answer is still given).
pub(crate) async fn audit(
    state: &RelayState,
    seat: &SeatProfile,
    action: &str,
    target: String,
    outcome: Result<String, &Refusal>,
) -> i64 {
    let (outcome, code, detail) = match outcome {
        Ok(detail) => (Outcome::Done, None, detail),
        Err(refused) => (
            if refused.status == StatusCode::FORBIDDEN || refused.status == StatusCode::NOT_FOUND {
                Outcome::Refused
            } else {
                Outcome::Failed
            },
            serde_json::to_value(refused.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned)),
            refused.message.clone(),
        ),
    };
    let entry = NewAuditEntry {
        at: Utc::now(),
        seat_id: seat.id,
        seat_name: seat.name.clone(),
        action: action.to_owned(),
        target,
        outcome,
        code,
        detail,
    };
    match state.audit.record(entry).await {
        Ok(id) => id,
        Err(err) => {
            tracing::error!(error = %err, action, seat = seat.id, "an action could not be written to the audit log");
            0
        }
    }
}

/// Records a refusal or failure and answers it.
pub(crate) async fn refuse(
    state: &RelayState,
    seat: &SeatProfile,
    action: &str,
    target: String,
    refused: Refusal,
) -> Response {
    audit(state, seat, action, target, Err(&refused)).await;
    answer(&refused)
}

/// Runs a seat's action to its end on a task of its own: if the seat's request goes away
/// meanwhile (the app gave up, the connection broke), the PBX call already sent still gets its
/// answer and its audit-log entry; dropped with the request, the PBX might have placed a call
/// that the audit log never saw.
async fn to_the_end(action: impl Future<Output = Response> + Send + 'static) -> Response {
    match tokio::spawn(action).await {
        Ok(response) => response,
        Err(err) => {
            tracing::error!(error = %err, "a seat's action stopped before its answer");
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                TeamErrorCode::Unavailable,
                "the relay could not finish this action; see its log",
            )
        }
    }
}

async fn pbx(state: &RelayState) -> Result<mtt_api::Pbx, Refusal> {
    state.integration.pbx_for_actions().await.map_err(|err| match err {
        crate::RelayError::NotConnected => Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            TeamErrorCode::NotConnected,
            "the relay holds no МТТ integration; the admin must connect it (`trubka-relay team connect`)",
        ),
        other => Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            TeamErrorCode::NotConnected,
            format!("the relay's МТТ integration cannot be used: {other}"),
        ),
    })
}

/// `POST /team/dial`.
pub(crate) async fn dial(
    State(state): State<RelayState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    to_the_end(dial_checked(state, headers, body)).await
}

async fn dial_checked(state: RelayState, headers: HeaderMap, body: Body) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let request: DialRequest = match read(body).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let callee = match Callee::parse(&request.number) {
        Ok(callee) => callee,
        Err(err) => return bad_input(err.to_string()),
    };
    let seat = &caller.seat;
    let target = format!(
        "{} from {}",
        callee,
        request.workplace.as_deref().unwrap_or(&seat.workplace)
    );
    let workplace = match dial_from(seat, request.workplace.as_deref()) {
        Ok(workplace) => workplace,
        Err(refused) => return refuse(&state, seat, "dial", target, refused).await,
    };
    let from = match SipId::parse(&workplace) {
        Ok(from) => from,
        Err(err) => return bad_input(err.to_string()),
    };
    let pbx = match pbx(&state).await {
        Ok(pbx) => pbx,
        Err(refused) => return refuse(&state, seat, "dial", target, refused).await,
    };
    match pbx.make_call(&from, &callee).await {
        Ok(placed) => {
            if let Some(cleared) = state.calls.dialled(callee.as_str(), seat.id) {
                offer(&state.additions, Addition::Derived(cleared));
            }
            let audit_id = audit(
                &state,
                seat,
                "dial",
                target,
                Ok(format!("placed, makeCall id {}", placed.id)),
            )
            .await;
            Json(DialAnswer {
                leg_id: placed.id.as_str().to_owned(),
                workplace,
                audit_id,
            })
            .into_response()
        }
        Err(err) => refuse(&state, seat, "dial", target, pbx_failure(&err)).await,
    }
}

/// The live leg `leg_id` as a reference the PBX takes, if the seat may act on it.
fn checked_leg(state: &RelayState, seat: &SeatProfile, leg_id: &str) -> Result<LegRef, Refusal> {
    let leg = state.calls.leg(leg_id);
    let leg = act_on(seat, leg_id, leg.as_ref())?;
    match (&leg.tag, &leg.transport_id) {
        (Some(tag), Some(transport)) => LegRef::new(leg.id.clone(), tag.clone(), transport.clone())
            .map_err(|err| {
                Refusal::new(
                    StatusCode::NOT_FOUND,
                    TeamErrorCode::CallUnknown,
                    err.to_string(),
                )
            }),
        _ => Err(Refusal::new(
            StatusCode::NOT_FOUND,
            TeamErrorCode::CallUnknown,
            "the relay has not yet seen this leg's tag and transport id; try again in a moment",
        )),
    }
}

/// `POST /team/transfer`.
pub(crate) async fn transfer(
    State(state): State<RelayState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    to_the_end(transfer_checked(state, headers, body)).await
}

async fn transfer_checked(state: RelayState, headers: HeaderMap, body: Body) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let request: TransferRequest = match read(body).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let target = match Callee::parse(&request.target) {
        Ok(target) => target,
        Err(err) => return bad_input(err.to_string()),
    };
    let what = format!("leg {} to {}", request.leg_id, target);
    let action = LegAction {
        name: "transfer",
        what,
        done: "transferred",
    };
    act_on_leg(
        &state,
        &caller.seat,
        &request.leg_id,
        action,
        async |pbx, leg| pbx.transfer_call(leg, &target).await,
    )
    .await
}

/// `POST /team/hangup`.
pub(crate) async fn hang_up(
    State(state): State<RelayState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    to_the_end(hang_up_checked(state, headers, body)).await
}

async fn hang_up_checked(state: RelayState, headers: HeaderMap, body: Body) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let request: HangUpRequest = match read(body).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let action = LegAction {
        name: "hangup",
        what: format!("leg {}", request.leg_id),
        done: "ended",
    };
    act_on_leg(
        &state,
        &caller.seat,
        &request.leg_id,
        action,
        async |pbx, leg| pbx.terminate_call(leg).await,
    )
    .await
}

/// An action on a live leg, as the audit log names it.
struct LegAction {
    /// The action's name (`transfer`, `hangup`).
    name: &'static str,
    /// What it was asked to do.
    what: String,
    /// The audit's word for success.
    done: &'static str,
}

/// The one sequence for every action on a leg: the seat's right to the leg, then the PBX (with
/// the actions' deadline, sent once), audited either way; a refusal never reaches the PBX.
async fn act_on_leg(
    state: &RelayState,
    seat: &SeatProfile,
    leg_id: &str,
    action: LegAction,
    call_pbx: impl AsyncFnOnce(&mtt_api::Pbx, &LegRef) -> Result<(), mtt_api::Error>,
) -> Response {
    let LegAction { name, what, done } = action;
    let leg = match checked_leg(state, seat, leg_id) {
        Ok(leg) => leg,
        Err(refused) => return refuse(state, seat, name, what, refused).await,
    };
    let pbx = match pbx(state).await {
        Ok(pbx) => pbx,
        Err(refused) => return refuse(state, seat, name, what, refused).await,
    };
    match call_pbx(&pbx, &leg).await {
        Ok(()) => {
            let audit_id = audit(state, seat, name, what, Ok(done.into())).await;
            Json(ActionDone { audit_id }).into_response()
        }
        Err(err) => refuse(state, seat, name, what, pbx_failure(&err)).await,
    }
}

/// `PUT /team/parking` (admins).
pub(crate) async fn parking(
    State(state): State<RelayState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    to_the_end(parking_checked(state, headers, body)).await
}

async fn parking_checked(state: RelayState, headers: HeaderMap, body: Body) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let request: ParkingRequest = match read(body).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    if request.numbers.is_empty() || request.numbers.len() > 100 {
        return bad_input("parking takes between 1 and 100 external numbers".into());
    }
    for number in &request.numbers {
        if Callee::parse(number).is_err() || number.starts_with('+') {
            return bad_input(format!(
                "{number:?} is not an external number (digits only)"
            ));
        }
    }
    let seat = &caller.seat;
    let what = format!(
        "{} {}",
        if request.parking { "park" } else { "unpark" },
        request.numbers.join(",")
    );
    if let Err(refused) = may_park(seat) {
        return refuse(&state, seat, "parking", what, refused).await;
    }
    let pbx = match pbx(&state).await {
        Ok(pbx) => pbx,
        Err(refused) => return refuse(&state, seat, "parking", what, refused).await,
    };
    match pbx.set_parking(&request.numbers, request.parking).await {
        Ok(()) => {
            // The router decides calls to the numbers the routing parks: it must hear of it.
            let noted = state
                .routing
                .parking_changed(&request.numbers, request.parking)
                .await;
            let detail = match &noted {
                Ok(()) => "set".to_owned(),
                Err(_) => "set at the PBX; the routing's parked numbers not saved".to_owned(),
            };
            let audit_id = audit(&state, seat, "parking", what, Ok(detail)).await;
            match noted {
                Ok(()) => Json(ActionDone { audit_id }).into_response(),
                Err(err) => {
                    tracing::error!(error = %err, "parking was applied but the team's routing could not note it");
                    refusal(
                        StatusCode::SERVICE_UNAVAILABLE,
                        TeamErrorCode::Unavailable,
                        "parking was applied at the PBX, but the team's routing could not note it (its store is not available); send the same request again",
                    )
                }
            }
        }
        Err(err) => refuse(&state, seat, "parking", what, pbx_failure(&err)).await,
    }
}

/// `GET /team/calls`.
pub(crate) async fn calls(State(state): State<RelayState>, headers: HeaderMap) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let seat = &caller.seat;
    let only = (seat.role == Role::Operator).then_some(seat.workplace.as_str());
    Json(LiveCalls {
        calls: state.calls.live_calls(only),
    })
    .into_response()
}

/// `GET /team/directory`.
pub(crate) async fn directory(State(state): State<RelayState>, headers: HeaderMap) -> Response {
    if let Err(response) = caller(&state, &headers).await {
        return response;
    }
    match state.directory.get(&state.integration, &state.calls).await {
        Ok(directory) => Json(directory).into_response(),
        Err(err) => answer(&pbx_failure(&err)),
    }
}

/// `GET /team/presence`.
pub(crate) async fn presence(State(state): State<RelayState>, headers: HeaderMap) -> Response {
    if let Err(response) = caller(&state, &headers).await {
        return response;
    }
    Json(PresenceSummary {
        workplaces: state.calls.presence(),
    })
    .into_response()
}

/// `GET /team/callbacks`.
pub(crate) async fn callbacks(State(state): State<RelayState>, headers: HeaderMap) -> Response {
    if let Err(response) = caller(&state, &headers).await {
        return response;
    }
    Json(CallbackQueue {
        offers: state.calls.callbacks(),
    })
    .into_response()
}

/// At start: follow the presence of every active seat's workplace, and read the directory if
/// an integration is connected (a failure here is only logged: the directory is read again
/// when asked).
pub(crate) async fn learn_workplaces(state: RelayState) {
    match state.team.seats().await {
        Ok(seats) => {
            for seat in seats.iter().filter(|seat| seat.revoked_at.is_none()) {
                state.calls.add_workplace(&seat.profile.workplace);
            }
        }
        Err(err) => tracing::warn!(error = %err, "the seats' workplaces could not be read"),
    }
    if let Err(err) = state.availability.learn(&state.team).await {
        tracing::warn!(error = %err, "the seats' availability could not be read at start");
    }
    if state.integration.status().team_mode
        && let Err(err) = state.directory.get(&state.integration, &state.calls).await
    {
        tracing::info!(error = %err, "the directory could not be read at start; it is read when asked");
    }
}
