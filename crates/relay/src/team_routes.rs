//! The team's routes: `POST /team/join` (an invite code for a seat credential),
//! `GET /team/me` (the seat's profile) and `GET /readyz` (the integration's state). Every
//! refusal is a `team-api` [`ErrorBody`] `{code, message}`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use team_api::{ErrorBody, IntegrationState, JoinAnswer, JoinRequest, TeamErrorCode};

use crate::access::{Denied, Holder};
use crate::metrics::RejectReason;
use crate::seats::{InviteCode, credential_hash, new_credential};
use crate::state::RelayState;
use crate::store::team::Redeemed;

/// The largest join body taken: a code is 29 characters.
pub(crate) const JOIN_BODY_LIMIT: usize = 4096;

pub(crate) fn refusal(status: StatusCode, code: TeamErrorCode, message: &str) -> Response {
    refusal_body(status, ErrorBody::new(code, message))
}

fn refusal_body(status: StatusCode, body: ErrorBody) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"trubka-relay\""),
        );
    }
    response
}

/// The status, code and message for a refused credential; `None` for the caps, which the
/// stream answers itself.
/// The refusal answered for `refused`, when it is a seat's: `{code, message}`, and on a seat
/// revoked with `--delete-local-data` the wish (`deleteLocalData`).
pub(crate) fn denied_refusal(refused: &Denied) -> Option<Response> {
    let (status, code, message) = denied(refused)?;
    let wipe = matches!(
        refused,
        Denied::SeatRevoked {
            delete_local_data: true
        }
    );
    Some(refusal_body(
        status,
        ErrorBody::new(code, message).with_delete_local_data(wipe),
    ))
}

pub(crate) fn denied(denied: &Denied) -> Option<(StatusCode, TeamErrorCode, &'static str)> {
    Some(match denied {
        Denied::Unauthorized => (
            StatusCode::UNAUTHORIZED,
            TeamErrorCode::Unauthorized,
            "a valid seat credential or client key is required: Authorization: Bearer …",
        ),
        Denied::OtherRelay => (
            StatusCode::UNAUTHORIZED,
            TeamErrorCode::CredentialOfAnotherRelay,
            "this seat credential was issued by another team server; join this one with an invite",
        ),
        Denied::CredentialRevoked => (
            StatusCode::UNAUTHORIZED,
            TeamErrorCode::CredentialRevoked,
            "this seat credential was replaced by a newer join of the seat; ask the admin for an invite",
        ),
        Denied::SeatRevoked { .. } => (
            StatusCode::UNAUTHORIZED,
            TeamErrorCode::SeatRevoked,
            "this seat was revoked by the team's admin",
        ),
        Denied::ClientKeysRefused => (
            StatusCode::FORBIDDEN,
            TeamErrorCode::ClientKeysRefused,
            "this relay is a team server: join it with an invite (personal-mode client keys are refused unless the admin allows them)",
        ),
        Denied::StoreUnavailable(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            TeamErrorCode::Unavailable,
            "the relay's store is unavailable",
        ),
        Denied::KeyAtLimit { .. } | Denied::RelayAtLimit { .. } => return None,
    })
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| secret.trim().to_owned())
}

