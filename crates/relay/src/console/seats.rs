//! `/admin/api/seats`: the seats with what the relay knows of each (app version, last seen,
//! presence, availability, console access); adding, editing, revoking, inviting, and a seat's
//! console password. The changes are the CLI's (`seats.rs`, the team store), audited.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use team_api::{Availability, JoinLink, Presence, Role};

use super::session::Caller;
use super::{ConsoleError, ConsoleJson, audit, password};
use crate::seats::{DEFAULT_INVITE_LIFE, InviteCode, validate_seat};
use crate::state::RelayState;
use crate::store::audit::Outcome;
use crate::store::team::{NewSeat, SeatRecord, SeatRef};

/// `ConsoleSeat` of the contract.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ConsoleSeat.ts")]
pub struct ConsoleSeat {
    id: i64,
    name: String,
    workplace: String,
    role: Role,
    #[ts(type = "string")]
    created_at: DateTime<Utc>,
    #[ts(type = "string | null")]
    revoked_at: Option<DateTime<Utc>>,
    #[ts(type = "string | null")]
    joined_at: Option<DateTime<Utc>>,
    #[ts(type = "string | null")]
    invite_expires_at: Option<DateTime<Utc>>,
    app_version: Option<String>,
    #[ts(type = "string | null")]
    last_seen_at: Option<DateTime<Utc>>,
    presence: Presence,
    availability: Availability,
    console_access: bool,
}

/// `ConsoleInvite` of the contract.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ConsoleInvite.ts")]
pub struct ConsoleInvite {
    code: String,
    link: String,
    #[ts(type = "string")]
    expires_at: DateTime<Utc>,
}

/// The seat form: `{ name, workplace, role }`.
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export_to = "ConsoleSeatDraft.ts")]
pub struct ConsoleSeatDraft {
    name: String,
    workplace: String,
    role: String,
}

/// `POST /admin/api/seats/{id}/revoke`'s body.
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export_to = "ConsoleRevoke.ts")]
pub struct ConsoleRevoke {
    delete_local_data: bool,
}

/// `PUT /admin/api/seats/{id}/console-password`'s body.
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export_to = "ConsolePassword.ts")]
pub struct ConsolePassword {
    password: String,
}

/// `GET /admin/api/seats`.
#[derive(Debug, Serialize, ts_rs::TS)]
#[ts(export_to = "ConsoleSeats.ts")]
pub struct ConsoleSeats {
    seats: Vec<ConsoleSeat>,
}

/// `POST /admin/api/seats`: the new seat and its first invite.
#[derive(Debug, Serialize, ts_rs::TS)]
#[ts(export_to = "ConsoleSeatAdded.ts")]
pub struct ConsoleSeatAdded {
    seat: ConsoleSeat,
    invite: ConsoleInvite,
}

/// `PUT /admin/api/seats/{id}` and `POST /admin/api/seats/{id}/revoke`: the seat as it is now.
#[derive(Debug, Serialize, ts_rs::TS)]
#[ts(export_to = "ConsoleSeatChanged.ts")]
pub struct ConsoleSeatChanged {
    seat: ConsoleSeat,
}

/// `POST /admin/api/seats/{id}/invite`.
#[derive(Debug, Serialize, ts_rs::TS)]
#[ts(export_to = "ConsoleNewInvite.ts")]
pub struct ConsoleNewInvite {
    invite: ConsoleInvite,
}

impl ConsoleSeatDraft {
    fn checked(&self) -> Result<NewSeat, ConsoleError> {
        let role = Role::parse(self.role.trim())
            .ok_or_else(|| ConsoleError::field("role", "operator, supervisor or admin"))?;
        let seat = NewSeat {
            name: self.name.trim().to_owned(),
            workplace: self.workplace.trim().to_owned(),
            role,
        };
        validate_seat(&seat)?;
        Ok(seat)
    }
}

