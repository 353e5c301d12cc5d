//! The team's wrap-ups over the seat API (issue #17, team mode; shapes in `team_api::wrapup`):
//! a seat saves its note and tags about a call (`PUT /team/wrapups`), reads what the team wrote
//! about one number (`GET /team/wrapups?number=`; only supervisors and admins may list the
//! whole team's), and reads the team's tags (`GET /team/tags`), which admins set
//! (`PUT /team/tags`). Every write goes to the audit log with who wrote what, and every kept
//! wrap-up to the stream as a `wrapup` event, which only supervisors and admins see
//! (`audience.rs`): their History shows a colleague's note and tags. Nothing here reaches the
//! PBX.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use team_api::wrapup::{
    NUMBER_NOTES_LIMIT, TeamTags, TeamWrapUps, WRAPUP_KIND, WrapUpEvent, WrapUpRequest,
    WrapUpSaved, tags_problem, wrapup_problem,
};
use team_api::{ActionDone, Role, TeamErrorCode};

use crate::seat_api::{audit, caller, read};
use crate::state::RelayState;
use crate::store::IncomingNotification;
use crate::store::wrapup::NewWrapUp;
use crate::team_routes::refusal;

/// The most wrap-ups a supervisor's list of the whole team answers.
const TEAM_LIST_LIMIT: usize = 200;

fn bad(message: &str) -> Response {
    refusal(StatusCode::BAD_REQUEST, TeamErrorCode::BadRequest, message)
}

fn unavailable(err: &crate::error::RelayError) -> Response {
    tracing::error!(error = %err, "the wrap-ups could not be read or written");
    refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        TeamErrorCode::Unavailable,
        "the relay cannot keep wrap-ups now",
    )
}

/// A number as the wrap-ups key it: its digits, a Russian number with its country code
/// (`8…` and ten national digits read as `7…`), as the app's call log keys it. `None` for
/// text that is no number.
pub fn number_key(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let plus = trimmed.starts_with('+');
    let body = trimmed.trim_start_matches('+');
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'))
    {
        return None;
    }
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    Some(match digits.len() {
        11 if !plus && digits.starts_with('8') => format!("7{}", &digits[1..]),
        10 if !plus && digits.starts_with('9') => format!("7{digits}"),
        _ => digits,
    })
}

/// Removes the wrap-ups older than `wrapup_retention` once (the retention task runs it).
pub async fn prune_old_wrapups(state: &RelayState) -> Result<u64, crate::error::RelayError> {
    let retention = chrono::TimeDelta::from_std(state.config.wrapup_retention)
        .unwrap_or(chrono::TimeDelta::MAX);
    let cutoff = Utc::now()
        .checked_sub_signed(retention)
        .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
    state.wrapups.prune_wrapups_before(cutoff).await
}

/// `PUT /team/wrapups`: keeps a seat's wrap-up of a call.
pub(crate) async fn save(
    State(state): State<RelayState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let request: WrapUpRequest = match read(body).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    let leg = request.leg_id.trim();
    if leg.is_empty() || leg.len() > 200 || leg.chars().any(char::is_control) {
        return bad("legId is not a call leg id");
    }
    let Some(number) = number_key(&request.number) else {
        return bad("number is not a phone number or SIP ID");
    };
    if let Some(problem) = wrapup_problem(&request.note, &request.tags) {
        return bad(&problem);
    }
    let team_tags = match state.wrapups.team_tags().await {
        Ok(tags) => tags,
        Err(err) => return unavailable(&err),
    };
    if team_tags.required
        && request.answered
        && !request
            .tags
            .iter()
            .any(|t| team_tags.tags.iter().any(|k| k.eq_ignore_ascii_case(t)))
    {
        return bad(&format!(
            "this team requires one of its tags on an answered call: {}",
            team_tags.tags.join(", ")
        ));
    }
    let seat = caller.seat;
    let wrapup = NewWrapUp {
        leg_id: leg.to_owned(),
        number: number.clone(),
        seat_id: seat.id,
        seat_name: seat.name.clone(),
        workplace: seat.workplace.clone(),
        note: request.note.clone(),
        tags: request.tags.clone(),
        saved_at: Utc::now(),
    };
    if let Err(err) = state.wrapups.save_wrapup(wrapup.clone()).await {
        return unavailable(&err);
    }
    add_to_stream(&state, wrapup).await;
    let detail = format!(
        "number {number}; tags: {}; note: {}",
        request.tags.join(", "),
        request.note
    );
    let audit_id = audit(&state, &seat, "wrapup", leg.to_owned(), Ok(detail)).await;
    Json(WrapUpSaved { audit_id }).into_response()
}

