//! The admin console's accounts and sessions behind a trait, and what the relay learnt of each
//! seat's app (its version, when it was last seen).
//!
//! An account is a seat with role admin or supervisor that was given a console password: the
//! store keeps its argon2id PHC string only, with the wrong passwords in a row and the lock they
//! caused. A session is kept by the SHA-256 of its id (the cookie's value never reaches the
//! store) and of its CSRF token.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::error::RelayError;

/// A console account as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleAccount {
    /// The seat's number.
    pub seat: i64,
    /// The password's argon2id PHC string.
    pub password_hash: String,
    /// Wrong passwords in a row since the last good one (or the last lock).
    pub failed_in_a_row: u32,
    /// Sign-in is refused until then.
    pub locked_until: Option<DateTime<Utc>>,
}

/// What a wrong password did to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedSignIn {
    /// Counted; the account is not locked.
    Counted(u32),
    /// This one reached the limit: locked until then (the count starts over).
    Locked(DateTime<Utc>),
}

/// A console session as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSessionRecord {
    /// SHA-256 of the session id.
    pub id_hash: [u8; 32],
    /// SHA-256 of its CSRF token.
    pub csrf_hash: [u8; 32],
    /// The seat signed in.
    pub seat: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was last used.
    pub last_used_at: DateTime<Utc>,
}

/// What the relay saw of a seat's app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatSeen {
    /// The seat's number.
    pub seat: i64,
    /// The app's version from its `User-Agent: Trubka/<version>`, if it sent one.
    pub app_version: Option<String>,
    /// When a stream of the seat last opened or closed.
    pub last_seen_at: DateTime<Utc>,
}

/// The console's store.
pub trait ConsoleStore: Send + Sync + std::fmt::Debug + 'static {
    /// Sets (or replaces) a seat's console password; clears its wrong-password count and lock.
    fn set_console_password(
        &self,
        seat: i64,
        password_hash: String,
    ) -> BoxFuture<'_, Result<(), RelayError>>;

    /// A seat's console account, if it has one.
    fn console_account(
        &self,
        seat: i64,
    ) -> BoxFuture<'_, Result<Option<ConsoleAccount>, RelayError>>;

    /// Every console account, by seat number.
    fn console_accounts(&self) -> BoxFuture<'_, Result<Vec<ConsoleAccount>, RelayError>>;

    /// Removes a seat's console account and ends its sessions; whether it had one.
    fn remove_console_account(&self, seat: i64) -> BoxFuture<'_, Result<bool, RelayError>>;

    /// Counts a wrong password; the `limit`-th in a row locks the account until `now + lock`.
    fn console_sign_in_failed(
        &self,
        seat: i64,
        now: DateTime<Utc>,
        limit: u32,
        lock: chrono::TimeDelta,
    ) -> BoxFuture<'_, Result<FailedSignIn, RelayError>>;

    /// A good password: the count starts over.
    fn console_sign_in_succeeded(&self, seat: i64) -> BoxFuture<'_, Result<(), RelayError>>;

    /// Stores a new session.
    fn add_console_session(
        &self,
        session: ConsoleSessionRecord,
    ) -> BoxFuture<'_, Result<(), RelayError>>;

    /// A session by its id's hash.
    fn console_session(
        &self,
        id_hash: [u8; 32],
    ) -> BoxFuture<'_, Result<Option<ConsoleSessionRecord>, RelayError>>;

    /// Marks a session used at `at`.
    fn touch_console_session(
        &self,
        id_hash: [u8; 32],
        at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<(), RelayError>>;

    /// Ends one session.
    fn remove_console_session(&self, id_hash: [u8; 32]) -> BoxFuture<'_, Result<(), RelayError>>;

    /// Ends every session of a seat; answers how many.
    fn remove_console_sessions_of(&self, seat: i64) -> BoxFuture<'_, Result<u64, RelayError>>;

    /// Removes the sessions last used before `idle_cutoff` or made before `absolute_cutoff`
    /// (both have expired); answers how many.
    fn prune_console_sessions(
        &self,
        idle_cutoff: DateTime<Utc>,
        absolute_cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>>;

    /// Records a seat's app seen at `at` (its version, when known, replaces the one kept).
    fn seat_seen(
        &self,
        seat: i64,
        app_version: Option<String>,
        at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<(), RelayError>>;

    /// What was seen of every seat's app.
    fn seats_seen(&self) -> BoxFuture<'_, Result<Vec<SeatSeen>, RelayError>>;
}

/// A console store shared by the relay's tasks.
pub type SharedConsoleStore = Arc<dyn ConsoleStore>;
