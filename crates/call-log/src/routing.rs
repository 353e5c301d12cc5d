//! The routing journal: why each parked call went where it did.
//!
//! The routing engine has five seconds to decide where a call to a parked number goes. Each
//! decision is journalled with the rule that matched, the target, how long it took and how it
//! ended, so that the owner can see why a caller reached whom, and how often the deadline held.
//! A decision also marks the leg as routed: a parked leg our routing handed on is not a missed
//! call, because the call carries on elsewhere.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::Result;
use crate::timestamp::{from_micros, micros};

/// How a decision ended and the entry journalled are the routing crate's, so that the app and
/// the relay keep the same journal.
pub use call_routing::{JournalEntry as RoutingDecision, RoutingOutcome};

/// A journalled decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoutingRecord {
    /// The journal row id.
    pub id: i64,
    /// The decision.
    #[serde(flatten)]
    pub decision: RoutingDecision,
}

/// How often routing met its deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct DeadlineShare {
    /// Decisions counted.
    pub decisions: i64,
    /// Of them within their deadline.
    pub met: i64,
    /// `met / decisions`, or `None` with no decisions.
    pub share: Option<f64>,
}

pub(crate) fn record(tx: &Transaction<'_>, d: &RoutingDecision) -> Result<i64> {
    tx.prepare_cached(
        "INSERT INTO routing_decisions (leg, caller_number, line_number, rule, target, outcome, \
         detail, decided_at, took_ms, deadline_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        d.leg,
        d.caller_number,
        d.line_number,
        d.rule,
        d.target,
        d.outcome.as_text(),
        d.detail,
        micros(d.decided_at),
        d.took_ms,
        d.deadline_ms
    ])?;
    let id = tx.last_insert_rowid();
    // Mark the leg, if already known. The transfer target shown is the first transfer, which
    // does not depend on the order decisions and events arrive in.
    tx.prepare_cached(
        "UPDATE calls SET routed = 1, \
           transfer_target = (SELECT target FROM routing_decisions WHERE leg = ?1 \
             ORDER BY outcome <> 'transferred', id LIMIT 1), \
           missed = 0 \
         WHERE leg = ?1",
    )?
    .execute([&d.leg])?;
    Ok(id)
}

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RoutingRecord> {
    Ok(RoutingRecord {
        id: r.get(0)?,
        decision: RoutingDecision {
            leg: r.get(1)?,
            caller_number: r.get(2)?,
            line_number: r.get(3)?,
            rule: r.get(4)?,
            target: r.get(5)?,
            outcome: RoutingOutcome::from_text(&r.get::<_, String>(6)?),
            detail: r.get(7)?,
            decided_at: from_micros(r.get(8)?),
            took_ms: r.get(9)?,
            deadline_ms: r.get(10)?,
        },
    })
}

/// The latest decisions, newest first.
pub(crate) fn latest(conn: &Connection, limit: usize) -> Result<Vec<RoutingRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, leg, caller_number, line_number, rule, target, outcome, detail, \
             decided_at, took_ms, deadline_ms FROM routing_decisions \
             ORDER BY decided_at DESC, id DESC LIMIT ?1",
        )?
        .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], record_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The decisions for one leg, oldest first.
pub(crate) fn for_leg(conn: &Connection, leg: &str) -> Result<Vec<RoutingRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, leg, caller_number, line_number, rule, target, outcome, detail, \
             decided_at, took_ms, deadline_ms FROM routing_decisions WHERE leg = ?1 ORDER BY id",
        )?
        .query_map([leg], record_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The share of decisions since `since` that were made within their deadline.
pub(crate) fn deadline_share(conn: &Connection, since: DateTime<Utc>) -> Result<DeadlineShare> {
    let (decisions, met): (i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), \
             coalesce(sum(took_ms <= deadline_ms AND outcome <> 'missed_offline'), 0) \
             FROM routing_decisions \
             WHERE decided_at >= ?1",
        )?
        .query_row([micros(since)], |r| Ok((r.get(0)?, r.get(1)?)))?;
    #[allow(
        clippy::cast_precision_loss,
        reason = "a share needs no more than f64 precision"
    )]
    let share = (decisions > 0).then(|| met as f64 / decisions as f64);
    Ok(DeadlineShare {
        decisions,
        met,
        share,
    })
}

