//! Forgetting what arrived since a moment: leaving a team and asking to delete the team's
//! history and contacts from this computer removes what came in after joining, and keeps what
//! the app had before (joining keeps the personal history).

use chrono::{DateTime, Utc};
use rusqlite::{Transaction, params};
use serde::Serialize;

use crate::error::Result;
use crate::timestamp::micros;

/// What [`crate::CallLog::forget_since`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ForgetReport {
    /// Calls first seen at or after the moment.
    pub calls: usize,
    /// Raw events of those calls, and events of no call received at or after it.
    pub events: usize,
    /// Routing decisions made at or after it.
    pub routing_decisions: usize,
    /// Contacts added at or after it, and every team contact.
    pub contacts: usize,
    /// Wrap-ups of those calls, and wrap-ups of no call saved at or after it.
    pub wrapups: usize,
}

pub(crate) fn forget_since(tx: &Transaction<'_>, since: DateTime<Utc>) -> Result<ForgetReport> {
    let since = micros(since);
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS forgotten_calls (id INTEGER PRIMARY KEY);
         DELETE FROM forgotten_calls;",
    )?;
    tx.execute(
        "INSERT INTO forgotten_calls (id) SELECT id FROM calls WHERE first_seen_at >= ?1",
        [since],
    )?;
    let mut events = tx.execute(
        "DELETE FROM events WHERE call_id IN (SELECT id FROM forgotten_calls)",
        [],
    )?;
    events += tx.execute(
        "DELETE FROM events WHERE call_id IS NULL AND received_at >= ?1",
        [since],
    )?;
    let wrapups = crate::wrapup::delete_with_calls(tx, "forgotten_calls", ">= ?1", since)?;
    tx.execute(
        "DELETE FROM call_workplaces WHERE call_id IN (SELECT id FROM forgotten_calls)",
        [],
    )?;
    tx.execute(
        "DELETE FROM calls_search WHERE rowid IN (SELECT id FROM forgotten_calls)",
        [],
    )?;
    let calls = tx.execute(
        "DELETE FROM calls WHERE id IN (SELECT id FROM forgotten_calls)",
        [],
    )?;
    let routing_decisions = tx.execute(
        "DELETE FROM routing_decisions WHERE decided_at >= ?1",
        params![since],
    )?;
    tx.execute(
        "DELETE FROM contacts_search WHERE rowid IN (SELECT id FROM contacts WHERE created_at >= ?1)",
        [since],
    )?;
    tx.execute(
        "DELETE FROM contact_numbers WHERE contact_id IN (SELECT id FROM contacts WHERE created_at >= ?1)",
        [since],
    )?;
    let contacts = tx.execute("DELETE FROM contacts WHERE created_at >= ?1", [since])?
        // The team's contacts (and the version synced) go whenever they came: they are the
        // team's, and a later join must sync them afresh.
        + crate::contacts::forget_team(tx)?;
    tx.execute_batch("DELETE FROM forgotten_calls;")?;
    Ok(ForgetReport {
        calls,
        events,
        routing_decisions,
        contacts,
        wrapups,
    })
}
