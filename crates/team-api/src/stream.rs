//! The team's own events on a seat's stream (`GET /events/stream` with a seat credential).
//!
//! Every stream event's `data:` is `{"id", "receivedAt", "kind", "body"}`; the PBX's events
//! keep their kinds (`callNotifications`, `vpbxNotifications`) and their bodies exactly as
//! received. The relay adds the kinds below, whose `body` is the type named. Which seat sees
//! what is decided per subscriber, the same way live and on a resume:
//!
//! | kind | body | operator | supervisor | admin |
//! |---|---|---|---|---|
//! | `callNotifications` | the PBX's | legs touching their workplace | all | all |
//! | `vpbxNotifications` | the PBX's (directory changed: read `GET /team/directory`) | yes | yes | yes |
//! | [`PRESENCE_KIND`] | [`PresenceEvent`] | yes | yes | yes |
//! | [`AVAILABILITY_KIND`](crate::AVAILABILITY_KIND) | [`AvailabilityEvent`](crate::AvailabilityEvent) | yes | yes | yes |
//! | [`CALLBACK_QUEUE_KIND`] | [`CallbackQueueEvent`] | yes | yes | yes |
//! | [`TEAM_KIND`] | [`TeamEvent`] | no | no | yes |
//! | [`PHONEBOOK_KIND`](crate::PHONEBOOK_KIND) | [`PhonebookChanged`](crate::PhonebookChanged) | yes | yes | yes |
//! | [`crate::ROUTING_KIND`] | [`crate::RoutingDecisionEvent`] | decisions that sent a call to their workplace | yes | yes |
//! | [`WRAPUP_KIND`](crate::wrapup::WRAPUP_KIND) | [`WrapUpEvent`](crate::wrapup::WrapUpEvent) | no (a colleague's notes reach an operator only through `GET /team/wrapups?number=`) | yes | yes |
//!
//! Other kinds (`unknown`, future ones) reach supervisors and admins only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::status::TeamStatus;

/// The kind of a [`PresenceEvent`].
pub const PRESENCE_KIND: &str = "presence";
/// The kind of a [`CallbackQueueEvent`].
pub const CALLBACK_QUEUE_KIND: &str = "callbackQueue";
/// The kind of a [`TeamEvent`].
pub const TEAM_KIND: &str = "team";

/// What a workplace is doing, as colleagues may see it: never who with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "Presence.ts")]
pub enum Presence {
    /// No live call.
    Free,
    /// A call is ringing there (none connected).
    Ringing,
    /// A call is connected there.
    Talking,
}

/// A workplace's presence changed. Carries no number and no name: only the workplace's SIP ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresenceEvent {
    /// The workplace's SIP ID.
    pub workplace: String,
    /// What it is doing now.
    pub presence: Presence,
}

/// One workplace in `GET /team/presence`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkplacePresence {
    /// The workplace's SIP ID.
    pub workplace: String,
    /// What it is doing.
    pub presence: Presence,
}

/// `GET /team/presence`'s answer: every workplace the relay knows (the directory's and the
/// seats'), free unless a live call says otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PresenceSummary {
    /// The workplaces, by SIP ID.
    pub workplaces: Vec<WorkplacePresence>,
}

/// A change to the team's shared callback queue: a call to a company number that nobody
/// answered is offered to every operator; the first dial to that number from any seat clears
/// it for all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum CallbackQueueEvent {
    /// A missed call waits for a call back.
    Offered(CallbackOffer),
    /// The number was called back (or the customer got through); take it off the queue.
    Cleared(CallbackCleared),
}

/// A missed call offered for a call back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallbackOffer {
    /// The customer's number: what to dial.
    pub number: String,
    /// The company number they called, if the PBX said.
    pub company_number: Option<String>,
    /// The missed leg's id.
    pub leg_id: String,
    /// When the relay saw the call end unanswered.
    pub missed_at: DateTime<Utc>,
}

/// A number taken off the callback queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallbackCleared {
    /// The customer's number, as offered.
    pub number: String,
    /// The seat whose dial cleared it, if a dial did.
    pub by_seat: Option<i64>,
}

/// `GET /team/callbacks`'s answer: the queue now, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CallbackQueue {
    /// The offers still waiting.
    pub offers: Vec<CallbackOffer>,
}

/// Why the relay told its admins about the integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TeamNotice {
    /// A refresh of the integration's tokens failed (МТТ refused it or could not be reached).
    RefreshFailing,
    /// МТТ does not rotate refresh tokens and the refresh token lapses within a day:
    /// reconnect the integration (`trubka-relay team connect`) before then.
    LapseWarning,
    /// A refresh succeeded again after failing.
    Recovered,
}

/// An event about the team's integration, for admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamEvent {
    /// Why this was sent.
    pub notice: TeamNotice,
    /// For people.
    pub message: String,
    /// The integration's state when this was sent.
    pub status: TeamStatus,
}
