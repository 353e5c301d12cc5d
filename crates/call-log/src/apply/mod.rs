//! Applying relay events to the call log.
//!
//! Every event is stored raw in `events` (unique by relay id, so a replay changes nothing) and,
//! when it is a call event, merged into its leg's row in `calls`. The merge is built so that the
//! row is a function of the *set* of events seen for the leg, never of their order: each column is
//! either a minimum or maximum over the events (first seen, answered at, the furthest state) or is
//! taken from one winning event chosen by a total order that ends in the unique relay id (the
//! parties, the end of the call, the recording). Merging is therefore commutative, associative and
//! idempotent, which is what lets the relay replay, reorder or repeat events freely.
//!
//! Three parts: `merge` folds a leg's events into its row and knows no SQL; `calls_table` maps
//! that row to the `calls` table; this module runs a batch in the caller's transaction (the raw
//! events, the rows, the trigram index, the workplaces and the relay cursor).

mod calls_table;
mod merge;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use mtt_api::notification::Notification;
use rusqlite::{Connection, OptionalExtension, params};

use calls_table::{CallsTable, StoredCall};
use merge::{CallRow, event_sip_ids};

pub(crate) use merge::direction_text;

/// One event as the relay delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// The relay's sequence number: unique, and the cursor to resume from.
    pub relay_id: i64,
    /// When the relay received it; this orders events.
    pub received_at: DateTime<Utc>,
    /// What was received.
    pub body: EventBody,
}

/// The body of a relayed event.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every body is a notification; boxing would add an allocation to each"
)]
pub enum EventBody {
    /// A JSON object, read as a notification (possibly [`Notification::Unknown`]).
    Notification(Notification),
    /// A body that was not a JSON object, kept as text so that nothing the PBX sent is lost.
    Raw(String),
}

impl EventBody {
    /// Reads a webhook body; anything that is not a JSON object is kept as raw text.
    pub fn parse(body: &[u8]) -> Self {
        match Notification::parse(body) {
            Ok(notification) => EventBody::Notification(notification),
            Err(_) => EventBody::Raw(String::from_utf8_lossy(body).into_owned()),
        }
    }
}

/// What one `apply` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ApplyReport {
    /// Events stored for the first time.
    pub applied: usize,
    /// Events already in the log (same relay id), skipped.
    pub duplicates: usize,
    /// Stored events that are not call events we understand (PBX settings changes, unknown
    /// notifications, bodies that were not JSON).
    pub not_call_events: usize,
    /// Call legs created or changed.
    pub calls_changed: usize,
    /// The relay cursor after the batch.
    pub cursor: Option<i64>,
}

/// The kind stored in `events.kind`.
fn event_kind(body: &EventBody) -> &'static str {
    match body {
        EventBody::Notification(Notification::Call(_)) => "call",
        EventBody::Notification(Notification::Pbx(_)) => "pbx",
        EventBody::Notification(Notification::Unknown(_)) => "unknown",
        EventBody::Raw(_) => "raw",
    }
}

