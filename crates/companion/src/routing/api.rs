//! What the core's routing methods answer with: parking as this app last set it, and the journal
//! of decisions as the window's Settings and History screens and the CLI show it. The methods
//! themselves are the core's (`core/routing.rs`).

use chrono::{DateTime, Utc};
use serde::Serialize;

/// How many decisions the Settings screen shows.
pub const JOURNAL_PAGE: usize = 100;

/// Parking as this app last set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkingState {
    /// The external numbers with parking on.
    pub numbers: Vec<String>,
    /// When parking was last applied to the PBX (a change, or the re-apply after sign-in).
    pub applied_at: Option<DateTime<Utc>>,
    /// Whether this app is marked as the account's router.
    pub is_router: bool,
    /// Whether this app decides parked calls now (marked as router and signed in).
    pub deciding: bool,
}

/// One journalled decision, as the screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingJournalEntry {
    /// The journal row.
    pub id: i64,
    /// The parking leg.
    pub leg: String,
    /// Who called.
    pub caller_number: Option<String>,
    /// The parked external number.
    pub external_number: Option<String>,
    /// The rule that decided (`manager`, `last_operator`, `outside_hours`, `unknown_caller`,
    /// `no_rule`, `deadline`, `offline`).
    pub rule: Option<String>,
    /// Where the call was sent, for a transfer.
    pub target: Option<String>,
    /// `transferred`, `released`, `timed_out`, `failed` or `missed_offline`.
    pub outcome: call_log::RoutingOutcome,
    /// Why, in words: the rules' notes and the API's errors.
    pub detail: Option<String>,
    /// When it was carried out.
    pub decided_at: DateTime<Utc>,
    /// Milliseconds from the relay's receipt of the parking leg to the API's answer.
    pub took_ms: i64,
    /// The deadline it had.
    pub deadline_ms: i64,
    /// Whether it met the deadline.
    pub met_deadline: bool,
}

impl From<call_log::RoutingRecord> for RoutingJournalEntry {
    fn from(r: call_log::RoutingRecord) -> Self {
        let d = r.decision;
        RoutingJournalEntry {
            id: r.id,
            // A call missed while the app was away never met its deadline, however young it
            // was when the app heard of it.
            met_deadline: d.took_ms <= d.deadline_ms
                && d.outcome != call_log::RoutingOutcome::MissedOffline,
            leg: d.leg,
            caller_number: d.caller_number,
            external_number: d.line_number,
            rule: d.rule,
            target: d.target,
            outcome: d.outcome,
            detail: d.detail,
            decided_at: d.decided_at,
            took_ms: d.took_ms,
            deadline_ms: d.deadline_ms,
        }
    }
}

/// The latest decisions and how many met their deadline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingJournal {
    /// Newest first.
    pub decisions: Vec<RoutingJournalEntry>,
    /// Of them, how many met the deadline.
    pub met: usize,
    /// `met / decisions`, or `None` with no decisions.
    pub share: Option<f64>,
}
