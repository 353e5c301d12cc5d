//! Who decides a parked call: a claim with a lease, kept in the store every instance shares.
//!
//! Every instance sees every committed parked call (its own intake's or another's, through the
//! store's announcements) and asks to decide it. The first ask is granted a short lease; the
//! others learn when it ends and ask again then. The holder renews its lease while it decides
//! (a decision may wait for its facts up to the deadline), so a lease ends early only when its
//! holder stops: dies, hangs, or loses the database. The holder, before it sends anything to the
//! PBX, turns its claim into "acting" — only while its lease lasts and only if the claim is
//! still its own (the token), which is the fence: an instance that stalled past its lease and
//! was taken over cannot send afterwards, and a claim that is acting is never taken over, so
//! an instance that died after sending is not followed by a second `transferCall`. A lease
//! that ends with the claim still unacted (its holder died, hung or lost the database) is
//! granted to the next instance that asks, which decides with what is left of the deadline.
//!
//! The same caller calling the same parked number again within [`REPEAT_WINDOW`] is the same
//! call announced twice (the PBX may give a parking leg more than once): its claim is settled
//! already, whichever instance stored which announcement. Callers with hidden numbers cannot be
//! told apart, so their calls are told apart by the leg alone.
//!
//! Times are the database's (Postgres' `now()`), so the instances' clocks need not agree.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::future::BoxFuture;

use crate::error::RelayError;

/// A caller's second parking leg for the same number within this window is one call.
pub const REPEAT_WINDOW: TimeDelta = TimeDelta::seconds(10);

/// One instance's ask to decide a parked call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedCallClaim {
    /// The parking leg.
    pub leg: String,
    /// The caller's number as routing keys it (digits; empty when hidden).
    pub caller_key: String,
    /// The parked external number called.
    pub external_number: String,
    /// When the relay received the leg (its stored receipt time).
    pub received_at: DateTime<Utc>,
    /// This ask's own token: only the ask that was granted may act.
    pub token: i64,
    /// Who asks (host and process), shown to whoever looks at the claims.
    pub holder: String,
    /// How long the grant lasts unless acted on.
    pub lease: Duration,
}

/// The answer to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimAnswer {
    /// Decide it; `taken_over` when another instance held it first and let its lease run out.
    Granted {
        /// Whether the lease was taken over from another holder.
        taken_over: bool,
    },
    /// Another holder's lease lasts this much longer: ask again then.
    HeldElsewhere {
        /// What is left of the other holder's lease.
        lease_left: Duration,
    },
    /// Decided (or being acted on) already, or a repeat of a call claimed already.
    Settled,
}

/// Where a parked call's claim stands, for whoever looks (an admin, a test).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimState {
    /// Who holds it, or held it when it was acted on (host and process).
    pub holder: String,
    /// How many times it was taken over from a holder that stopped.
    pub takeovers: i64,
    /// Whether its holder acted on it (sent the PBX its decision).
    pub acting: bool,
}

/// The claims part of the team's store.
pub trait ParkedCallClaims: Send + Sync + 'static {
    /// Asks to decide a parked call (see the module's description).
    fn claim_parked_call(
        &self,
        claim: ParkedCallClaim,
    ) -> BoxFuture<'_, Result<ClaimAnswer, RelayError>>;

    /// Extends the lease of the claim granted to `token` by `lease` from now, while its holder
    /// decides: `false` if the claim is no longer this token's (taken over) or is acting.
    fn renew_claim(
        &self,
        leg: String,
        token: i64,
        lease: Duration,
    ) -> BoxFuture<'_, Result<bool, RelayError>>;

    /// Turns the claim granted to `token` into "acting", before anything is sent to the PBX:
    /// `true` if it was still this token's and its lease had not ended. After `false` the
    /// caller must send nothing.
    fn start_acting(&self, leg: String, token: i64) -> BoxFuture<'_, Result<bool, RelayError>>;

    /// Where the claim on a parking leg stands, if there is one.
    fn claim_of(&self, leg: String) -> BoxFuture<'_, Result<Option<ClaimState>, RelayError>>;

    /// Forgets claims on calls received before `cutoff`; answers how many.
    fn prune_claims_before(&self, cutoff: DateTime<Utc>) -> BoxFuture<'_, Result<u64, RelayError>>;
}
