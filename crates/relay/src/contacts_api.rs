//! The team phonebook's seat API: `GET /team/contacts?since=N` for any seat;
//! `POST /team/contacts`, `PUT` and `DELETE /team/contacts/{id}` for supervisors and admins
//! (endpoints and bodies in `team_api::phonebook`). A draft passes the same check as the app's
//! own contacts (`phonebook::NewContact::validate`) before anything is stored; every change,
//! and every refused one, goes to the audit log with the contact as written; each stored
//! change wakes [`crate::team_phonebook`], which announces it on the stream.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use phonebook::{NewContact, ValidContact};
use team_api::{
    ActionDone, CONTACTS_PAGE_MAX, ContactSaved, Role, SeatProfile, TeamContact, TeamContactDraft,
    TeamErrorCode,
};

use crate::seat_api::{audit, caller, read, refuse};
use crate::seat_rules::Refusal;
use crate::state::RelayState;
use crate::team_routes::refusal;

/// The most numbers one contact holds.
pub const NUMBERS_PER_CONTACT: usize = 20;

fn bad_input(message: &str) -> Response {
    refusal(StatusCode::BAD_REQUEST, TeamErrorCode::BadRequest, message)
}

fn unavailable(err: &crate::RelayError) -> Response {
    tracing::error!(error = %err, "the team phonebook could not be used");
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        TeamErrorCode::Unavailable,
        "the team phonebook cannot be read or written now",
    )
}

/// Only supervisors and admins change the team phonebook.
fn may_edit(seat: &SeatProfile) -> Result<(), Refusal> {
    match seat.role {
        Role::Admin | Role::Supervisor => Ok(()),
        Role::Operator => Err(Refusal::new(
            StatusCode::FORBIDDEN,
            TeamErrorCode::RoleRequired,
            "only a supervisor or an admin changes the team phonebook; operators keep their own contacts in the app",
        )),
    }
}

fn unknown(id: i64) -> Refusal {
    Refusal::new(
        StatusCode::NOT_FOUND,
        TeamErrorCode::ContactUnknown,
        format!("the team phonebook has no contact {id}"),
    )
}

/// A draft checked as every contact is; the error names what was wrong.
pub(crate) fn checked(draft: TeamContactDraft) -> Result<ValidContact, String> {
    if draft.numbers.len() > NUMBERS_PER_CONTACT {
        return Err(format!(
            "a contact holds at most {NUMBERS_PER_CONTACT} numbers; this one has {}",
            draft.numbers.len()
        ));
    }
    NewContact {
        name: draft.name,
        company: draft.company,
        numbers: draft.numbers,
        manager_sip_id: draft.manager,
        notes: draft.notes,
    }
    .validate()
    .map_err(|err| format!("the contact is not valid: {err}"))
}

fn contact_id(text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("{text:?} is not a contact's number"))
}

/// What the audit log keeps of a contact: all of it, as JSON.
fn written(contact: &TeamContact) -> String {
    serde_json::to_string(contact).unwrap_or_else(|_| contact.name.clone())
}

/// `GET /team/contacts?since=N&limit=M`.
pub(crate) async fn changes(
    State(state): State<RelayState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(response) = caller(&state, &headers).await {
        return response;
    }
    let (mut since, mut limit) = (0_i64, CONTACTS_PAGE_MAX);
    for pair in query.as_deref().unwrap_or_default().split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "" => {}
            "since" => match value.parse::<i64>() {
                Ok(value) if value >= 0 => since = value,
                _ => return bad_input(&format!("since={value:?} is not a phonebook version")),
            },
            "limit" => match value.parse::<usize>() {
                Ok(value) if (1..=CONTACTS_PAGE_MAX).contains(&value) => limit = value,
                _ => {
                    return bad_input(&format!(
                        "limit={value:?} is not between 1 and {CONTACTS_PAGE_MAX}"
                    ));
                }
            },
            other => return bad_input(&format!("{other:?} is not a parameter of this endpoint")),
        }
    }
    match state.phonebook.store().contact_changes(since, limit).await {
        Ok(changes) => Json(changes).into_response(),
        Err(err) => unavailable(&err),
    }
}

/// `POST /team/contacts`.
pub(crate) async fn add(
    State(state): State<RelayState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let draft: TeamContactDraft = match read(body).await {
        Ok(draft) => draft,
        Err(response) => return response,
    };
    let seat = &caller.seat;
    let target = format!("new contact {:?}", draft.name);
    if let Err(refused) = may_edit(seat) {
        return refuse(&state, seat, "contact_add", target, refused).await;
    }
    let contact = match checked(draft) {
        Ok(contact) => contact,
        Err(message) => return bad_input(&message),
    };
    let contact = match state.phonebook.store().add_contact(contact).await {
        Ok(contact) => contact,
        Err(err) => return unavailable(&err),
    };
    state.phonebook.changed();
    let target = format!("contact {}", contact.id);
    let audit_id = audit(&state, seat, "contact_add", target, Ok(written(&contact))).await;
    Json(ContactSaved { contact, audit_id }).into_response()
}

/// `PUT /team/contacts/{id}`.
pub(crate) async fn edit(
    State(state): State<RelayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let id = match contact_id(&id) {
        Ok(id) => id,
        Err(message) => return bad_input(&message),
    };
    let draft: TeamContactDraft = match read(body).await {
        Ok(draft) => draft,
        Err(response) => return response,
    };
    let seat = &caller.seat;
    let target = format!("contact {id}");
    if let Err(refused) = may_edit(seat) {
        return refuse(&state, seat, "contact_edit", target, refused).await;
    }
    let contact = match checked(draft) {
        Ok(contact) => contact,
        Err(message) => return bad_input(&message),
    };
    match state.phonebook.store().update_contact(id, contact).await {
        Ok(Some(contact)) => {
            state.phonebook.changed();
            let audit_id = audit(&state, seat, "contact_edit", target, Ok(written(&contact))).await;
            Json(ContactSaved { contact, audit_id }).into_response()
        }
        Ok(None) => refuse(&state, seat, "contact_edit", target, unknown(id)).await,
        Err(err) => unavailable(&err),
    }
}

/// `DELETE /team/contacts/{id}`.
pub(crate) async fn delete(
    State(state): State<RelayState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let id = match contact_id(&id) {
        Ok(id) => id,
        Err(message) => return bad_input(&message),
    };
    let seat = &caller.seat;
    let target = format!("contact {id}");
    if let Err(refused) = may_edit(seat) {
        return refuse(&state, seat, "contact_delete", target, refused).await;
    }
    match state.phonebook.store().delete_contact(id).await {
        Ok(Some(was)) => {
            state.phonebook.changed();
            let detail = format!("deleted {}", written(&was));
            let audit_id = audit(&state, seat, "contact_delete", target, Ok(detail)).await;
            Json(ActionDone { audit_id }).into_response()
        }
        Ok(None) => refuse(&state, seat, "contact_delete", target, unknown(id)).await,
        Err(err) => unavailable(&err),
    }
}
