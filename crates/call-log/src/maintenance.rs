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
    /// Wrap-ups removed (with their calls, or of no call and saved before the calls' cutoff).
    pub wrapups: usize,
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
        let cutoff = micros(cutoff);
        report.events += tx.execute(
            DELETE_OLD_EVENTS,
            params![old_ids_below(tx, cutoff)?, cutoff],
        )?;
    }
    Ok(report)
}

/// Raw events below a relay id (from [`old_ids_below`]) and received before a time.
const DELETE_OLD_EVENTS: &str = "DELETE FROM events WHERE relay_id < ?1 AND received_at < ?2";
/// The same, for events of no call (what the calls' cutoff removes besides calls).
const DELETE_OLD_UNATTACHED_EVENTS: &str =
    "DELETE FROM events WHERE relay_id < ?1 AND call_id IS NULL AND received_at < ?2";

/// The event with the lowest relay id at or after `id`: its id and receipt time.
fn event_at_or_after(tx: &Transaction<'_>, id: i64) -> Result<Option<(i64, i64)>> {
    let mut statement = tx.prepare_cached(
        "SELECT relay_id, received_at FROM events WHERE relay_id >= ?1 ORDER BY relay_id LIMIT 1",
    )?;
    let mut rows = statement.query([id])?;
    Ok(match rows.next()? {
        Some(row) => Some((row.get(0)?, row.get(1)?)),
        None => None,
    })
}

/// A relay id below which the events were received before `cutoff`, found by bisecting the ids.
///
/// Events have no index on their receipt time (one would cost every apply a second b-tree
/// insert, for a clean-up that runs once a day), but the relay numbers events in the order it
/// receives them, so receipt times rise with the ids, and a few look-ups by id find where the old
/// ones end. The delete that uses this bound still checks each row's time, so an event received
/// out of order (a relay whose clock went back) is never removed early; at worst it waits for a
/// later clean-up.
fn old_ids_below(tx: &Transaction<'_>, cutoff: i64) -> Result<i64> {
    let Some((first, first_at)) = event_at_or_after(tx, i64::MIN)? else {
        return Ok(i64::MIN);
    };
    if first_at >= cutoff {
        return Ok(first);
    }
    let (last, last_at): (i64, i64) = tx.query_row(
        "SELECT relay_id, received_at FROM events ORDER BY relay_id DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if last_at < cutoff {
        return Ok(last.saturating_add(1));
    }
    // The event at `old` is old; the first event at or after `young` is not.
    let (mut old, mut young) = (first, last);
    while young - old > 1 {
        let middle = old + (young - old) / 2;
        match event_at_or_after(tx, middle)? {
            Some((id, at)) if id < young && at < cutoff => old = id,
            Some((id, _)) if id < young => young = id,
            // No event between the middle and `young`.
            _ => young = middle,
        }
    }
    Ok(young)
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
        DELETE_OLD_UNATTACHED_EVENTS,
        params![old_ids_below(tx, cutoff)?, cutoff],
    )?;
    let wrapups = crate::wrapup::delete_with_calls(tx, "pruned_calls", "< ?1", cutoff)?;
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
        wrapups,
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
        "note",
        "tags",
        "follow_up_at",
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
                c.note.clone(),
                c.wrapup_tags.join("; "),
                time_text(c.follow_up_at),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A log holding raw events (no call) with these relay ids and receipt times (µs).
    fn log_with(events: &[(i64, i64)]) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrations().to_latest(&mut conn).unwrap();
        for (id, at) in events {
            conn.execute(
                "INSERT INTO events (relay_id, received_at, kind, raw) VALUES (?1, ?2, 'raw', '{}')",
                [id, at],
            )
            .unwrap();
        }
        conn
    }

    fn remaining(conn: &Connection) -> Vec<i64> {
        let mut statement = conn
            .prepare("SELECT relay_id FROM events ORDER BY relay_id")
            .unwrap();
        statement
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn prune_events(conn: &mut Connection, cutoff: i64) -> usize {
        let tx = conn.transaction().unwrap();
        let report = prune(
            &tx,
            PruneCutoffs {
                calls: None,
                events: DateTime::from_timestamp_micros(cutoff),
            },
        )
        .unwrap();
        tx.commit().unwrap();
        report.events
    }

    #[test]
    fn old_events_are_found_by_bisecting_their_ids_whatever_the_gaps() {
        for cutoff in [0, 1, 2, 7, 500, 999, 1_000, 1_001, 5_000] {
            // Ids with gaps (a relay's store replaced, pruned runs), times rising with them.
            let events: Vec<(i64, i64)> = (1..=1_000).map(|i| (i * 3 + i / 100 * 50, i)).collect();
            let mut conn = log_with(&events);
            let removed = prune_events(&mut conn, cutoff);
            let expected = events.iter().filter(|(_, at)| *at < cutoff).count();
            assert_eq!(removed, expected, "cutoff {cutoff}");
            assert!(
                remaining(&conn)
                    .iter()
                    .all(|id| events.iter().any(|(e, at)| e == id && *at >= cutoff)),
                "cutoff {cutoff}"
            );
        }
        let mut empty = log_with(&[]);
        assert_eq!(prune_events(&mut empty, 10), 0);
    }

    #[test]
    fn an_event_received_out_of_order_is_never_removed_early() {
        // Event 3 came from a relay whose clock was ahead: young among old ones. Event 8 is old
        // among young ones.
        let mut conn = log_with(&[
            (1, 10),
            (2, 20),
            (3, 9_000),
            (4, 40),
            (5, 50),
            (6, 6_000),
            (7, 7_000),
            (8, 30),
            (9, 9_500),
        ]);
        prune_events(&mut conn, 1_000);
        let kept = remaining(&conn);
        for young in [3, 6, 7, 9] {
            assert!(kept.contains(&young), "{young} kept: {kept:?}");
        }
        assert!(!kept.contains(&1) && !kept.contains(&2), "{kept:?}");
    }

    #[test]
    fn the_deletes_walk_the_ids_not_the_whole_table() {
        let conn = log_with(&[]);
        for sql in [DELETE_OLD_EVENTS, DELETE_OLD_UNATTACHED_EVENTS] {
            let plan: String = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map([1, 1], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
                .join("; ");
            assert!(plan.contains("INTEGER PRIMARY KEY"), "{sql}: {plan}");
        }
    }
}
