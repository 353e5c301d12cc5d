//! The team's wrap-ups behind a trait (issue #17, team mode): each seat's note and tags about a
//! call, by the number they are about, and the team's tags list with its "required" switch.
//! Who wrote what is also in the audit log (action `wrapup`). They are kept for
//! `wrapup_retention` (a year by default), pruned with the events and the audit log.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use team_api::wrapup::{TeamTags, TeamWrapUp};

use crate::error::RelayError;

/// A wrap-up to keep: a seat's, for a leg (saved again, it replaces that seat's for the leg).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWrapUp {
    /// The leg.
    pub leg_id: String,
    /// The number's matching key (digits).
    pub number: String,
    /// The seat's number.
    pub seat_id: i64,
    /// The seat's name then.
    pub seat_name: String,
    /// The seat's workplace then.
    pub workplace: String,
    /// The note.
    pub note: String,
    /// The tags.
    pub tags: Vec<String>,
    /// When it was saved.
    pub saved_at: DateTime<Utc>,
}

/// The wrap-ups' store.
pub trait WrapUpStore: Send + Sync + std::fmt::Debug + 'static {
    /// Keeps a wrap-up, replacing the seat's earlier one for the leg.
    fn save_wrapup(&self, wrapup: NewWrapUp) -> BoxFuture<'_, Result<(), RelayError>>;

    /// The latest wrap-ups, newest first: about `number` (a matching key) or, without one,
    /// the whole team's.
    fn wrapups(
        &self,
        number: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<TeamWrapUp>, RelayError>>;

    /// Removes the wrap-ups saved before `cutoff` (`wrapup_retention`); returns how many.
    fn prune_wrapups_before(&self, cutoff: DateTime<Utc>)
    -> BoxFuture<'_, Result<u64, RelayError>>;

    /// The team's tags (empty and not required until an admin sets them).
    fn team_tags(&self) -> BoxFuture<'_, Result<TeamTags, RelayError>>;

    /// Replaces the team's tags.
    fn set_team_tags(&self, tags: TeamTags) -> BoxFuture<'_, Result<(), RelayError>>;
}

/// A wrap-up store shared by the relay's tasks.
pub type SharedWrapUpStore = Arc<dyn WrapUpStore>;
