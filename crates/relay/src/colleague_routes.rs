//! The seat API's colleagues and availability (`team-api`'s `colleagues` module):
//! `GET /team/colleagues` and `PUT /team/availability`. Setting one's availability is no PBX
//! action, so it is not audited; an operator naming another seat is refused before anything
//! changes.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use team_api::{AvailabilityRequest, Colleague, Colleagues, Presence, Role, TeamErrorCode};

use crate::seat_api::{caller, read};
use crate::state::RelayState;
use crate::team_routes::refusal;

fn store_trouble(err: &crate::RelayError) -> Response {
    tracing::error!(error = %err, "the team's store could not be read or written");
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        TeamErrorCode::Unavailable,
        "the relay's store is unavailable; try again shortly",
    )
}

/// `GET /team/colleagues`.
pub(crate) async fn colleagues(State(state): State<RelayState>, headers: HeaderMap) -> Response {
    if let Err(response) = caller(&state, &headers).await {
        return response;
    }
    let seats = match state.team.seats().await {
        Ok(seats) => seats,
        Err(err) => return store_trouble(&err),
    };
    let presence: std::collections::HashMap<String, Presence> = state
        .calls
        .presence()
        .into_iter()
        .map(|w| (w.workplace, w.presence))
        .collect();
    let colleagues = seats
        .into_iter()
        .filter(|seat| seat.revoked_at.is_none())
        .map(|seat| {
            let profile = seat.profile;
            Colleague {
                presence: presence
                    .get(&profile.workplace)
                    .copied()
                    .unwrap_or(Presence::Free),
                availability: state.availability.availability(profile.id),
                seat: profile.id,
                name: profile.name,
                workplace: profile.workplace,
                role: profile.role,
            }
        })
        .collect();
    Json(Colleagues { colleagues }).into_response()
}

/// `PUT /team/availability`.
pub(crate) async fn set_availability(
    State(state): State<RelayState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let request: AvailabilityRequest = match read(body).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let me = &caller.seat;
    if !request.availability.is_settable() {
        return refusal(
            StatusCode::BAD_REQUEST,
            TeamErrorCode::BadRequest,
            "offline is what colleagues see while the app is away; set available, break or away",
        );
    }
    let seat = request.seat.unwrap_or(me.id);
    let workplace = if seat == me.id {
        me.workplace.clone()
    } else {
        if me.role == Role::Operator {
            return refusal(
                StatusCode::FORBIDDEN,
                TeamErrorCode::RoleRequired,
                "an operator sets only their own availability; a supervisor or an admin may set a colleague's",
            );
        }
        let seats = match state.team.seats().await {
            Ok(seats) => seats,
            Err(err) => return store_trouble(&err),
        };
        match seats
            .into_iter()
            .find(|s| s.profile.id == seat && s.revoked_at.is_none())
        {
            Some(other) => other.profile.workplace,
            None => {
                return refusal(
                    StatusCode::NOT_FOUND,
                    TeamErrorCode::BadRequest,
                    &format!("the team has no active seat {seat}"),
                );
            }
        }
    };
    match state
        .availability
        .set(&state.team, seat, &workplace, request.availability)
        .await
    {
        Ok(answer) => Json(answer).into_response(),
        Err(err) => store_trouble(&err),
    }
}
