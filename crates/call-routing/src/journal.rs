//! The journal entry: why a parked call went where it did, how long the decision took and how
//! it ended. The app keeps these in its call log, the relay in its store; both with this shape.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a routing decision ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "RoutingOutcome.ts")]
pub enum RoutingOutcome {
    /// transferCall succeeded: the call went to the target.
    Transferred,
    /// terminateCall released the parking: the cabinet's own routing takes over.
    Released,
    /// No decision in time: the PBX fell back to the cabinet's routing.
    TimedOut,
    /// The API call failed.
    Failed,
    /// The call rang while the deciding app was away (asleep, off, offline) and reached it only
    /// after its deadline: nothing was sent, and the PBX followed the cabinet's routing.
    MissedOffline,
}

impl RoutingOutcome {
    /// The outcome as stored and shown (`transferred`, `released`, `timed_out`, `failed`,
    /// `missed_offline`).
    pub fn as_text(self) -> &'static str {
        match self {
            RoutingOutcome::Transferred => "transferred",
            RoutingOutcome::Released => "released",
            RoutingOutcome::TimedOut => "timed_out",
            RoutingOutcome::Failed => "failed",
            RoutingOutcome::MissedOffline => "missed_offline",
        }
    }

    /// The outcome from its text; anything unknown reads as `failed`, the outcome that claims
    /// least.
    pub fn from_text(s: &str) -> Self {
        match s {
            "transferred" => RoutingOutcome::Transferred,
            "released" => RoutingOutcome::Released,
            "timed_out" => RoutingOutcome::TimedOut,
            "missed_offline" => RoutingOutcome::MissedOffline,
            _ => RoutingOutcome::Failed,
        }
    }
}

/// A decision to journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export_to = "JournalEntry.ts")]
pub struct JournalEntry {
    /// The parked leg's id.
    pub leg: String,
    /// The caller's number.
    pub caller_number: Option<String>,
    /// The parked external number that was called.
    pub line_number: Option<String>,
    /// The rule that matched, by name; `None` when none did.
    pub rule: Option<String>,
    /// Where the call was sent (a workplace SIP ID or a number).
    pub target: Option<String>,
    /// How it ended.
    pub outcome: RoutingOutcome,
    /// Anything worth keeping: the rules' notes, the error text of a failure.
    pub detail: Option<String>,
    /// When the decision was made.
    #[ts(type = "string")]
    pub decided_at: DateTime<Utc>,
    /// From the parking event's receipt to the API's answer, in milliseconds.
    pub took_ms: i64,
    /// The deadline it had, in milliseconds (the PBX's parking window less a margin).
    pub deadline_ms: i64,
}

impl JournalEntry {
    /// Whether it met its deadline (a call missed while the decider was away never did).
    pub fn met_deadline(&self) -> bool {
        self.took_ms <= self.deadline_ms && self.outcome != RoutingOutcome::MissedOffline
    }
}