/// Applies a batch inside the caller's transaction.
pub(crate) fn apply_batch(
    tx: &Connection,
    zone: Tz,
    events: &[LoggedEvent],
) -> rusqlite::Result<ApplyReport> {
    // Ids from a replaced relay are moved past the old relay's (see `rebase_relay`).
    let offset = read_offset(tx)?;
    let shifted: Vec<LoggedEvent>;
    let events: &[LoggedEvent] = if offset == 0 {
        events
    } else {
        shifted = events
            .iter()
            .map(|e| LoggedEvent {
                relay_id: e.relay_id + offset,
                ..e.clone()
            })
            .collect();
        &shifted
    };
    let mut report = ApplyReport::default();
    let mut seen_in_batch = HashSet::with_capacity(events.len());
    let mut fresh: Vec<&LoggedEvent> = Vec::with_capacity(events.len());
    {
        let mut exists = tx.prepare_cached("SELECT 1 FROM events WHERE relay_id = ?1")?;
        for event in events {
            if !seen_in_batch.insert(event.relay_id) || exists.exists([event.relay_id])? {
                report.duplicates += 1;
            } else {
                fresh.push(event);
            }
        }
    }

    // Each statement is looked up once per batch: the statement cache hashes the whole SQL text
    // on every lookup, which shows in profiles when done per row.
    let mut table = CallsTable::new(tx)?;

    // Merge every fresh call event into its leg's row, each leg loaded once.
    let mut rows: HashMap<String, (Option<StoredCall>, CallRow, BTreeSet<String>)> = HashMap::new();
    for event in &fresh {
        let EventBody::Notification(Notification::Call(call)) = &event.body else {
            report.not_call_events += 1;
            continue;
        };
        let at = event.received_at.timestamp_micros();
        let leg = call.leg.as_str();
        if !rows.contains_key(leg) {
            let stored = table.load(leg)?;
            let working = stored
                .as_ref()
                .map_or_else(|| CallRow::empty(leg, at), |s| s.row.clone());
            rows.insert(leg.to_owned(), (stored, working, BTreeSet::new()));
        }
        if let Some((_, row, workplaces)) = rows.get_mut(leg) {
            row.merge(event.relay_id, at, call, zone);
            workplaces.extend(event_sip_ids(call));
        }
    }

    let mut call_ids: HashMap<String, i64> = HashMap::with_capacity(rows.len());
    {
        let mut statements = CallStatements {
            routing: tx.prepare_cached(ROUTING_FOR_LEG_SQL)?,
            unindex: tx.prepare_cached("DELETE FROM calls_search WHERE rowid = ?1")?,
            index: tx.prepare_cached("INSERT INTO calls_search (rowid, text) VALUES (?1, ?2)")?,
            workplace: tx.prepare_cached(
                "INSERT OR IGNORE INTO call_workplaces (sip_id, started_at, call_id) \
                 VALUES (?1, ?2, ?3)",
            )?,
            restart: tx
                .prepare_cached("UPDATE call_workplaces SET started_at = ?2 WHERE call_id = ?1")?,
        };
        // New rows take their ids in order of their start, so that row ids follow time within
        // a batch as they do across batches (search pages in id order).
        let mut rows: Vec<_> = rows.into_iter().collect();
        rows.sort_by(|(leg_a, (_, a, _)), (leg_b, (_, b, _))| {
            (a.first_seen_at, leg_a).cmp(&(b.first_seen_at, leg_b))
        });
        for (leg, (stored, mut row, workplaces)) in rows {
            let id = match &stored {
                None => {
                    attach_routing(&mut statements.routing, &mut row)?;
                    report.calls_changed += 1;
                    let id = table.insert(&row)?;
                    statements.index_call(id, None, &row)?;
                    id
                }
                Some(StoredCall { id, row: before }) => {
                    let id = *id;
                    if *before != row {
                        report.calls_changed += 1;
                        table.update(id, &row)?;
                        if before.first_seen_at != row.first_seen_at {
                            statements.restart.execute(params![id, row.first_seen_at])?;
                        }
                        let old_text = before.search_text();
                        if old_text != row.search_text() {
                            let indexed = (!old_text.is_empty()).then_some(old_text.as_str());
                            statements.index_call(id, indexed, &row)?;
                        }
                    }
                    id
                }
            };
            for sip_id in &workplaces {
                statements
                    .workplace
                    .execute(params![sip_id, row.first_seen_at, id])?;
            }
            call_ids.insert(leg, id);
        }
    }

    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (relay_id, received_at, kind, call_id, state, raw) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for event in &fresh {
            let (call_id, state, raw) = match &event.body {
                EventBody::Notification(n) => {
                    let (call_id, state) = match n {
                        Notification::Call(c) => (
                            call_ids.get(c.leg.as_str()).copied(),
                            Some(c.state.as_wire().to_owned()),
                        ),
                        _ => (None, None),
                    };
                    (call_id, state, n.raw().to_string())
                }
                EventBody::Raw(text) => (None, None, text.clone()),
            };
            insert.execute(params![
                event.relay_id,
                event.received_at.timestamp_micros(),
                event_kind(&event.body),
                call_id,
                state,
                raw
            ])?;
            report.applied += 1;
        }
    }

    if let Some(max) = fresh.iter().map(|e| e.relay_id).max() {
        tx.prepare_cached(
            "INSERT INTO relay_cursor (id, last_relay_id) VALUES (1, ?1) \
             ON CONFLICT (id) DO UPDATE SET last_relay_id = max(last_relay_id, excluded.last_relay_id)",
        )?
        .execute([max])?;
    }
    report.cursor = read_cursor(tx)?;
    Ok(report)
}

/// The relay cursor: the highest relay id applied, in the current relay's numbering.
pub(crate) fn read_cursor(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT last_relay_id - id_offset FROM relay_cursor WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()
}

/// What is added to the current relay's ids to store them.
fn read_offset(conn: &Connection) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT id_offset FROM relay_cursor WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Continues after a relay whose store was replaced: its next event, `resume_after + 1`, is
/// stored right after the newest event already in the log. Returns the cursor afterwards.
pub(crate) fn rebase_relay(conn: &Connection, resume_after: i64) -> rusqlite::Result<Option<i64>> {
    let stored: Option<i64> = conn
        .prepare_cached("SELECT last_relay_id FROM relay_cursor WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    if let Some(stored) = stored {
        conn.prepare_cached("UPDATE relay_cursor SET id_offset = ?1 WHERE id = 1")?
            .execute([stored - resume_after])?;
    }
    read_cursor(conn)
}

const ROUTING_FOR_LEG_SQL: &str = "SELECT target FROM routing_decisions WHERE leg = ?1 \
     ORDER BY outcome <> 'transferred', id LIMIT 1";

/// The statements the write phase of a batch uses for every call row.
struct CallStatements<'c> {
    routing: rusqlite::CachedStatement<'c>,
    unindex: rusqlite::CachedStatement<'c>,
    index: rusqlite::CachedStatement<'c>,
    workplace: rusqlite::CachedStatement<'c>,
    restart: rusqlite::CachedStatement<'c>,
}

impl CallStatements<'_> {
    /// Keeps the trigram index in step with a call's parties.
    fn index_call(
        &mut self,
        id: i64,
        old_text: Option<&str>,
        row: &CallRow,
    ) -> rusqlite::Result<()> {
        if old_text.is_some() {
            self.unindex.execute([id])?;
        }
        let text = row.search_text();
        if !text.is_empty() {
            self.index.execute(params![id, text])?;
        }
        Ok(())
    }
}

/// A routing decision may be journalled before the leg's first event is applied; a new row picks
/// it up here so that the result does not depend on which came first.
fn attach_routing(
    stmt: &mut rusqlite::CachedStatement<'_>,
    row: &mut CallRow,
) -> rusqlite::Result<()> {
    let found: Option<(Option<String>,)> = stmt
        .query_row([&row.leg], |r| Ok((r.get(0)?,)))
        .optional()?;
    if let Some((target,)) = found {
        row.routed = true;
        row.transfer_target = target;
    }
    row.derive_missed();
    Ok(())
}
