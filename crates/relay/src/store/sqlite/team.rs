//! [`TeamStore`] over SQLite: every call runs on tokio's blocking pool on the team's own
//! connection; writes are short IMMEDIATE transactions beside the event writer's.

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::sealed::{self, store_error};
use super::{SqliteStore, lock, seats};
use crate::error::RelayError;
use crate::store::team::{
    AccessSnapshot, NewSeat, Redeemed, SeatRecord, SeatRef, TeamId, TeamStore,
};

impl SqliteStore {
    pub(super) async fn team_read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection, &std::path::Path) -> Result<T, RelayError> + Send + 'static,
    ) -> Result<T, RelayError> {
        let conn = std::sync::Arc::clone(&self.team);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || query(&lock(&conn), &path))
            .await
            .map_err(|_| RelayError::StoreClosed)?
    }

    /// Runs `change` in one IMMEDIATE transaction, committed only when it returns `Ok` and
    /// `keep` says so (a refused join changes nothing).
    pub(super) async fn team_write<T: Send + 'static>(
        &self,
        change: impl FnOnce(&Transaction<'_>, &std::path::Path) -> Result<T, RelayError>
        + Send
        + 'static,
        keep: fn(&T) -> bool,
    ) -> Result<T, RelayError> {
        let conn = std::sync::Arc::clone(&self.team);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&conn);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(store_error(&path))?;
            let done = change(&tx, &path)?;
            if keep(&done) {
                tx.commit().map_err(store_error(&path))?;
            }
            Ok(done)
        })
        .await
        .map_err(|_| RelayError::StoreClosed)?
    }
}

pub(super) fn always<T>(_: &T) -> bool {
    true
}

impl TeamStore for SqliteStore {
    fn team_id(&self) -> BoxFuture<'_, Result<TeamId, RelayError>> {
        self.team_read(sealed::team_id).boxed()
    }

    fn team_generation(&self) -> BoxFuture<'_, Result<i64, RelayError>> {
        self.team_read(sealed::team_generation).boxed()
    }

    fn sealed(&self, name: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, RelayError>> {
        self.team_read(move |conn, path| sealed::sealed(conn, &name, path))
            .boxed()
    }

    fn put_sealed(&self, name: String, value: Vec<u8>) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| sealed::put_sealed(tx, &name, &value, Utc::now(), path),
            always,
        )
        .boxed()
    }

    fn delete_sealed(&self, names: Vec<String>) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| sealed::delete_sealed(tx, &names, path),
            always,
        )
        .boxed()
    }

    fn enter_team_mode(&self) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(sealed::enter_team_mode, always).boxed()
    }

    fn fact(&self, name: String) -> BoxFuture<'_, Result<Option<String>, RelayError>> {
        self.team_read(move |conn, path| sealed::fact(conn, &name, path))
            .boxed()
    }

    fn put_fact(&self, name: String, value: String) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| sealed::put_fact(tx, &name, &value, path),
            always,
        )
        .boxed()
    }

    fn add_connect_state(
        &self,
        state_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| {
                sealed::add_connect_state(tx, &state_hash, expires_at, Utc::now(), path)
            },
            always,
        )
        .boxed()
    }

    fn take_connect_state(
        &self,
        state_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<bool, RelayError>> {
        self.team_write(
            move |tx, path| sealed::take_connect_state(tx, &state_hash, now, path),
            always,
        )
        .boxed()
    }

    fn add_seat(&self, seat: NewSeat) -> BoxFuture<'_, Result<SeatRecord, RelayError>> {
        self.team_write(
            move |tx, path| seats::add_seat(tx, &seat, Utc::now(), path),
            always,
        )
        .boxed()
    }

    fn seats(&self) -> BoxFuture<'_, Result<Vec<SeatRecord>, RelayError>> {
        self.team_read(seats::seats).boxed()
    }

    fn edit_seat(&self, id: i64, seat: NewSeat) -> BoxFuture<'_, Result<SeatRecord, RelayError>> {
        self.team_write(
            move |tx, path| seats::edit_seat(tx, id, &seat, path),
            always,
        )
        .boxed()
    }

    fn revoke_seat_asking(
        &self,
        seat: SeatRef,
        delete_local_data: bool,
    ) -> BoxFuture<'_, Result<SeatRecord, RelayError>> {
        self.team_write(
            move |tx, path| seats::revoke_seat(tx, &seat, delete_local_data, Utc::now(), path),
            always,
        )
        .boxed()
    }

    fn add_invite(
        &self,
        seat: SeatRef,
        code_hash: [u8; 32],
        expires_at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<SeatRecord, RelayError>> {
        self.team_write(
            move |tx, path| seats::add_invite(tx, &seat, &code_hash, expires_at, Utc::now(), path),
            always,
        )
        .boxed()
    }

    fn redeem_invite(
        &self,
        code_hash: [u8; 32],
        credential_hash: [u8; 32],
        now: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<Redeemed, RelayError>> {
        self.team_write(
            move |tx, path| seats::redeem_invite(tx, &code_hash, &credential_hash, now, path),
            |redeemed| matches!(redeemed, Redeemed::Joined(_)),
        )
        .boxed()
    }

    fn access_snapshot(&self) -> BoxFuture<'_, Result<AccessSnapshot, RelayError>> {
        self.team_read(seats::access_snapshot).boxed()
    }
}
