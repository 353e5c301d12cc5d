//! The Open API at the same paths as `openapi.mtt.ru`.
//!
//! Successful answers have exactly the document's shapes. Error answers are not in the
//! document, so their shape is this simulator's choice:
//! `{"error": {"code": "<stable code>", "message": "<explanation>"}}` with a 4xx status
//! (401 for a missing, unknown or expired token; 400 for malformed bodies; 404 for unknown
//! legs; 409 for a leg in the wrong state; 422 for valid JSON naming something the account
//! does not allow, such as a terminal as makeCall's `callerId`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api_error::ApiError;
use crate::auth_store::TokenProblem;
use crate::calls::{LegCommand, Target};
use crate::fault::apply_fault;
use crate::pbx;
use crate::records;
use crate::state::SimState;
use crate::sync::lock;
use crate::wire::{
    CallRef, ExternalNumber, ExternalNumbersInfo, MakeCallParams, MakeCallResult, Params,
    ResultEnvelope, SetParkingNumbersParams, Success, TerminalEntry, TerminalsInfo,
    TerminateCallParams, TransferCallParams, WorkplaceEntry, WorkplacesInfo,
};

/// The Open API routes (and `/records/…`), relative to the API base URL.
pub fn api_router(state: SimState) -> Router {
    Router::new()
        .route("/externalNumbersInfo", get(external_numbers_info))
        .route("/workPlacesInfo", get(workplaces_info))
        .route("/workplacesInfo", get(workplaces_info))
        .route("/terminalsInfo", get(terminals_info))
        .route("/makeCall", post(make_call))
        .route("/terminateCall", post(terminate_call))
        .route("/transferCall", post(transfer_call))
        .route("/setParkingNumbers", post(set_parking_numbers))
        .route("/records/{file}", get(recording))
        .with_state(state)
}

fn authorize(sim: &SimState, headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "an Authorization: Bearer <access_token> header is required",
            )
        })?
        .to_str()
        .map_err(|_| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the Authorization header is not readable text",
            )
        })?;
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the Authorization header must be \"Bearer <access_token>\"",
            )
        })?;
    let now = sim.now();
    match lock(&sim.0.auth).check_access(token, now) {
        Ok(()) => Ok(()),
        Err(TokenProblem::Unknown) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is unknown",
        )),
        Err(TokenProblem::Expired) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "token_expired",
            "the access token has expired; refresh it",
        )),
    }
}

async fn recording(
    State(sim): State<SimState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    records::serve(&sim.0.records, &file, &headers)
}

/// Fault injection, then authentication: what every method does first.
async fn gate(sim: &SimState, headers: &HeaderMap, method: &str) -> Result<(), Response> {
    apply_fault(sim, method).await?;
    authorize(sim, headers).map_err(IntoResponse::into_response)
}

fn params<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not JSON: {e}"),
        )
    })?;
    if value.get("params").is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_params",
            "the body must be a JSON object {\"params\": {…}}",
        ));
    }
    serde_json::from_value::<Params<T>>(value)
        .map(|p| p.params)
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_params",
                format!("params are not as documented: {e}"),
            )
        })
}

fn ok<T: Serialize>(result: T) -> Response {
    axum::Json(ResultEnvelope { result }).into_response()
}

async fn external_numbers_info(State(sim): State<SimState>, headers: HeaderMap) -> Response {
    if let Err(r) = gate(&sim, &headers, "externalNumbersInfo").await {
        return r;
    }
    let account = sim.account();
    let numbers_list: Vec<ExternalNumber> = account
        .numbers
        .iter()
        .map(|n| ExternalNumber {
            number: n.number.clone(),
            kind: n.kind.clone(),
        })
        .collect();
    ok(ExternalNumbersInfo {
        total: numbers_list.len(),
        numbers_list,
    })
}

async fn workplaces_info(State(sim): State<SimState>, headers: HeaderMap) -> Response {
    if let Err(r) = gate(&sim, &headers, "workPlacesInfo").await {
        return r;
    }
    let account = sim.account();
    let workplaces_list: Vec<WorkplaceEntry> = account
        .workplaces
        .iter()
        .map(|w| WorkplaceEntry {
            workplace: w.workplace.clone(),
            name: w.name.clone(),
        })
        .collect();
    ok(WorkplacesInfo {
        total: workplaces_list.len(),
        workplaces_list,
    })
}

