//! Routing on the relay: in team mode the relay is the one decider of parked calls. Admins read
//! and replace the team's rules (`GET`/`PUT /team/routing`, [`TeamRouting`]) and read the journal
//! (`GET /team/routing/journal`, [`RoutingJournal`]); every decision also goes to the stream as a
//! [`ROUTING_KIND`] event ([`RoutingDecisionEvent`]) for the seats that may see the call, whose
//! apps keep it in their own routing journal so that History shows why a call went where it
//! did. The rules themselves are `call-routing`'s ([`call_routing::RoutingSettings`], its field
//! names in `snake_case` as in the app's settings file).

use call_routing::{JournalEntry, RoutingSettings};
use serde::{Deserialize, Serialize};

/// The kind of a [`RoutingDecisionEvent`] on the stream.
pub const ROUTING_KIND: &str = "routing";

/// How many decisions `GET /team/routing/journal` answers at most.
pub const JOURNAL_LIMIT: usize = 1_000;

/// The team's routing: the rules, the external numbers the relay parks, and the account's zone
/// that business hours are read in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export_to = "TeamRouting.ts")]
pub struct TeamRouting {
    /// The rules, business hours and deadline (the relay keeps `parking_applied_at` itself).
    pub settings: RoutingSettings,
    /// The external numbers with parking on: the relay applies parking to them, again each time
    /// its integration connects, and decides their calls.
    #[serde(default)]
    pub parked: Vec<String>,
    /// The account's time zone (an IANA name such as `Europe/Moscow`).
    #[serde(default = "default_zone")]
    pub time_zone: String,
}

fn default_zone() -> String {
    "Europe/Moscow".to_owned()
}

impl Default for TeamRouting {
    fn default() -> Self {
        Self {
            settings: RoutingSettings::default(),
            parked: Vec::new(),
            time_zone: default_zone(),
        }
    }
}

/// One journalled decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "RoutingDecisionEvent.ts")]
pub struct RoutingDecisionEvent {
    /// Its number in the relay's journal.
    pub id: i64,
    /// The decision (fields in `snake_case`, as the app's journal keeps them).
    pub entry: JournalEntry,
}

/// `GET /team/routing/journal`: the latest decisions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "RoutingJournal.ts")]
pub struct RoutingJournal {
    /// Newest first.
    pub decisions: Vec<RoutingDecisionEvent>,
}

/// `GET /team/routing/journal?limit=N`: how many decisions (100 unless given, at most
/// [`JOURNAL_LIMIT`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalQuery {
    /// How many.
    pub limit: Option<usize>,
}