/// Adds a kept wrap-up to the stream (for supervisors and admins), before the seat is answered,
/// so a supervisor's app that resumes later finds it in the backlog. A failure is logged and
/// the save stands: the wrap-up is kept and listed by `GET /team/wrapups` all the same.
async fn add_to_stream(state: &RelayState, wrapup: NewWrapUp) {
    let event = WrapUpEvent {
        leg_id: wrapup.leg_id,
        number: wrapup.number,
        seat_id: wrapup.seat_id,
        seat_name: wrapup.seat_name,
        workplace: wrapup.workplace,
        note: wrapup.note,
        tags: wrapup.tags,
        saved_at: wrapup.saved_at,
    };
    let Ok(body) = serde_json::to_string(&event) else {
        return;
    };
    let Ok(notification) = IncomingNotification::new(WRAPUP_KIND.to_owned(), body) else {
        return;
    };
    if let Err(err) = state.store.append(notification).await {
        tracing::warn!(error = %err, leg = %event.leg_id, "a wrap-up could not be added to the stream");
    }
}

/// `GET /team/wrapups`'s query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WrapUpsQuery {
    number: Option<String>,
}

/// `GET /team/wrapups?number=`: what the team wrote about a number (an operator may ask only
/// this way); without a number, the whole team's latest (supervisors and admins).
pub(crate) async fn list(
    State(state): State<RelayState>,
    headers: HeaderMap,
    query: Result<Query<WrapUpsQuery>, QueryRejection>,
) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let Ok(Query(query)) = query else {
        return bad("the only parameter is number");
    };
    let (number, limit) = match query.number.as_deref() {
        Some(text) => match number_key(text) {
            Some(key) => (Some(key), NUMBER_NOTES_LIMIT),
            None => return bad("number is not a phone number or SIP ID"),
        },
        None if caller.seat.role == Role::Operator => {
            return refusal(
                StatusCode::FORBIDDEN,
                TeamErrorCode::RoleRequired,
                "an operator reads the wrap-ups of one number at a time (?number=)",
            );
        }
        None => (None, TEAM_LIST_LIMIT),
    };
    match state.wrapups.wrapups(number, limit).await {
        Ok(wrapups) => Json(TeamWrapUps { wrapups }).into_response(),
        Err(err) => unavailable(&err),
    }
}

/// `GET /team/tags`: the team's tags, for any seat.
pub(crate) async fn tags(State(state): State<RelayState>, headers: HeaderMap) -> Response {
    if let Err(response) = caller(&state, &headers).await {
        return response;
    }
    match state.wrapups.team_tags().await {
        Ok(tags) => Json(tags).into_response(),
        Err(err) => unavailable(&err),
    }
}

/// `PUT /team/tags`: an admin sets the team's tags.
pub(crate) async fn set_tags(
    State(state): State<RelayState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match caller(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    if caller.seat.role != Role::Admin {
        let message = format!(
            "only an admin changes the team's tags; this seat is a {}",
            caller.seat.role
        );
        return refusal(StatusCode::FORBIDDEN, TeamErrorCode::RoleRequired, &message);
    }
    let tags: TeamTags = match read(body).await {
        Ok(tags) => tags,
        Err(response) => return response,
    };
    if let Some(problem) = tags_problem(&tags.tags) {
        return bad(&problem);
    }
    if tags.required && tags.tags.is_empty() {
        return bad("a required tag needs a list of tags to choose from");
    }
    let detail = format!(
        "tags: {}; required: {}",
        tags.tags.join(", "),
        tags.required
    );
    if let Err(err) = state.wrapups.set_team_tags(tags).await {
        return unavailable(&err);
    }
    let audit_id = audit(&state, &caller.seat, "tags", "team".into(), Ok(detail)).await;
    Json(ActionDone { audit_id }).into_response()
}

#[cfg(test)]
mod tests {
    use super::number_key;

    #[test]
    fn numbers_are_keyed_as_the_apps_call_log_keys_them() {
        assert_eq!(
            number_key("8 (921) 946-27-61").as_deref(),
            Some("79219462761")
        );
        assert_eq!(number_key("+79219462761").as_deref(), Some("79219462761"));
        assert_eq!(number_key("9219462761").as_deref(), Some("79219462761"));
        assert_eq!(
            number_key("883140582526566").as_deref(),
            Some("883140582526566")
        );
        for bad in ["", "+", "abc", "7921x", "1234567890123456789012"] {
            assert_eq!(number_key(bad), None, "{bad}");
        }
    }
}
