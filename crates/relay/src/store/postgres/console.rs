//! [`ConsoleStore`] on Postgres: `console_accounts`, `console_sessions` and the seats'
//! `app_version` and `last_seen_at`. A console session made through one instance is known to
//! every instance, so the balancer needs no sticky sessions for the console either.

use chrono::{DateTime, TimeDelta, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use tokio_postgres::Row;

use super::{PostgresStore, failed};
use crate::error::RelayError;
use crate::store::console::{
    ConsoleAccount, ConsoleSessionRecord, ConsoleStore, FailedSignIn, SeatSeen,
};

const ACCOUNT_COLUMNS: &str = "seat_id, password_hash, failed_in_a_row, locked_until";

fn account(row: &Row) -> ConsoleAccount {
    ConsoleAccount {
        seat: row.get(0),
        password_hash: row.get(1),
        failed_in_a_row: u32::try_from(row.get::<_, i64>(2)).unwrap_or(u32::MAX),
        locked_until: row.get(3),
    }
}

fn hash32(row: &Row, index: usize) -> Result<[u8; 32], RelayError> {
    <[u8; 32]>::try_from(row.get::<_, Vec<u8>>(index))
        .map_err(|_| RelayError::PostgresData("a stored session hash is not 32 bytes long".into()))
}

impl ConsoleStore for PostgresStore {
    fn set_console_password(
        &self,
        seat: i64,
        password_hash: String,
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "INSERT INTO console_accounts (seat_id, password_hash, failed_in_a_row, locked_until, updated_at)
                     VALUES ($1, $2, 0, NULL, $3)
                     ON CONFLICT (seat_id) DO UPDATE SET password_hash = excluded.password_hash,
                       failed_in_a_row = 0, locked_until = NULL, updated_at = excluded.updated_at",
                    &[&seat, &password_hash, &Utc::now()],
                )
                .await
                .map_err(failed("storing a console password"))?;
            Ok(())
        }
        .boxed()
    }

    fn console_account(
        &self,
        seat: i64,
    ) -> BoxFuture<'_, Result<Option<ConsoleAccount>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let row = client
                .query_opt(
                    &format!("SELECT {ACCOUNT_COLUMNS} FROM console_accounts WHERE seat_id = $1"),
                    &[&seat],
                )
                .await
                .map_err(failed("reading a console account"))?;
            Ok(row.as_ref().map(account))
        }
        .boxed()
    }

    fn console_accounts(&self) -> BoxFuture<'_, Result<Vec<ConsoleAccount>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let rows = client
                .query(
                    &format!("SELECT {ACCOUNT_COLUMNS} FROM console_accounts ORDER BY seat_id"),
                    &[],
                )
                .await
                .map_err(failed("reading the console accounts"))?;
            Ok(rows.iter().map(account).collect())
        }
        .boxed()
    }

    fn remove_console_account(&self, seat: i64) -> BoxFuture<'_, Result<bool, RelayError>> {
        async move {
            in_transaction!(self, tx, super::team::always, {
                tx.execute("DELETE FROM console_sessions WHERE seat_id = $1", &[&seat])
                    .await
                    .map_err(failed("ending a console account's sessions"))?;
                tx.execute("DELETE FROM console_accounts WHERE seat_id = $1", &[&seat])
                    .await
                    .map_err(failed("removing a console account"))?
                    > 0
            })
        }
        .boxed()
    }

    fn console_sign_in_failed(
        &self,
        seat: i64,
        now: DateTime<Utc>,
        limit: u32,
        lock: TimeDelta,
    ) -> BoxFuture<'_, Result<FailedSignIn, RelayError>> {
        async move {
            in_transaction!(self, tx, super::team::always, {
                // One statement counts, so wrong passwords sent to several instances at once
                // are all counted.
                let failed_now: i64 = tx
                    .query_opt(
                        "UPDATE console_accounts SET failed_in_a_row = failed_in_a_row + 1
                         WHERE seat_id = $1 RETURNING failed_in_a_row",
                        &[&seat],
                    )
                    .await
                    .map_err(failed("counting a wrong console password"))?
                    .map_or(0, |row| row.get(0));
                let counted = u32::try_from(failed_now).unwrap_or(u32::MAX);
                if counted < limit.max(1) {
                    FailedSignIn::Counted(counted)
                } else {
                    let until = now + lock;
                    tx.execute(
                        "UPDATE console_accounts SET failed_in_a_row = 0, locked_until = $2
                         WHERE seat_id = $1",
                        &[&seat, &until],
                    )
                    .await
                    .map_err(failed("locking a console account"))?;
                    FailedSignIn::Locked(until)
                }
            })
        }
        .boxed()
    }

    fn console_sign_in_succeeded(&self, seat: i64) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "UPDATE console_accounts SET failed_in_a_row = 0, locked_until = NULL
                     WHERE seat_id = $1",
                    &[&seat],
                )
                .await
                .map_err(failed("clearing a console account's wrong passwords"))?;
            Ok(())
        }
        .boxed()
    }

    fn add_console_session(
        &self,
        session: ConsoleSessionRecord,
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "INSERT INTO console_sessions (id_hash, csrf_hash, seat_id, created_at, last_used_at)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &session.id_hash.as_slice(),
                        &session.csrf_hash.as_slice(),
                        &session.seat,
                        &session.created_at,
                        &session.last_used_at,
                    ],
                )
                .await
                .map_err(failed("storing a console session"))?;
            Ok(())
        }
        .boxed()
    }

    fn console_session(
        &self,
        id_hash: [u8; 32],
    ) -> BoxFuture<'_, Result<Option<ConsoleSessionRecord>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let row = client
                .query_opt(
                    "SELECT id_hash, csrf_hash, seat_id, created_at, last_used_at
                     FROM console_sessions WHERE id_hash = $1",
                    &[&id_hash.as_slice()],
                )
                .await
                .map_err(failed("reading a console session"))?;
            row.map(|row| {
                Ok(ConsoleSessionRecord {
                    id_hash: hash32(&row, 0)?,
                    csrf_hash: hash32(&row, 1)?,
                    seat: row.get(2),
                    created_at: row.get(3),
                    last_used_at: row.get(4),
                })
            })
            .transpose()
        }
        .boxed()
    }

    fn touch_console_session(
        &self,
        id_hash: [u8; 32],
        at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "UPDATE console_sessions SET last_used_at = greatest(last_used_at, $2)
                     WHERE id_hash = $1",
                    &[&id_hash.as_slice(), &at],
                )
                .await
                .map_err(failed("using a console session"))?;
            Ok(())
        }
        .boxed()
    }

    fn remove_console_session(&self, id_hash: [u8; 32]) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "DELETE FROM console_sessions WHERE id_hash = $1",
                    &[&id_hash.as_slice()],
                )
                .await
                .map_err(failed("ending a console session"))?;
            Ok(())
        }
        .boxed()
    }

    fn remove_console_sessions_of(&self, seat: i64) -> BoxFuture<'_, Result<u64, RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute("DELETE FROM console_sessions WHERE seat_id = $1", &[&seat])
                .await
                .map_err(failed("ending a seat's console sessions"))
        }
        .boxed()
    }

    fn prune_console_sessions(
        &self,
        idle_cutoff: DateTime<Utc>,
        absolute_cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "DELETE FROM console_sessions WHERE last_used_at < $1 OR created_at < $2",
                    &[&idle_cutoff, &absolute_cutoff],
                )
                .await
                .map_err(failed("removing expired console sessions"))
        }
        .boxed()
    }

    fn seat_seen(
        &self,
        seat: i64,
        app_version: Option<String>,
        at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "UPDATE seats SET app_version = coalesce($2, app_version), last_seen_at = $3
                     WHERE id = $1",
                    &[&seat, &app_version, &at],
                )
                .await
                .map_err(failed("noting a seat's app"))?;
            Ok(())
        }
        .boxed()
    }

    fn seats_seen(&self) -> BoxFuture<'_, Result<Vec<SeatSeen>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let rows = client
                .query(
                    "SELECT id, app_version, last_seen_at FROM seats
                     WHERE last_seen_at IS NOT NULL ORDER BY id",
                    &[],
                )
                .await
                .map_err(failed("reading the seats' apps"))?;
            Ok(rows
                .iter()
                .map(|row| SeatSeen {
                    seat: row.get(0),
                    app_version: row.get(1),
                    last_seen_at: row.get(2),
                })
                .collect())
        }
        .boxed()
    }
}