/// What the routing engine needs to know about a caller, read in one go so that a parked call
/// costs one trip to the database, whatever the rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallerFacts {
    /// The number's matching key; `None` for a number that cannot be matched (hidden, empty).
    pub key: Option<String>,
    /// The phonebook contact's id, if the number is in the phonebook.
    pub contact_id: Option<i64>,
    /// The contact's personal manager (a workplace SIP ID).
    pub manager_sip_id: Option<String>,
    /// The workplace of the latest connected call with the number since the asked time.
    pub last_operator: Option<String>,
    /// Whether any call with the number started before the asked time.
    pub called_before: bool,
}

/// The caller facts for `number`: the contact and its manager, who last answered (or placed) a
/// connected call with it since `operator_since`, and whether it called before `known_before`.
///
/// Every lookup walks an index: `contact_numbers_by_key` for the contact, and `calls_by_peer`
/// (peer key, start) backwards from the newest call for the other two, so a busy number costs
/// only the rows since `operator_since`, however long the history.
pub(crate) fn caller_facts(
    conn: &Connection,
    number: &str,
    operator_since: DateTime<Utc>,
    known_before: DateTime<Utc>,
) -> Result<CallerFacts> {
    let Some(key) = crate::number::normalize_number(number) else {
        return Ok(CallerFacts::default());
    };
    let contact: Option<(i64, Option<String>)> = conn
        .prepare_cached(
            "SELECT k.id, k.manager_sip_id FROM contacts k WHERE k.id = \
             (SELECT min(contact_id) FROM contact_numbers WHERE key = ?1)",
        )?
        .query_row([&key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let last_operator: Option<String> = conn
        .prepare_cached(
            "SELECT answered_by FROM calls WHERE peer_key = ?1 AND first_seen_at >= ?2 \
             AND answered_at IS NOT NULL AND answered_by IS NOT NULL \
             ORDER BY first_seen_at DESC LIMIT 1",
        )?
        .query_row(params![key, micros(operator_since)], |r| r.get(0))
        .optional()?;
    let called_before: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM calls WHERE peer_key = ?1 AND first_seen_at < ?2)",
        )?
        .query_row(params![key, micros(known_before)], |r| r.get(0))?;
    let (contact_id, manager_sip_id) = match contact {
        Some((id, manager)) => (Some(id), manager.filter(|m| !m.is_empty())),
        None => (None, None),
    };
    Ok(CallerFacts {
        key: Some(key),
        contact_id,
        manager_sip_id,
        last_operator,
        called_before,
    })
}

/// How far apart a parked call's decision and its other legs may start and still be taken for
/// one call: the parking leg is decided within five seconds, and the main leg starts when the
/// parking ends; the margin covers a relay whose clock differs from the app's.
const SAME_CALL_WINDOW_US: i64 = 60_000_000;

/// The decision behind one history row. The parking leg carries the decision itself; the call's
/// main leg (a different leg id, which starts when the parking ends) is matched by the same
/// caller number with the decision nearest its start, within a minute. (Not by the external
/// number: a main leg's row may show the workplace it rang in that column.) Both
/// lookups walk indexes (`routing_by_leg`, `routing_by_time`).
pub(crate) fn for_call(conn: &Connection, leg: &str) -> Result<Option<RoutingRecord>> {
    if let Some(own) = for_leg(conn, leg)?.pop() {
        return Ok(Some(own));
    }
    let row: Option<(Option<String>, i64)> = conn
        .prepare_cached("SELECT caller_number, first_seen_at FROM calls WHERE leg = ?1")?
        .query_row([leg], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((Some(caller), start)) = row else {
        return Ok(None);
    };
    Ok(conn
        .prepare_cached(
            "SELECT id, leg, caller_number, line_number, rule, target, outcome, detail, \
             decided_at, took_ms, deadline_ms FROM routing_decisions \
             WHERE decided_at BETWEEN ?1 AND ?2 AND caller_number = ?3 \
             ORDER BY abs(decided_at - ?4), id DESC LIMIT 1",
        )?
        .query_row(
            params![
                start - SAME_CALL_WINDOW_US,
                start + SAME_CALL_WINDOW_US,
                caller,
                start
            ],
            record_from_row,
        )
        .optional()?)
}
