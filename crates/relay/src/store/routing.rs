//! What routing keeps in the relay's store: the team's rules, a fact per caller number (when it
//! first and last called, and which workplace last answered it), and the journal of decisions.
//!
//! The per-number fact is the relay's own, apart from the events: events are pruned after their
//! retention (7 days by default), while the "last operator" rule may look back up to a year, so
//! routing keeps what it needs for as long as the longest window the rules use. The journal of
//! decisions is kept for `routing_journal_retention` (a year by default), pruned with the events
//! and the audit log.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use team_api::{RoutingDecisionEvent, TeamRouting};

use crate::error::RelayError;

/// What the store knows about one caller number (by its digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerRecord {
    /// When a call from the number was first seen.
    pub first_seen_at: DateTime<Utc>,
    /// The workplace that last answered a call from it, and when.
    pub last_operator: Option<(String, DateTime<Utc>)>,
}

/// A call from an outside number, noted for routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerSeen {
    /// The number's digits.
    pub number_key: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The workplace that answered it, for a connected call.
    pub answered_by: Option<String>,
}

/// Routing's part of the store (every team store has it).
pub trait RoutingStore: Send + Sync + 'static {
    /// The team's routing, if an admin ever set it.
    fn routing(&self) -> BoxFuture<'_, Result<Option<TeamRouting>, RelayError>>;

    /// Replaces the team's routing.
    fn put_routing(&self, routing: TeamRouting) -> BoxFuture<'_, Result<(), RelayError>>;

    /// Notes a call from an outside number (first and last seen, and who answered it).
    fn note_caller(&self, seen: CallerSeen) -> BoxFuture<'_, Result<(), RelayError>>;

    /// What is known about a number.
    fn caller_record(
        &self,
        number_key: String,
    ) -> BoxFuture<'_, Result<Option<CallerRecord>, RelayError>>;

    /// Forgets numbers last seen before `cutoff`; answers how many.
    fn prune_callers_before(&self, cutoff: DateTime<Utc>)
    -> BoxFuture<'_, Result<u64, RelayError>>;

    /// Journals a decision; answers its number.
    fn record_decision(
        &self,
        entry: call_routing::JournalEntry,
    ) -> BoxFuture<'_, Result<i64, RelayError>>;

    /// Removes the decisions made before `cutoff` (`routing_journal_retention`); answers how
    /// many.
    fn prune_decisions_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>>;

    /// The latest `limit` decisions, newest first.
    fn decisions(
        &self,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<RoutingDecisionEvent>, RelayError>>;
}
