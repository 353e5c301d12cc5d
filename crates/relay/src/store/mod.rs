//! The relay's durable event store, behind a trait so that another store can replace SQLite.
//!
//! Architecture invariant: this module and its `sqlite` submodule are the only place in the
//! relay that knows how events are persisted, and the files under `sqlite/` hold every SQL
//! string of the crate (a later Postgres store would keep its own under `postgres/`). This is
//! the project's one documented exception to "only `call-log` speaks SQL".
//!
//! A store promises four things the rest of the relay builds on:
//! - [`EventStore::append`] resolves only after the event is committed durably, so a 2xx
//!   answered after it can never be lost;
//! - ids grow strictly and are never reused, even after pruning, within one [`Epoch`];
//! - the pair (epoch, id) names one event for good: a store put back to an older state (a
//!   restored backup) or created anew gets a new epoch, since its ids may repeat;
//! - every committed event is announced to the [`CommitSink`] in id order, after its commit,
//!   which is what lets a stream read the backlog and switch to live events without a gap.

pub mod audit;
pub mod claims;
pub mod console;
mod location;
pub mod phonebook;
pub mod postgres;
pub mod routing;
pub mod sqlite;
pub mod team;
pub mod wrapup;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::error::RelayError;

pub use location::{DatabaseUrl, StoreLocation};

/// The relay's number for an event: the SSE `id`, strictly increasing, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventId(pub i64);

impl EventId {
    /// The position before the first event: streaming "after" it starts from the beginning.
    pub const START: EventId = EventId(0);
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which history of the store an id belongs to: 64 random bits, written as 16 lowercase hex
/// digits. A store gets a new epoch when it is created and when a backup is restored into its
/// place (`trubka-relay restore`), the two moments after which ids already handed out may be
/// handed out again for other events. A client that remembers the epoch with its resume point
/// can so tell "after 10 in this history" from "after 10 in a history that is gone".
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Epoch(u64);

impl Epoch {
    /// A fresh random epoch.
    pub fn generate() -> Self {
        Self(rand::random())
    }

    /// The epoch as SQLite keeps it (an integer with the same 64 bits).
    pub fn to_stored(self) -> i64 {
        i64::from_ne_bytes(self.0.to_ne_bytes())
    }

    /// The epoch from its stored integer.
    pub fn from_stored(stored: i64) -> Self {
        Self(u64::from_ne_bytes(stored.to_ne_bytes()))
    }

    /// The epoch from its text (16 hex digits), as the stream writes it.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 16 && text.bytes().all(|byte| byte.is_ascii_hexdigit()))
            .then(|| u64::from_str_radix(text, 16).ok().map(Self))
            .flatten()
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Epoch({self})")
    }
}

/// A notification accepted at intake and not yet stored.
#[derive(Debug, Clone)]
pub struct IncomingNotification {
    kind: String,
    body: String,
    value: Box<RawValue>,
    body_hash: [u8; 32],
    mergeable: bool,
}

/// The kind of a call leg's notification, the only kind whose repeats may be merged.
const CALL_NOTIFICATIONS: &str = "callNotifications";

/// Just enough of a call notification to find its leg: `result.callInfo.call.id`.
#[derive(Deserialize)]
struct LegEnvelope<'a> {
    #[serde(borrow, default)]
    result: Option<LegResult<'a>>,
}

#[derive(Deserialize)]
struct LegResult<'a> {
    #[serde(borrow, default, rename = "callInfo")]
    call_info: Option<LegCallInfo<'a>>,
}

#[derive(Deserialize)]
struct LegCallInfo<'a> {
    #[serde(borrow, default)]
    call: Option<LegCall<'a>>,
}

#[derive(Deserialize)]
struct LegCall<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
}

/// Whether a body is a call leg's notification: its kind is `callNotifications` and it names
/// the leg (`result.callInfo.call.id`). The desktop merges a leg's events by the leg's id, so
/// the same body twice changes nothing and a repeat may be answered with the first copy.
/// Anything else (a directory change such as `numbersChanged`, an unknown kind, a body without
/// a leg) may legitimately say the same thing twice, and every copy is streamed.
fn is_leg_notification(kind: &str, body: &str) -> bool {
    kind == CALL_NOTIFICATIONS
        && serde_json::from_str::<LegEnvelope<'_>>(body)
            .ok()
            .and_then(|envelope| envelope.result?.call_info?.call?.id)
            .is_some_and(|id| !id.is_empty())
}

impl IncomingNotification {
    /// Wraps a body that must be JSON; `kind` is what the stream will call the event.
    pub fn new(kind: String, body: String) -> Result<Self, serde_json::Error> {
        let value = RawValue::from_string(body.clone())?;
        let body_hash: [u8; 32] = Sha256::digest(body.as_bytes()).into();
        let mergeable = is_leg_notification(&kind, &body);
        Ok(Self {
            kind,
            body,
            value,
            body_hash,
            mergeable,
        })
    }

    /// Whether a repeat of this body within the duplicate window may be answered with the copy
    /// stored first instead of being stored again: true only for a call leg's notification.
    pub fn mergeable(&self) -> bool {
        self.mergeable
    }

    /// The notification's `event` field (`callNotifications`, `vpbxNotifications`...), or
    /// `unknown`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The body exactly as received.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// SHA-256 of the body, for recognising a delivery repeated within the duplicate window.
    pub fn body_hash(&self) -> &[u8; 32] {
        &self.body_hash
    }

    /// Turns the notification into the stored event once the store has numbered it.
    pub fn into_stored(self, epoch: Epoch, id: EventId, received_at: DateTime<Utc>) -> StoredEvent {
        StoredEvent {
            epoch,
            id,
            received_at,
            kind: self.kind,
            body: self.value,
        }
    }
}

