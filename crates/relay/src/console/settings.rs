//! The team's settings for admins: routing (rules and journal), tags, and the team phonebook
//! with its import. Each reuses what `/team/*` and the CLI do (the router's `set`, the wrap-up
//! store's tags, the phonebook store and `contacts_file`), checks every field first, and is
//! audited.

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use team_api::wrapup::{TeamTags, tags_problem};
use team_api::{RoutingJournal, TeamContact, TeamContactDraft, TeamRouting};

use super::session::Caller;
use super::{ConsoleError, ConsoleJson, IMPORT_LIMIT, audit, read_body};
use crate::contacts_api::checked;
use crate::contacts_file::parse_file;
use crate::error::RelayError;
use crate::state::RelayState;
use crate::store::audit::Outcome;

fn routing_error(err: RelayError) -> ConsoleError {
    match err {
        RelayError::Routing(message) => ConsoleError::field("settings", message),
        RelayError::NotConnected => ConsoleError::conflict(
            "the relay holds no МТТ integration to apply parking with: connect it first",
        ),
        RelayError::Mtt { source, .. } => ConsoleError::new(
            StatusCode::BAD_GATEWAY,
            "conflict",
            format!("МТТ refused the parking change; nothing was saved: {source}"),
        ),
        other => ConsoleError::from(other),
    }
}

/// `GET /admin/api/routing`.
pub(crate) async fn routing(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<TeamRouting>, ConsoleError> {
    caller.admin()?;
    Ok(Json((*state.routing.routing()).clone()))
}

/// `PUT /admin/api/routing`.
pub(crate) async fn set_routing(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    ConsoleJson(routing): ConsoleJson<TeamRouting>,
) -> Result<Json<TeamRouting>, ConsoleError> {
    caller.admin()?;
    let saved = state.routing.set(routing).await.map_err(routing_error)?;
    let detail = serde_json::to_string(&saved).unwrap_or_default();
    audit(
        &state,
        &caller,
        "routing.set",
        "team".into(),
        Outcome::Done,
        detail,
    )
    .await;
    Ok(Json(saved))
}

/// `GET /admin/api/routing/journal?limit=`.
pub(crate) async fn journal(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
) -> Result<Json<RoutingJournal>, ConsoleError> {
    caller.admin()?;
    let mut limit = 100;
    for (name, value) in pairs(query.as_deref()) {
        match name.as_str() {
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=team_api::JOURNAL_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ConsoleError::field(
                            "limit",
                            format!("between 1 and {}", team_api::JOURNAL_LIMIT),
                        )
                    })?;
            }
            "before" => {}
            other => {
                return Err(ConsoleError::field(other, "not a parameter of the journal"));
            }
        }
    }
    let decisions = state.team.decisions(limit).await?;
    Ok(Json(RoutingJournal { decisions }))
}

/// A query string's `name=value` pairs, percent-decoded.
pub(crate) fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

/// One external number of the company and whether the relay parks its calls.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ConsoleParkingNumber.ts")]
pub struct ConsoleParkingNumber {
    number: String,
    parked: bool,
}

/// `PUT /admin/api/parking`'s body.
#[derive(Debug, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export_to = "ConsoleParkingChange.ts")]
pub struct ConsoleParkingChange {
    number: String,
    parked: bool,
}

/// `GET` and `PUT /admin/api/parking`'s answer.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
#[ts(export_to = "ConsoleParking.ts")]
pub struct ConsoleParking {
    numbers: Vec<ConsoleParkingNumber>,
}

/// `GET /admin/api/phonebook`: the team phonebook.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
#[ts(export_to = "ConsolePhonebook.ts")]
pub struct ConsolePhonebook {
    contacts: Vec<TeamContact>,
}

/// A contact added or edited, as stored.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
#[ts(export_to = "ConsoleContactSaved.ts")]
pub struct ConsoleContactSaved {
    contact: TeamContact,
}

/// `POST /admin/api/phonebook/import`'s answer: nothing is stored unless every line was read,
/// so `added` and `updated` are 0 whenever `skipped` names a line.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
#[ts(export_to = "ConsoleImportResult.ts")]
pub struct ConsoleImportResult {
    added: usize,
    updated: usize,
    skipped: Vec<ConsoleImportSkipped>,
}

