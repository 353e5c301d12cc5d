//! Keeping the log healthy: backups, retention, integrity checks and the history export.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, Transaction, params};
use serde::Serialize;

use crate::error::{CallLogError, Result};
use crate::query::{HistoryCursor, HistoryFilter, history};
use crate::spreadsheet::SpreadsheetCsv;
use crate::timestamp::micros;

/// What a retention clean-up removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Calls removed.
    pub calls: usize,
    /// Raw events removed.
    pub events: usize,
    /// Routing decisions removed.
    pub routing_decisions: usize,
}

/// Copies the live database to `target` with SQLite's online backup API, which yields a
/// consistent snapshot even while the log is being written.
pub(crate) fn backup(conn: &Connection, target: &Path) -> Result<()> {
    if target.exists() {
        return Err(CallLogError::File {
            path: target.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file is already there; choose a new name for the backup",
            ),
        });
    }
    let mut destination =
        Connection::open(target).map_err(|e| CallLogError::from_sqlite(target, e))?;
    let backup = rusqlite::backup::Backup::new(conn, &mut destination)
        .map_err(|e| CallLogError::from_sqlite(target, e))?;
    backup
        .run_to_completion(1024, std::time::Duration::from_millis(0), None)
        .map_err(|e| CallLogError::from_sqlite(target, e))?;
    Ok(())
}

/// How far back each kind of record is kept: `None` keeps it for ever. Calls and the raw events
/// have cutoffs of their own because a company keeps its call history for years, while the raw
/// notifications (the PBX's JSON, kept for diagnosis and re-reading) are bulky and needed briefly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneCutoffs {
    /// Calls that started before this go, with all their events, their workplaces and the
    /// routing decisions taken before it.
    pub calls: Option<DateTime<Utc>>,
    /// Raw events received before this go, also those of calls that stay: a call's row holds
    /// everything the screens show, and is never rebuilt from its events.
    pub events: Option<DateTime<Utc>>,
}

/// Deletes what `cutoffs` no longer keeps. The relay cursor stays, so nothing pruned is sent again.
pub(crate) fn prune(tx: &Transaction<'_>, cutoffs: PruneCutoffs) -> Result<PruneReport> {
    let mut report = PruneReport::default();
    if let Some(cutoff) = cutoffs.calls {
        report = prune_calls(tx, micros(cutoff))?;
    }
    if let Some(cutoff) = cutoffs.events {
        report.events += tx.execute(
            "DELETE FROM events WHERE received_at < ?1",
            [micros(cutoff)],
        )?;
    }
    Ok(report)
}

/// Deletes calls that started before `cutoff`, with their events and workplaces, and the events
/// of no call and routing decisions older than it.
fn prune_calls(tx: &Transaction<'_>, cutoff: i64) -> Result<PruneReport> {
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS pruned_calls (id INTEGER PRIMARY KEY);
         DELETE FROM pruned_calls;",
    )?;
    tx.execute(
        "INSERT INTO pruned_calls (id) SELECT id FROM calls WHERE first_seen_at < ?1",
        [cutoff],
    )?;
    let mut events = tx.execute(
        "DELETE FROM events WHERE call_id IN (SELECT id FROM pruned_calls)",
        [],
    )?;
    events += tx.execute(
        "DELETE FROM events WHERE call_id IS NULL AND received_at < ?1",
        [cutoff],
    )?;
    tx.execute(
        "DELETE FROM call_workplaces WHERE call_id IN (SELECT id FROM pruned_calls)",
        [],
    )?;
    tx.execute(
        "DELETE FROM calls_search WHERE rowid IN (SELECT id FROM pruned_calls)",
        [],
    )?;
    let calls = tx.execute(
        "DELETE FROM calls WHERE id IN (SELECT id FROM pruned_calls)",
        [],
    )?;
    let routing_decisions = tx.execute(
        "DELETE FROM routing_decisions WHERE decided_at < ?1",
        params![cutoff],
    )?;
    tx.execute_batch("DELETE FROM pruned_calls;")?;
    Ok(PruneReport {
        calls,
        events,
        routing_decisions,
    })
}

/// SQLite's own verdict on the file: `["ok"]` when healthy.
pub(crate) fn integrity_check(conn: &Connection) -> Result<Vec<String>> {
    Ok(conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?)
}

fn time_text(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Writes the calls a filter selects as CSV, newest first, page by page so that memory stays
/// flat however long the history.
pub(crate) fn export_history_csv<W: std::io::Write>(
    conn: &Connection,
    filter: &HistoryFilter,
    out: W,
) -> Result<usize> {
    // Callers' names and the PBX's texts come from outside: no cell may run as a formula.
    let mut writer = SpreadsheetCsv::new(out);
    writer.write_record([
        "started_at",
        "direction",
        "state",
        "peer_number",
        "contact",
        "caller_number",
        "caller_name",
        "callee_number",
        "callee_name",
        "line_number",
        "answered_at",
        "answered_by",
        "ended_at",
        "duration_secs",
        "end_reason",
        "missed",
        "called_back",
        "transfer_target",
        "recording_url",
        "pbx_start_time",
        "leg",
    ])?;
    let mut cursor: Option<HistoryCursor> = None;
    let mut written = 0;
    loop {
        let page = history(conn, filter, cursor, 1_000)?;
        for c in &page.calls {
            let direction = c.direction.as_ref().map(|d| match d {
                mtt_api::notification::Direction::Incoming => "incoming".to_owned(),
                mtt_api::notification::Direction::Outgoing => "outgoing".to_owned(),
                mtt_api::notification::Direction::Other(s) => s.clone(),
            });
            writer.write_record([
                time_text(Some(c.started_at)),
                direction.unwrap_or_default(),
                c.state.as_wire().to_owned(),
                c.peer_number.clone().unwrap_or_default(),
                c.contact_name.clone().unwrap_or_default(),
                c.caller_number.clone().unwrap_or_default(),
                c.caller_name.clone().unwrap_or_default(),
                c.callee_number.clone().unwrap_or_default(),
                c.callee_name.clone().unwrap_or_default(),
                c.line_number.clone().unwrap_or_default(),
                time_text(c.answered_at),
                c.answered_by.clone().unwrap_or_default(),
                time_text(c.ended_at),
                c.duration_secs.map(|d| d.to_string()).unwrap_or_default(),
                c.end_reason.clone().unwrap_or_default(),
                if c.missed { "yes" } else { "no" }.to_owned(),
                if c.called_back { "yes" } else { "no" }.to_owned(),
                c.transfer_target.clone().unwrap_or_default(),
                c.recording_url.clone().unwrap_or_default(),
                c.pbx_start_raw.clone().unwrap_or_default(),
                c.leg.clone(),
            ])?;
            written += 1;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    writer.flush()?;
    Ok(written)
}