/// `POST /team/join` with `{"code": …}`: the seat's credential (shown this once) and profile.
/// Rate-limited (`join_attempts_per_minute`) and capped at [`JOIN_BODY_LIMIT`]; a refused join
/// stores nothing.
pub(crate) async fn join(State(state): State<RelayState>, body: Body) -> Response {
    let bad = |status, code, message: &str| {
        state.metrics.rejected(RejectReason::BadJoin);
        refusal(status, code, message)
    };
    if let Err(wait) = state.join_limit.take() {
        state.metrics.rejected(RejectReason::RateLimited);
        let mut response = refusal(
            StatusCode::TOO_MANY_REQUESTS,
            TeamErrorCode::RateLimited,
            "too many join attempts at this relay; try again shortly",
        );
        let secs = wait.as_secs().max(1).to_string();
        if let Ok(value) = HeaderValue::from_str(&secs) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let Ok(bytes) = axum::body::to_bytes(body, JOIN_BODY_LIMIT).await else {
        let mut response = bad(
            StatusCode::PAYLOAD_TOO_LARGE,
            TeamErrorCode::TooLarge,
            "a join request is a small JSON object: {\"code\": \"…\"}",
        );
        // The rest of the body is not read: the connection cannot be reused.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    };
    let request: JoinRequest = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(err) => {
            return bad(
                StatusCode::BAD_REQUEST,
                TeamErrorCode::BadRequest,
                &format!("a join request is {{\"code\": \"…\"}} and nothing else: {err}"),
            );
        }
    };
    let Some(code) = InviteCode::parse(&request.code) else {
        return bad(
            StatusCode::BAD_REQUEST,
            TeamErrorCode::InviteMalformed,
            "this is not an invite code: it is 25 letters and digits in five groups, as the admin's invite shows it",
        );
    };
    let unavailable = |err: crate::RelayError| {
        tracing::error!(error = %err, "a join could not be stored");
        refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            TeamErrorCode::Unavailable,
            "the relay's store is unavailable",
        )
    };
    let team = match state.team.team_id().await {
        Ok(team) => team,
        Err(err) => return unavailable(err),
    };
    let credential = match new_credential(team) {
        Ok(credential) => credential,
        Err(err) => return unavailable(err),
    };
    let redeemed = state
        .team
        .redeem_invite(
            code.hash(),
            credential_hash(credential.expose_secret()),
            Utc::now(),
        )
        .await;
    match redeemed {
        Ok(Redeemed::Joined(seat)) => {
            tracing::info!(seat = seat.id, "a seat joined the team");
            state.calls.add_workplace(&seat.workplace);
            let mut response = Json(JoinAnswer { credential, seat }).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Ok(Redeemed::Unknown) => bad(
            StatusCode::NOT_FOUND,
            TeamErrorCode::InviteUnknown,
            "no invite has this code at this relay; check the code, or ask the admin for a new invite",
        ),
        Ok(Redeemed::Expired) => bad(
            StatusCode::GONE,
            TeamErrorCode::InviteExpired,
            "this invite has expired; ask the admin for a new one",
        ),
        Ok(Redeemed::Used) => bad(
            StatusCode::GONE,
            TeamErrorCode::InviteUsed,
            "this invite was already used (or replaced by a newer one); ask the admin for a new one",
        ),
        Ok(Redeemed::SeatRevoked) => bad(
            StatusCode::GONE,
            TeamErrorCode::SeatRevoked,
            "the seat of this invite was revoked",
        ),
        Err(err) => unavailable(err),
    }
}

/// `GET /team/me` (Bearer seat credential): the seat's profile.
pub(crate) async fn me(State(state): State<RelayState>, headers: HeaderMap) -> Response {
    let Some(bearer) = bearer(&headers) else {
        state.metrics.rejected(RejectReason::Unauthorized);
        return refusal(
            StatusCode::UNAUTHORIZED,
            TeamErrorCode::Unauthorized,
            "a seat credential is required: Authorization: Bearer tks_…",
        );
    };
    match state.access.holder(&bearer).await {
        Ok(Holder::Seat(profile)) => Json(profile).into_response(),
        Ok(Holder::ClientKey) => refusal(
            StatusCode::FORBIDDEN,
            TeamErrorCode::Unauthorized,
            "a client key has no seat: join the team with an invite",
        ),
        Err(refused) => {
            if let Denied::StoreUnavailable(err) = &refused {
                tracing::error!(error = %err, "seats could not be read");
            } else {
                state.metrics.rejected(RejectReason::Unauthorized);
            }
            match denied_refusal(&refused) {
                Some(response) => response,
                None => refusal(
                    StatusCode::SERVICE_UNAVAILABLE,
                    TeamErrorCode::Unavailable,
                    "the relay is busy",
                ),
            }
        }
    }
}

/// `GET /readyz`: the integration's state as a `team-api` `TeamStatus`; 200 when the relay is
/// ready (connected, or not in team mode at all), 503 when its integration needs attention
/// (refresh failing, or team mode without tokens). `/healthz` stays a liveness check.
pub(crate) async fn readyz(State(state): State<RelayState>) -> Response {
    let status = state.integration.status();
    let ready = match status.integration {
        IntegrationState::Connected => true,
        IntegrationState::NotConnected => !status.team_mode,
        IntegrationState::RefreshFailing => false,
    };
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut response = (code, Json(status)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