/// A line of the file the import refused.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
#[ts(export_to = "ConsoleImportSkipped.ts")]
pub struct ConsoleImportSkipped {
    /// The line of the file it starts on (1-based).
    line: u64,
    /// What was wrong with it.
    reason: String,
}

/// The company's external numbers (the directory's, and any parked one it lacks), each with
/// whether it is parked.
async fn parking_list(state: &RelayState) -> Result<Json<ConsoleParking>, ConsoleError> {
    let directory = state
        .directory
        .get(&state.integration, &state.calls)
        .await
        .map_err(|err| {
            ConsoleError::conflict(format!(
                "the company's numbers could not be read from МТТ (is the integration connected?): {err}"
            ))
        })?;
    let parked = state.routing.routing().parked.clone();
    let mut numbers: Vec<ConsoleParkingNumber> = directory
        .numbers
        .iter()
        .map(|n| ConsoleParkingNumber {
            parked: parked.contains(&n.number),
            number: n.number.clone(),
        })
        .collect();
    for number in parked {
        if !numbers.iter().any(|n| n.number == number) {
            numbers.push(ConsoleParkingNumber {
                number,
                parked: true,
            });
        }
    }
    Ok(Json(ConsoleParking { numbers }))
}

/// `GET /admin/api/parking`.
pub(crate) async fn parking(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<ConsoleParking>, ConsoleError> {
    caller.admin()?;
    parking_list(&state).await
}

/// `PUT /admin/api/parking` `{ number, parked }`: at the PBX first, then in the team's routing
/// (as `PUT /team/parking` does); run to its end even if the page goes away.
pub(crate) async fn set_parking(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    ConsoleJson(change): ConsoleJson<ConsoleParkingChange>,
) -> Result<Json<ConsoleParking>, ConsoleError> {
    caller.admin()?;
    let number = change.number.trim().to_owned();
    if number.is_empty() || number.len() > 20 || !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(ConsoleError::field(
            "number",
            "an external number of the company, digits only",
        ));
    }
    let task_state = state.clone();
    let numbers = vec![number.clone()];
    let applied = tokio::spawn(async move {
        let pbx = task_state.integration.pbx_for_actions().await?;
        pbx.set_parking(&numbers, change.parked)
            .await
            .map_err(|source| RelayError::Mtt {
                what: "parking",
                source,
            })?;
        task_state
            .routing
            .parking_changed(&numbers, change.parked)
            .await
    })
    .await
    .map_err(|_| RelayError::StoreClosed)
    .and_then(|done| done);
    let what = format!("{} {number}", if change.parked { "park" } else { "unpark" });
    match applied {
        Ok(()) => {
            audit(
                &state,
                &caller,
                "parking.set",
                what,
                Outcome::Done,
                String::new(),
            )
            .await;
            parking_list(&state).await
        }
        Err(err) => {
            audit(
                &state,
                &caller,
                "parking.set",
                what,
                Outcome::Failed,
                err.to_string(),
            )
            .await;
            Err(routing_error(err))
        }
    }
}

