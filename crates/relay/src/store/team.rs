//! The team's state behind a trait: seats, invites, seat credentials, the integration's sealed
//! secrets and the facts about it, and the sign-ins the relay started itself.
//!
//! A store keeps secrets only as what it is given: hashes of credentials and invite codes (it
//! never sees either), and values sealed by the `sealing` module (it never sees the key). Every
//! change that matters to who may connect (a seat, a credential, the integration's presence)
//! moves the team generation, which a running relay reads cheaply to know when to reload.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use team_api::{Role, SeatProfile};

use crate::error::RelayError;
use crate::store::claims::ParkedCallClaims;
use crate::store::routing::RoutingStore;

/// The sealed record of the integration's client id and secret.
pub const INTEGRATION_CLIENT: &str = "integration.client";

/// The relay's team: 64 random bits made with the store, written as 16 hex digits. A seat
/// credential carries it, so a credential of another relay is recognised as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TeamId(pub u64);

impl fmt::Display for TeamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A seat as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatRecord {
    /// The seat's profile (number, name, role, workplace).
    pub profile: SeatProfile,
    /// When the seat was made.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When its credential in use was issued (by a join), if it has one.
    pub joined_at: Option<DateTime<Utc>>,
    /// When its outstanding invite expires, if it has one not yet used.
    pub invite_expires_at: Option<DateTime<Utc>>,
}

/// A seat to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSeat {
    /// Who sits there.
    pub name: String,
    /// The seat's workplace (SIP ID).
    pub workplace: String,
    /// What the seat may do.
    pub role: Role,
}

/// A seat as named on the command line: its number, or its name among the active seats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatRef {
    /// The seat's number.
    Id(i64),
    /// The name of an active seat.
    Name(String),
}

impl SeatRef {
    /// A number is a seat's number; anything else is a name.
    pub fn parse(text: &str) -> Self {
        match text.trim().parse::<i64>() {
            Ok(id) => SeatRef::Id(id),
            Err(_) => SeatRef::Name(text.trim().to_owned()),
        }
    }
}

impl fmt::Display for SeatRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeatRef::Id(id) => id.fmt(f),
            SeatRef::Name(name) => f.write_str(name),
        }
    }
}

/// A seat credential as the store keeps it: its hash, and its seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    /// SHA-256 of the credential.
    pub hash: [u8; 32],
    /// The seat it belongs to.
    pub seat: SeatProfile,
    /// Whether the credential was revoked (by a newer join, or with its seat).
    pub revoked: bool,
    /// Whether its seat was revoked.
    pub seat_revoked: bool,
    /// The seat was revoked with `--delete-local-data`: its app is asked to delete the
    /// team's history and contacts when it learns of the revocation.
    pub delete_local_data: bool,
}

/// What a running relay needs to admit seats: every credential, and whether the relay is in
/// team mode (an integration was connected to it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessSnapshot {
    /// Every seat credential ever issued, revoked ones included (so that a revoked one is told
    /// so, not "unknown").
    pub credentials: Vec<CredentialRecord>,
    /// An integration was connected to the relay once (its first code exchange succeeded);
    /// a later refusal does not end team mode.
    pub team_mode: bool,
}

/// The outcome of redeeming an invite. Only `Joined` changed anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// The seat's new credential is stored and its previous one revoked.
    Joined(SeatProfile),
    /// No invite has this code.
    Unknown,
    /// The invite outlived its expiry.
    Expired,
    /// The invite was used already, or replaced by a newer invite.
    Used,
    /// The invite's seat was revoked.
    SeatRevoked,
}