async fn terminals_info(State(sim): State<SimState>, headers: HeaderMap) -> Response {
    if let Err(r) = gate(&sim, &headers, "terminalsInfo").await {
        return r;
    }
    let account = sim.account();
    let terminals_list: Vec<TerminalEntry> = account
        .workplaces
        .iter()
        .flat_map(|w| {
            w.terminals.iter().map(|t| TerminalEntry {
                terminal: t.clone(),
                workplace: w.workplace.clone(),
            })
        })
        .collect();
    ok(TerminalsInfo {
        total: terminals_list.len(),
        terminals_list,
    })
}

async fn make_call(
    State(sim): State<SimState>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    if let Err(r) = gate(&sim, &headers, "makeCall").await {
        return r;
    }
    let result = params::<MakeCallParams>(&body).and_then(|p| {
        pbx::make_call(
            &sim,
            &p.caller_id,
            &p.callee_id,
            pbx::CallPlan::from_timings(&sim.timings()),
        )
    });
    match result {
        Ok(started) => ok(MakeCallResult {
            call: CallRef {
                id: started.answer_id,
                tag: None,
            },
            success: 1,
        }),
        Err(e) => e.into_response(),
    }
}

async fn terminate_call(
    State(sim): State<SimState>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let received_at = chrono::Utc::now();
    let answer = terminate_call_inner(&sim, &headers, &body).await;
    note_leg_request(&sim, "terminateCall", received_at, &body, &answer);
    answer
}

async fn terminate_call_inner(sim: &SimState, headers: &HeaderMap, body: &[u8]) -> Response {
    if let Err(r) = gate(sim, headers, "terminateCall").await {
        return r;
    }
    let p = match params::<TerminateCallParams>(body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    match pbx::leg_command(sim, &p.call, &p.transport_id, LegCommand::Terminate).await {
        Ok(()) => ok(Success { success: 1 }),
        Err(e) => e.into_response(),
    }
}

async fn transfer_call(
    State(sim): State<SimState>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let received_at = chrono::Utc::now();
    let answer = transfer_call_inner(&sim, &headers, &body).await;
    note_leg_request(&sim, "transferCall", received_at, &body, &answer);
    answer
}

async fn transfer_call_inner(sim: &SimState, headers: &HeaderMap, body: &[u8]) -> Response {
    if let Err(r) = gate(sim, headers, "transferCall").await {
        return r;
    }
    let p = match params::<TransferCallParams>(body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let target = match Target::resolve(sim, &p.callee_id) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    match pbx::leg_command(sim, &p.call, &p.transport_id, LegCommand::Transfer(target)).await {
        Ok(()) => ok(Success { success: 1 }),
        Err(e) => e.into_response(),
    }
}

/// Logs a terminateCall or transferCall request with the leg and callee its body named.
fn note_leg_request(
    sim: &SimState,
    method: &'static str,
    received_at: chrono::DateTime<chrono::Utc>,
    body: &[u8],
    answer: &Response,
) {
    let params = serde_json::from_slice::<serde_json::Value>(body).ok();
    let field = |path: &[&str]| {
        let mut v = params.as_ref()?.get("params")?;
        for key in path {
            v = v.get(key)?;
        }
        v.as_str().map(str::to_owned)
    };
    lock(&sim.0.leg_requests).note(
        method,
        received_at,
        field(&["call", "id"]),
        field(&["calleeId"]),
        answer.status().as_u16(),
    );
}

async fn set_parking_numbers(
    State(sim): State<SimState>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    if let Err(r) = gate(&sim, &headers, "setParkingNumbers").await {
        return r;
    }
    let p = match params::<SetParkingNumbersParams>(&body) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if p.numbers.is_empty() {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_params",
            "numbers must name at least one external number",
        )
        .into_response();
    }
    let mut account = lock(&sim.0.account);
    let foreign: Vec<&str> = p
        .numbers
        .iter()
        .filter(|n| !account.has_number(n))
        .map(String::as_str)
        .collect();
    if !foreign.is_empty() {
        return ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_number",
            format!(
                "not external numbers of this account: {}",
                foreign.join(", ")
            ),
        )
        .into_response();
    }
    for n in p.numbers {
        if p.is_parking {
            account.parked.insert(n);
        } else {
            account.parked.remove(&n);
        }
    }
    drop(account);
    // The document's example answers without the `result` wrapper.
    axum::Json(Success { success: 1 }).into_response()
}
