//! `GET /admin/api/audit`: the audit log, newest first, filtered (admins and supervisors).

use axum::Json;
use axum::extract::{RawQuery, State};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ConsoleError;
use super::settings::pairs;
use crate::state::RelayState;
use crate::store::audit::{AuditQuery, Outcome};

/// The most entries one page holds.
const PAGE_MAX: usize = 500;

/// An audit entry as the console shows it.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ConsoleAuditEntry.ts")]
pub struct ConsoleAuditEntry {
    id: i64,
    #[ts(type = "string")]
    at: DateTime<Utc>,
    seat_id: i64,
    seat_name: String,
    action: String,
    target: String,
    #[ts(type = "\"done\" | \"refused\" | \"failed\"")]
    outcome: Outcome,
    detail: String,
}

/// A page of the audit log.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ConsoleAudit.ts")]
pub struct ConsoleAudit {
    entries: Vec<ConsoleAuditEntry>,
    more: bool,
}

#[derive(Debug, Default)]
struct Filter {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    seat: Option<i64>,
    action: Option<String>,
    outcome: Option<Outcome>,
    limit: usize,
    before: Option<i64>,
}

fn filter(query: Option<&str>) -> Result<Filter, ConsoleError> {
    let time = |field: &str, value: &str| {
        DateTime::parse_from_rfc3339(value)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| ConsoleError::field(field, "a time such as 2026-12-01T09:00:00Z"))
    };
    let number = |field: &str, value: &str| {
        value
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| ConsoleError::field(field, "a positive whole number"))
    };
    let mut filter = Filter {
        limit: 100,
        ..Filter::default()
    };
    for (name, value) in pairs(query) {
        if value.is_empty() {
            continue;
        }
        match name.as_str() {
            "from" => filter.from = Some(time("from", &value)?),
            "to" => filter.to = Some(time("to", &value)?),
            "seat" => filter.seat = Some(number("seat", &value)?),
            "action" => filter.action = Some(value),
            "outcome" => {
                filter.outcome =
                    Some(Outcome::parse(&value).ok_or_else(|| {
                        ConsoleError::field("outcome", "done, refused or failed")
                    })?);
            }
            "limit" => {
                filter.limit = usize::try_from(number("limit", &value)?)
                    .ok()
                    .filter(|n| *n <= PAGE_MAX)
                    .ok_or_else(|| {
                        ConsoleError::field("limit", format!("between 1 and {PAGE_MAX}"))
                    })?;
            }
            "before" => filter.before = Some(number("before", &value)?),
            other => return Err(ConsoleError::field(other, "not a filter of the audit log")),
        }
    }
    Ok(filter)
}

/// `GET /admin/api/audit?from=&to=&seat=&action=&outcome=&limit=&before=`.
pub(crate) async fn entries(
    State(state): State<RelayState>,
    RawQuery(query): RawQuery,
) -> Result<Json<ConsoleAudit>, ConsoleError> {
    let filter = filter(query.as_deref())?;
    let all = state
        .audit
        .entries(AuditQuery {
            since: filter.from,
            seat_id: filter.seat,
        })
        .await?;
    let mut matching = all.into_iter().rev().filter(|entry| {
        let e = &entry.entry;
        filter.to.is_none_or(|to| e.at <= to)
            && filter.before.is_none_or(|before| entry.id < before)
            && filter.action.as_deref().is_none_or(|action| {
                e.action == action || e.action.starts_with(&format!("{action}."))
            })
            && filter.outcome.is_none_or(|outcome| e.outcome == outcome)
    });
    let entries: Vec<ConsoleAuditEntry> = matching
        .by_ref()
        .take(filter.limit)
        .map(|entry| ConsoleAuditEntry {
            id: entry.id,
            at: entry.entry.at,
            seat_id: entry.entry.seat_id,
            seat_name: entry.entry.seat_name,
            action: entry.entry.action,
            target: entry.entry.target,
            outcome: entry.entry.outcome,
            detail: entry.entry.detail,
        })
        .collect();
    let more = matching.next().is_some();
    Ok(Json(ConsoleAudit { entries, more }))
}