/// The team's store.
pub trait TeamStore: RoutingStore + ParkedCallClaims + Send + Sync + fmt::Debug + 'static {
    /// The relay's team id (made on first use).
    fn team_id(&self) -> BoxFuture<'_, Result<TeamId, RelayError>>;

    /// A number that changes whenever seats, credentials or the integration's presence change,
    /// in this process or another; cheap, read on every seat request.
    fn team_generation(&self) -> BoxFuture<'_, Result<i64, RelayError>>;

    /// The sealed value of the record `name`.
    fn sealed(&self, name: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, RelayError>>;

    /// Replaces the sealed value of `name`.
    fn put_sealed(&self, name: String, sealed: Vec<u8>) -> BoxFuture<'_, Result<(), RelayError>>;

    /// Removes the sealed values of `names`.
    fn delete_sealed(&self, names: Vec<String>) -> BoxFuture<'_, Result<(), RelayError>>;

    /// Puts the relay in team mode for good (the integration's first successful connect): from
    /// then on client keys are refused unless allowed. Moves the team generation.
    fn enter_team_mode(&self) -> BoxFuture<'_, Result<(), RelayError>>;

    /// A plain (not secret) fact, such as the integration's last refresh.
    fn fact(&self, name: String) -> BoxFuture<'_, Result<Option<String>, RelayError>>;

    /// Replaces a plain fact.
    fn put_fact(&self, name: String, value: String) -> BoxFuture<'_, Result<(), RelayError>>;

    /// Remembers (by hash) the `state` of a sign-in the relay started, until `expires_at`.
    fn add_connect_state(
        &self,
        state_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<(), RelayError>>;

    /// Whether `state_hash` is a sign-in the relay started and that has not expired at `now`;
    /// true only once (it is forgotten).
    fn take_connect_state(
        &self,
        state_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<bool, RelayError>>;

    /// Makes a seat.
    fn add_seat(&self, seat: NewSeat) -> BoxFuture<'_, Result<SeatRecord, RelayError>>;

    /// Every seat, revoked ones included, in number order.
    fn seats(&self) -> BoxFuture<'_, Result<Vec<SeatRecord>, RelayError>>;

    /// Changes an active seat's name, workplace and role; moves the team generation (the
    /// seat's streams and requests follow its new role).
    fn edit_seat(&self, id: i64, seat: NewSeat) -> BoxFuture<'_, Result<SeatRecord, RelayError>>;

    /// Revokes a seat, its credential and its invite.
    fn revoke_seat(&self, seat: SeatRef) -> BoxFuture<'_, Result<SeatRecord, RelayError>> {
        self.revoke_seat_asking(seat, false)
    }

    /// Revokes a seat, its credential and its invite; with `delete_local_data` the seat's
    /// app, refused from now on, is asked to delete the team's history and contacts.
    fn revoke_seat_asking(
        &self,
        seat: SeatRef,
        delete_local_data: bool,
    ) -> BoxFuture<'_, Result<SeatRecord, RelayError>>;

    /// Stores an invite for an active seat by its code's hash; an older unused invite of the
    /// seat is replaced (it no longer works).
    fn add_invite(
        &self,
        seat: SeatRef,
        code_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<SeatRecord, RelayError>>;

    /// Redeems an invite: when it is valid at `now`, marks it used, revokes the seat's
    /// credential in use and stores the new one, all at once; otherwise changes nothing.
    fn redeem_invite(
        &self,
        code_hash: [u8; 32],
        credential_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Redeemed, RelayError>>;

    /// What admitting seats needs.
    fn access_snapshot(&self) -> BoxFuture<'_, Result<AccessSnapshot, RelayError>>;

    /// Waits until no other relay instance on this store is refreshing the integration's
    /// tokens, and holds them off until the answer is dropped: МТТ may rotate the refresh
    /// token and refuse the old one, so two instances refreshing at once would sign the team
    /// out. The default holds nothing, for a store only one relay runs on (SQLite).
    fn refresh_lock(&self) -> BoxFuture<'_, Result<HeldLock, RelayError>> {
        Box::pin(async { Ok(HeldLock::none()) })
    }
}

/// A lock held across relay instances (see [`TeamStore::refresh_lock`]); dropping it releases
/// it.
pub struct HeldLock {
    _held: Option<Box<dyn Send>>,
}

impl HeldLock {
    /// A lock that holds nothing.
    pub fn none() -> Self {
        Self { _held: None }
    }

    /// A lock released when `guard` is dropped.
    pub fn new(guard: impl Send + 'static) -> Self {
        Self {
            _held: Some(Box::new(guard)),
        }
    }
}

impl fmt::Debug for HeldLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self._held.is_some() {
            "HeldLock(held)"
        } else {
            "HeldLock(none)"
        })
    }
}

/// A team store shared by the relay's tasks.
pub type SharedTeamStore = Arc<dyn TeamStore>;