/// `GET /admin/api/tags`.
pub(crate) async fn tags(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<TeamTags>, ConsoleError> {
    caller.admin()?;
    Ok(Json(state.wrapups.team_tags().await?))
}

/// `PUT /admin/api/tags`.
pub(crate) async fn set_tags(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    ConsoleJson(tags): ConsoleJson<TeamTags>,
) -> Result<Json<TeamTags>, ConsoleError> {
    caller.admin()?;
    if let Some(problem) = tags_problem(&tags.tags) {
        return Err(ConsoleError::field("tags", problem));
    }
    if tags.required && tags.tags.is_empty() {
        return Err(ConsoleError::field(
            "required",
            "a required tag needs a list of tags to choose from",
        ));
    }
    let detail = format!(
        "tags: {}; required: {}",
        tags.tags.join(", "),
        tags.required
    );
    state.wrapups.set_team_tags(tags.clone()).await?;
    audit(
        &state,
        &caller,
        "tags.set",
        "team".into(),
        Outcome::Done,
        detail,
    )
    .await;
    Ok(Json(tags))
}

/// `GET /admin/api/phonebook`.
pub(crate) async fn contacts(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<ConsolePhonebook>, ConsoleError> {
    caller.admin()?;
    let contacts = state.phonebook.store().team_contacts().await?;
    Ok(Json(ConsolePhonebook { contacts }))
}

fn valid(draft: TeamContactDraft) -> Result<phonebook::ValidContact, ConsoleError> {
    checked(draft).map_err(|message| {
        let field = if message.contains("number") {
            "numbers"
        } else if message.contains("manager") {
            "manager"
        } else {
            "name"
        };
        ConsoleError::field(field, message)
    })
}

/// `POST /admin/api/phonebook`.
pub(crate) async fn add_contact(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    ConsoleJson(draft): ConsoleJson<TeamContactDraft>,
) -> Result<Response, ConsoleError> {
    caller.admin()?;
    let contact = state.phonebook.store().add_contact(valid(draft)?).await?;
    state.phonebook.changed();
    let detail = serde_json::to_string(&contact).unwrap_or_default();
    let target = format!("contact {}", contact.id);
    audit(
        &state,
        &caller,
        "phonebook.add",
        target,
        Outcome::Done,
        detail,
    )
    .await;
    Ok((StatusCode::CREATED, Json(ConsoleContactSaved { contact })).into_response())
}

/// `PUT /admin/api/phonebook/{id}`.
pub(crate) async fn edit_contact(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    ConsoleJson(draft): ConsoleJson<TeamContactDraft>,
) -> Result<Json<ConsoleContactSaved>, ConsoleError> {
    caller.admin()?;
    let contact = valid(draft)?;
    let Some(contact) = state.phonebook.store().update_contact(id, contact).await? else {
        return Err(ConsoleError::not_found("contact"));
    };
    state.phonebook.changed();
    let detail = serde_json::to_string(&contact).unwrap_or_default();
    let target = format!("contact {id}");
    audit(
        &state,
        &caller,
        "phonebook.edit",
        target,
        Outcome::Done,
        detail,
    )
    .await;
    Ok(Json(ConsoleContactSaved { contact }))
}

/// `DELETE /admin/api/phonebook/{id}`.
pub(crate) async fn delete_contact(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ConsoleError> {
    caller.admin()?;
    let Some(was) = state.phonebook.store().delete_contact(id).await? else {
        return Err(ConsoleError::not_found("contact"));
    };
    state.phonebook.changed();
    let detail = serde_json::to_string(&was).unwrap_or_default();
    let target = format!("contact {id}");
    audit(
        &state,
        &caller,
        "phonebook.delete",
        target,
        Outcome::Done,
        detail,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /admin/api/phonebook/import?format=csv|vcard`: the file as the body (≤ 5 MB), all
/// or nothing as the CLI imports without `--skip-bad-rows`.
pub(crate) async fn import(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Json<ConsoleImportResult>, ConsoleError> {
    caller.admin()?;
    let mut format = None;
    for (name, value) in pairs(query.as_deref()) {
        match (name.as_str(), value.as_str()) {
            ("format", "csv") => format = Some("import.csv"),
            ("format", "vcard") => format = Some("import.vcf"),
            ("format", _) => return Err(ConsoleError::field("format", "csv or vcard")),
            (other, _) => {
                return Err(ConsoleError::field(other, "not a parameter of the import"));
            }
        }
    }
    let Some(name) = format else {
        return Err(ConsoleError::field("format", "csv or vcard"));
    };
    let data = read_body(request, IMPORT_LIMIT).await?;
    let parsed = parse_file(std::path::Path::new(name), &data);
    let report = state
        .phonebook
        .store()
        .import_contacts(parsed, true)
        .await?;
    if report.stored {
        state.phonebook.changed();
    }
    let skipped: Vec<_> = report
        .problems
        .iter()
        .map(|problem| ConsoleImportSkipped {
            line: problem.line,
            reason: problem.message.clone(),
        })
        .collect();
    let outcome = if report.stored {
        Outcome::Done
    } else {
        Outcome::Refused
    };
    let detail = format!(
        "{} added, {} updated, {} lines refused",
        report.added,
        report.updated,
        report.problems.len()
    );
    audit(
        &state,
        &caller,
        "phonebook.import",
        "team".into(),
        outcome,
        detail,
    )
    .await;
    let (added, updated) = if report.stored {
        (report.added, report.updated)
    } else {
        (0, 0)
    };
    Ok(Json(ConsoleImportResult {
        added,
        updated,
        skipped,
    }))
}
