//! The seat API's routing routes, for admins: `GET`/`PUT /team/routing` (the team's rules and
//! parked numbers) and `GET /team/routing/journal` (the latest decisions). Other seats are
//! refused with 403 `role_required`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use team_api::{JournalQuery, Role, RoutingJournal, TeamErrorCode, TeamRouting};

use crate::error::RelayError;
use crate::seat_api::{Caller, caller, read};
use crate::state::RelayState;
use crate::team_routes::refusal;

/// The admin behind the request, or the refusal to answer.
async fn admin(state: &RelayState, headers: &HeaderMap) -> Result<Caller, Response> {
    let caller = caller(state, headers).await?;
    if caller.seat.role != Role::Admin {
        return Err(refusal(
            StatusCode::FORBIDDEN,
            TeamErrorCode::RoleRequired,
            &format!(
                "only an admin reads or changes the team's routing; this seat is a {}",
                caller.seat.role
            ),
        ));
    }
    Ok(caller)
}

fn failed(err: &RelayError) -> Response {
    match err {
        RelayError::Routing(message) => {
            refusal(StatusCode::BAD_REQUEST, TeamErrorCode::BadRequest, message)
        }
        RelayError::NotConnected => refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            TeamErrorCode::NotConnected,
            "the relay holds no МТТ integration to apply parking with; the admin must connect it (`trubka-relay team connect`)",
        ),
        RelayError::Mtt { source, .. } => refusal(
            StatusCode::BAD_GATEWAY,
            TeamErrorCode::PbxRefused,
            &format!("parking could not be applied, nothing was saved: {source}"),
        ),
        other => {
            tracing::error!(error = %other, "the team's routing could not be read or saved");
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                TeamErrorCode::Unavailable,
                "the relay's store is not available; try again",
            )
        }
    }
}

/// `GET /team/routing`.
pub(crate) async fn routing(State(state): State<RelayState>, headers: HeaderMap) -> Response {
    if let Err(response) = admin(&state, &headers).await {
        return response;
    }
    Json((*state.routing.routing()).clone()).into_response()
}

/// `PUT /team/routing`.
pub(crate) async fn set_routing(
    State(state): State<RelayState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(response) = admin(&state, &headers).await {
        return response;
    }
    let routing: TeamRouting = match read(body).await {
        Ok(routing) => routing,
        Err(response) => return response,
    };
    match state.routing.set(routing).await {
        Ok(saved) => Json(saved).into_response(),
        Err(err) => failed(&err),
    }
}

/// `GET /team/routing/journal`.
pub(crate) async fn journal(
    State(state): State<RelayState>,
    headers: HeaderMap,
    query: axum::extract::Query<JournalQuery>,
) -> Response {
    if let Err(response) = admin(&state, &headers).await {
        return response;
    }
    let limit = query.limit.unwrap_or(100).clamp(1, team_api::JOURNAL_LIMIT);
    match state.team.decisions(limit).await {
        Ok(decisions) => Json(RoutingJournal { decisions }).into_response(),
        Err(err) => failed(&err),
    }
}