/// Every seat as the console shows it: active ones first, revoked ones last.
async fn console_seats(state: &RelayState) -> Result<Vec<ConsoleSeat>, ConsoleError> {
    let seats = state.team.seats().await?;
    let seen = state.console_store.seats_seen().await?;
    let accounts = state.console_store.console_accounts().await?;
    let mut shown: Vec<ConsoleSeat> = seats
        .into_iter()
        .map(|seat| {
            let id = seat.profile.id;
            let seen = seen.iter().find(|seen| seen.seat == id);
            let has_account = accounts.iter().any(|account| account.seat == id);
            shown_seat(state, seat, seen, has_account)
        })
        .collect();
    shown.sort_by_key(|seat| (seat.revoked_at.is_some(), seat.id));
    Ok(shown)
}

fn shown_seat(
    state: &RelayState,
    seat: SeatRecord,
    seen: Option<&crate::store::console::SeatSeen>,
    has_account: bool,
) -> ConsoleSeat {
    let profile = seat.profile;
    let console_access = has_account
        && seat.revoked_at.is_none()
        && matches!(profile.role, Role::Admin | Role::Supervisor);
    let online = state.availability.availability(profile.id) != Availability::Offline;
    ConsoleSeat {
        presence: state
            .calls
            .presence_of(&profile.workplace)
            .unwrap_or(Presence::Free),
        availability: state.availability.availability(profile.id),
        app_version: seen.and_then(|seen| seen.app_version.clone()),
        // While a stream of the seat is open it is seen now.
        last_seen_at: if online && seat.revoked_at.is_none() {
            Some(Utc::now())
        } else {
            seen.map(|seen| seen.last_seen_at)
        },
        id: profile.id,
        name: profile.name,
        workplace: profile.workplace,
        role: profile.role,
        created_at: seat.created_at,
        revoked_at: seat.revoked_at,
        joined_at: seat.joined_at,
        invite_expires_at: seat.invite_expires_at,
        console_access,
    }
}

async fn one_seat(state: &RelayState, id: i64) -> Result<ConsoleSeat, ConsoleError> {
    console_seats(state)
        .await?
        .into_iter()
        .find(|seat| seat.id == id)
        .ok_or_else(|| ConsoleError::not_found("seat"))
}

/// `GET /admin/api/seats` (supervisors too).
pub(crate) async fn list(
    State(state): State<RelayState>,
) -> Result<Json<ConsoleSeats>, ConsoleError> {
    let seats = console_seats(&state).await?;
    Ok(Json(ConsoleSeats { seats }))
}

/// `POST /admin/api/seats`: the seat and its first invite.
pub(crate) async fn add(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    ConsoleJson(draft): ConsoleJson<ConsoleSeatDraft>,
) -> Result<Response, ConsoleError> {
    caller.admin()?;
    let seat = draft.checked()?;
    // The invite's link needs the public URL: refused before the seat is made, so that
    // nothing is half-done.
    let server = public_url(&state)?;
    let added = state.team.add_seat(seat).await?;
    let id = added.profile.id;
    state.calls.add_workplace(&added.profile.workplace);
    audit(
        &state,
        &caller,
        "seat.add",
        id.to_string(),
        Outcome::Done,
        format!(
            "{} ({}, workplace {})",
            added.profile.name, added.profile.role, added.profile.workplace
        ),
    )
    .await;
    let invite = make_invite(&state, &caller, id, &server).await?;
    let seat = one_seat(&state, id).await?;
    Ok((StatusCode::CREATED, Json(ConsoleSeatAdded { seat, invite })).into_response())
}

/// `PUT /admin/api/seats/{id}`.
pub(crate) async fn edit(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ConsoleJson(draft): ConsoleJson<ConsoleSeatDraft>,
) -> Result<Json<ConsoleSeatChanged>, ConsoleError> {
    caller.admin()?;
    let seat = draft.checked()?;
    if id == caller.seat && seat.role != Role::Admin {
        return Err(ConsoleError::field(
            "role",
            "you cannot take your own admin role away (another admin can)",
        ));
    }
    let edited = state.team.edit_seat(id, seat).await?;
    state.calls.add_workplace(&edited.profile.workplace);
    audit(
        &state,
        &caller,
        "seat.edit",
        id.to_string(),
        Outcome::Done,
        format!(
            "{} ({}, workplace {})",
            edited.profile.name, edited.profile.role, edited.profile.workplace
        ),
    )
    .await;
    let seat = one_seat(&state, id).await?;
    Ok(Json(ConsoleSeatChanged { seat }))
}

