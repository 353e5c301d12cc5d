//! The audit log behind a trait: every action a seat asked of the PBX through the relay (dial,
//! transfer, hang up, parking), with who, what, when and the PBX's answer or the refusal. Kept
//! for `audit_retention` (a year by default), pruned like the events.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::Serialize;

use crate::error::RelayError;

/// How an action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The PBX accepted it.
    Done,
    /// The relay refused it (role, workplace, leg); the PBX was not called.
    Refused,
    /// The PBX refused it, did not answer, or could not be reached.
    Failed,
}

impl Outcome {
    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "done" => Some(Outcome::Done),
            "refused" => Some(Outcome::Refused),
            "failed" => Some(Outcome::Failed),
            _ => None,
        }
    }
}

/// An action to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// When the relay answered it.
    pub at: DateTime<Utc>,
    /// The seat's number.
    pub seat_id: i64,
    /// The seat's name then.
    pub seat_name: String,
    /// `dial`, `transfer`, `hangup`, `parking`.
    pub action: String,
    /// What it was about: the number, leg, target or parking numbers, as text.
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The refusal's or failure's code, if any.
    pub code: Option<String>,
    /// The PBX's answer or the refusal, for people.
    pub detail: String,
}

/// A recorded action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The entry's number.
    pub id: i64,
    /// What was recorded.
    pub entry: NewAuditEntry,
}

/// Which entries to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only this seat's.
    pub seat_id: Option<i64>,
}

/// The audit log's store.
pub trait AuditStore: Send + Sync + std::fmt::Debug + 'static {
    /// Records an action; answers its number.
    fn record(&self, entry: NewAuditEntry) -> BoxFuture<'_, Result<i64, RelayError>>;

    /// The entries matching `query`, oldest first.
    fn entries(&self, query: AuditQuery) -> BoxFuture<'_, Result<Vec<AuditEntry>, RelayError>>;

    /// Removes the entries recorded before `cutoff`; answers how many.
    fn prune_audit_before(&self, cutoff: DateTime<Utc>) -> BoxFuture<'_, Result<u64, RelayError>>;
}

/// An audit store shared by the relay's tasks.
pub type SharedAuditStore = Arc<dyn AuditStore>;