/// An event as stored: the notification with its id and receipt time.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The store's history the id belongs to.
    pub epoch: Epoch,
    /// The relay's number for the event.
    pub id: EventId,
    /// When the relay committed it (UTC, millisecond precision).
    pub received_at: DateTime<Utc>,
    /// The notification's kind.
    pub kind: String,
    /// The body as received (JSON).
    pub body: Box<RawValue>,
}

/// A stored row that could not be read as an event: its body is not JSON text, or its receipt
/// time or kind is unreadable. Only a hand edit or a damaged disk makes one; a stream passes
/// over it (with a log line and a metric) instead of ending there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableEvent {
    /// The row's id.
    pub id: EventId,
    /// What was wrong with it.
    pub reason: String,
}

/// What one read of the backlog found, in id order: the events, and the rows that could not be
/// read as events.
#[derive(Debug, Clone, Default)]
pub struct EventPage {
    /// The readable events.
    pub events: Vec<StoredEvent>,
    /// The rows passed over.
    pub unreadable: Vec<UnreadableEvent>,
}

impl EventPage {
    /// How many rows the read covered, readable or not (what the read's `limit` counts).
    pub fn rows(&self) -> usize {
        self.events.len() + self.unreadable.len()
    }

    /// The highest id the read covered, readable or not: the next read starts after it.
    pub fn last_id(&self) -> Option<EventId> {
        let events = self.events.last().map(|event| event.id);
        let unreadable = self.unreadable.iter().map(|row| row.id).max();
        events.max(unreadable)
    }
}

/// The answer to [`EventStore::append`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The event's id; for a duplicate, the id of the copy stored earlier.
    pub id: EventId,
    /// True when the same call leg's notification was already stored within the duplicate
    /// window (only those are merged; see [`IncomingNotification::mergeable`]).
    pub duplicate: bool,
}

/// How far the store reaches back, for answering a resume point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Horizon {
    /// The highest id removed by retention (0 if nothing was ever removed). A client resuming
    /// before it has missed events for good.
    pub pruned_through: EventId,
    /// The highest id ever assigned (0 if none).
    pub last_id: EventId,
}

/// A client key as the store keeps it: never the key itself, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKeyRecord {
    /// The operator seat or person the key was issued to.
    pub label: String,
    /// SHA-256 of the key.
    pub key_hash: [u8; 32],
    /// When the key was created.
    pub created_at: DateTime<Utc>,
    /// When the key was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Receives every committed event, in id order, right after its commit.
pub trait CommitSink: Send + Sync + 'static {
    /// Called by the store's writer; it must not block (the fan-out only hands events to
    /// bounded per-client queues).
    fn committed(&self, events: &[StoredEvent]);
}

/// A durable store of relayed events and of client key hashes.
pub trait EventStore: Send + Sync + fmt::Debug + 'static {
    /// Stores a notification durably (or recognises a call leg's notification as a duplicate)
    /// and resolves after the commit.
    fn append(
        &self,
        notification: IncomingNotification,
    ) -> BoxFuture<'_, Result<Appended, RelayError>>;

    /// Up to `limit` stored rows with an id greater than `after`, in id order: the events, and
    /// apart from them the rows that cannot be read as events (which never end a read).
    fn events_after(
        &self,
        after: EventId,
        limit: usize,
    ) -> BoxFuture<'_, Result<EventPage, RelayError>>;

    /// The retention horizon and the last id.
    fn horizon(&self) -> BoxFuture<'_, Result<Horizon, RelayError>>;

    /// The store's epoch: fixed while it is open (a restore needs the relay stopped).
    fn epoch(&self) -> Epoch;

    /// Removes the events received before `cutoff`; returns how many were removed.
    fn prune_received_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>>;

    /// The store's size on disk in bytes.
    fn size_bytes(&self) -> BoxFuture<'_, Result<u64, RelayError>>;

    /// Records a new client key by its hash.
    fn add_client_key(
        &self,
        label: String,
        key_hash: [u8; 32],
    ) -> BoxFuture<'_, Result<(), RelayError>>;

    /// All client keys, active and revoked, oldest first.
    fn client_keys(&self) -> BoxFuture<'_, Result<Vec<ClientKeyRecord>, RelayError>>;

    /// A number that changes whenever a key is added or revoked, by this process or another.
    /// It is read on every stream request, so it must be cheap; a cache of [`Self::client_keys`]
    /// is current as long as this number is the one read before the keys were.
    fn keys_generation(&self) -> BoxFuture<'_, Result<i64, RelayError>>;

    /// Revokes the active key with this label.
    fn revoke_client_key(&self, label: String) -> BoxFuture<'_, Result<(), RelayError>>;
}

/// A store shared by the relay's tasks.
pub type SharedStore = Arc<dyn EventStore>;

/// Every part of the relay's state in one store: what both SQLite and Postgres implement.
pub trait RelayStore:
    EventStore
    + team::TeamStore
    + audit::AuditStore
    + wrapup::WrapUpStore
    + phonebook::PhonebookStore
    + console::ConsoleStore
{
}

impl<T> RelayStore for T where
    T: EventStore
        + team::TeamStore
        + audit::AuditStore
        + wrapup::WrapUpStore
        + phonebook::PhonebookStore
        + console::ConsoleStore
{
}

/// A sink that ignores commits, for the command line's key management, which stores no events.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSink;

impl CommitSink for NoSink {
    fn committed(&self, _events: &[StoredEvent]) {}
}