/// `POST /admin/api/seats/{id}/revoke`: its streams close now; its console sessions end.
pub(crate) async fn revoke(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ConsoleJson(request): ConsoleJson<ConsoleRevoke>,
) -> Result<Json<ConsoleSeatChanged>, ConsoleError> {
    caller.admin()?;
    if id == caller.seat {
        return Err(ConsoleError::conflict(
            "you cannot revoke your own seat from the console",
        ));
    }
    let revoked = state
        .team
        .revoke_seat_asking(SeatRef::Id(id), request.delete_local_data)
        .await?;
    state.console_store.remove_console_sessions_of(id).await?;
    // The running relay cuts the seat's streams now rather than at its next key check.
    if let Err(err) = state.access.refresh().await {
        tracing::warn!(error = %err, "the seats could not be reloaded after a revocation");
    }
    audit(
        &state,
        &caller,
        "seat.revoke",
        id.to_string(),
        Outcome::Done,
        format!(
            "{}{}",
            revoked.profile.name,
            if request.delete_local_data {
                " (its app asked to delete the team's data)"
            } else {
                ""
            }
        ),
    )
    .await;
    let seat = one_seat(&state, id).await?;
    Ok(Json(ConsoleSeatChanged { seat }))
}

/// `POST /admin/api/seats/{id}/invite`: a new invite replaces the old one.
pub(crate) async fn invite(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<Json<ConsoleNewInvite>, ConsoleError> {
    caller.admin()?;
    let server = public_url(&state)?;
    let invite = make_invite(&state, &caller, id, &server).await?;
    Ok(Json(ConsoleNewInvite { invite }))
}

fn public_url(state: &RelayState) -> Result<String, ConsoleError> {
    state.config.public_url.clone().ok_or_else(|| {
        ConsoleError::field(
            "publicUrl",
            "an invite's link needs the relay's public address: set public_url in its configuration",
        )
    })
}

async fn make_invite(
    state: &RelayState,
    caller: &Caller,
    id: i64,
    server: &str,
) -> Result<ConsoleInvite, ConsoleError> {
    let code = InviteCode::generate()?;
    let link = JoinLink::new(server, &code.expose_secret())
        .map_err(|err| ConsoleError::field("publicUrl", err.to_string()))?;
    let expires_at =
        Utc::now() + TimeDelta::from_std(DEFAULT_INVITE_LIFE).unwrap_or(TimeDelta::hours(72));
    state
        .team
        .add_invite(SeatRef::Id(id), code.hash(), expires_at)
        .await?;
    audit(
        state,
        caller,
        "seat.invite",
        id.to_string(),
        Outcome::Done,
        format!("expires {expires_at}"),
    )
    .await;
    Ok(ConsoleInvite {
        code: code.expose_secret(),
        link: link.to_string(),
        expires_at,
    })
}

/// `PUT /admin/api/seats/{id}/console-password`: the seat (an admin or supervisor) may sign in
/// to the console with it; its other sessions end.
pub(crate) async fn set_password(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ConsoleJson(request): ConsoleJson<ConsolePassword>,
) -> Result<StatusCode, ConsoleError> {
    caller.admin()?;
    password::check_new(&request.password).map_err(|why| ConsoleError::field("password", why))?;
    let seats = state.team.seats().await?;
    let seat = seats
        .into_iter()
        .find(|seat| seat.profile.id == id)
        .ok_or_else(|| ConsoleError::not_found("seat"))?;
    if seat.revoked_at.is_some() {
        return Err(ConsoleError::conflict(format!("seat {id} is revoked")));
    }
    if !matches!(seat.profile.role, Role::Admin | Role::Supervisor) {
        return Err(ConsoleError::field(
            "password",
            "only an admin's or a supervisor's seat gets a console password",
        ));
    }
    let hash = password::hash(request.password).await?;
    state.console_store.set_console_password(id, hash).await?;
    if id != caller.seat {
        state.console_store.remove_console_sessions_of(id).await?;
    }
    audit(
        &state,
        &caller,
        "console.password",
        id.to_string(),
        Outcome::Done,
        seat.profile.name,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
