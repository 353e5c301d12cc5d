//! [`ConsoleStore`] over SQLite: the `console_accounts` and `console_sessions` tables and the
//! seats' `app_version` and `last_seen_at` (schema version 9), on the team's connection.

use chrono::{DateTime, TimeDelta, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use super::schema::{parse_timestamp, timestamp};
use super::sealed::store_error;
use super::team::always;
use crate::error::RelayError;
use crate::store::console::{
    ConsoleAccount, ConsoleSessionRecord, ConsoleStore, FailedSignIn, SeatSeen,
};

fn account(row: &Row<'_>) -> rusqlite::Result<ConsoleAccount> {
    let locked: Option<String> = row.get(3)?;
    Ok(ConsoleAccount {
        seat: row.get(0)?,
        password_hash: row.get(1)?,
        failed_in_a_row: row.get(2)?,
        locked_until: locked.as_deref().map(parse_timestamp).transpose()?,
    })
}

fn hash32(row: &Row<'_>, index: usize) -> rusqlite::Result<[u8; 32]> {
    let bytes: Vec<u8> = row.get(index)?;
    bytes.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Blob,
            "a session hash is 32 bytes".into(),
        )
    })
}

const ACCOUNT_COLUMNS: &str = "seat_id, password_hash, failed_in_a_row, locked_until";

impl ConsoleStore for SqliteStore {
    fn set_console_password(
        &self,
        seat: i64,
        password_hash: String,
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute(
                    "INSERT INTO console_accounts (seat_id, password_hash, failed_in_a_row, locked_until, updated_at)
                     VALUES (?1, ?2, 0, NULL, ?3)
                     ON CONFLICT (seat_id) DO UPDATE SET password_hash = excluded.password_hash,
                       failed_in_a_row = 0, locked_until = NULL, updated_at = excluded.updated_at",
                    params![seat, password_hash, timestamp(Utc::now())],
                )
                .map_err(store_error(path))?;
                Ok(())
            },
            always,
        )
        .boxed()
    }

    fn console_account(
        &self,
        seat: i64,
    ) -> BoxFuture<'_, Result<Option<ConsoleAccount>, RelayError>> {
        self.team_read(move |conn, path| {
            conn.query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM console_accounts WHERE seat_id = ?1"),
                [seat],
                account,
            )
            .optional()
            .map_err(store_error(path))
        })
        .boxed()
    }

    fn console_accounts(&self) -> BoxFuture<'_, Result<Vec<ConsoleAccount>, RelayError>> {
        self.team_read(move |conn, path| {
            let mut statement = conn
                .prepare(&format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM console_accounts ORDER BY seat_id"
                ))
                .map_err(store_error(path))?;
            let rows = statement
                .query_map([], account)
                .map_err(store_error(path))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(store_error(path))
        })
        .boxed()
    }

    fn remove_console_account(&self, seat: i64) -> BoxFuture<'_, Result<bool, RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute("DELETE FROM console_sessions WHERE seat_id = ?1", [seat])
                    .map_err(store_error(path))?;
                let removed = tx
                    .execute("DELETE FROM console_accounts WHERE seat_id = ?1", [seat])
                    .map_err(store_error(path))?;
                Ok(removed > 0)
            },
            always,
        )
        .boxed()
    }

    fn console_sign_in_failed(
        &self,
        seat: i64,
        now: DateTime<Utc>,
        limit: u32,
        lock: TimeDelta,
    ) -> BoxFuture<'_, Result<FailedSignIn, RelayError>> {
        self.team_write(
            move |tx, path| {
                let failed: Option<u32> = tx
                    .query_row(
                        "UPDATE console_accounts SET failed_in_a_row = failed_in_a_row + 1
                         WHERE seat_id = ?1 RETURNING failed_in_a_row",
                        [seat],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(store_error(path))?;
                let failed = failed.unwrap_or(0);
                if failed < limit.max(1) {
                    return Ok(FailedSignIn::Counted(failed));
                }
                let until = now + lock;
                tx.execute(
                    "UPDATE console_accounts SET failed_in_a_row = 0, locked_until = ?2
                     WHERE seat_id = ?1",
                    params![seat, timestamp(until)],
                )
                .map_err(store_error(path))?;
                Ok(FailedSignIn::Locked(until))
            },
            always,
        )
        .boxed()
    }

    fn console_sign_in_succeeded(&self, seat: i64) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute(
                    "UPDATE console_accounts SET failed_in_a_row = 0, locked_until = NULL
                     WHERE seat_id = ?1",
                    [seat],
                )
                .map_err(store_error(path))?;
                Ok(())
            },
            always,
        )
        .boxed()
    }

    fn add_console_session(
        &self,
        session: ConsoleSessionRecord,
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute(
                    "INSERT INTO console_sessions (id_hash, csrf_hash, seat_id, created_at, last_used_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        session.id_hash.as_slice(),
                        session.csrf_hash.as_slice(),
                        session.seat,
                        timestamp(session.created_at),
                        timestamp(session.last_used_at)
                    ],
                )
                .map_err(store_error(path))?;
                Ok(())
            },
            always,
        )
        .boxed()
    }

    fn console_session(
        &self,
        id_hash: [u8; 32],
    ) -> BoxFuture<'_, Result<Option<ConsoleSessionRecord>, RelayError>> {
        self.team_read(move |conn, path| {
            conn.query_row(
                "SELECT id_hash, csrf_hash, seat_id, created_at, last_used_at
                 FROM console_sessions WHERE id_hash = ?1",
                [id_hash.as_slice()],
                |row| {
                    Ok(ConsoleSessionRecord {
                        id_hash: hash32(row, 0)?,
                        csrf_hash: hash32(row, 1)?,
                        seat: row.get(2)?,
                        created_at: parse_timestamp(&row.get::<_, String>(3)?)?,
                        last_used_at: parse_timestamp(&row.get::<_, String>(4)?)?,
                    })
                },
            )
            .optional()
            .map_err(store_error(path))
        })
        .boxed()
    }

    fn touch_console_session(
        &self,
        id_hash: [u8; 32],
        at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute(
                    "UPDATE console_sessions SET last_used_at = ?2 WHERE id_hash = ?1",
                    params![id_hash.as_slice(), timestamp(at)],
                )
                .map_err(store_error(path))?;
                Ok(())
            },
            always,
        )
        .boxed()
    }

    fn remove_console_session(&self, id_hash: [u8; 32]) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute(
                    "DELETE FROM console_sessions WHERE id_hash = ?1",
                    [id_hash.as_slice()],
                )
                .map_err(store_error(path))?;
                Ok(())
            },
            always,
        )
        .boxed()
    }

    fn remove_console_sessions_of(&self, seat: i64) -> BoxFuture<'_, Result<u64, RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute("DELETE FROM console_sessions WHERE seat_id = ?1", [seat])
                    .map(|n| n as u64)
                    .map_err(store_error(path))
            },
            always,
        )
        .boxed()
    }

    fn prune_console_sessions(
        &self,
        idle_cutoff: DateTime<Utc>,
        absolute_cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute(
                    "DELETE FROM console_sessions WHERE last_used_at < ?1 OR created_at < ?2",
                    params![timestamp(idle_cutoff), timestamp(absolute_cutoff)],
                )
                .map(|n| n as u64)
                .map_err(store_error(path))
            },
            always,
        )
        .boxed()
    }

    fn seat_seen(
        &self,
        seat: i64,
        app_version: Option<String>,
        at: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute(
                    "UPDATE seats SET app_version = coalesce(?2, app_version), last_seen_at = ?3
                     WHERE id = ?1",
                    params![seat, app_version, timestamp(at)],
                )
                .map_err(store_error(path))?;
                Ok(())
            },
            always,
        )
        .boxed()
    }

    fn seats_seen(&self) -> BoxFuture<'_, Result<Vec<SeatSeen>, RelayError>> {
        self.team_read(move |conn, path| {
            let mut statement = conn
                .prepare(
                    "SELECT id, app_version, last_seen_at FROM seats
                     WHERE last_seen_at IS NOT NULL ORDER BY id",
                )
                .map_err(store_error(path))?;
            let rows = statement
                .query_map([], |row| {
                    Ok(SeatSeen {
                        seat: row.get(0)?,
                        app_version: row.get(1)?,
                        last_seen_at: parse_timestamp(&row.get::<_, String>(2)?)?,
                    })
                })
                .map_err(store_error(path))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(store_error(path))
        })
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::{SCHEMA_VERSION, migrate};

    #[test]
    fn a_schema_8_store_gains_the_console_and_keeps_its_seats() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        migrate(&conn).unwrap();
        // A version 8 file: no console tables, seats without the app's version.
        conn.execute_batch(
            "DROP TABLE console_sessions;
             DROP TABLE console_accounts;
             ALTER TABLE seats DROP COLUMN app_version;
             ALTER TABLE seats DROP COLUMN last_seen_at;
             INSERT INTO seats (name, workplace, role, created_at)
               VALUES ('Анна', '883140582526566', 'admin', '2026-12-01T00:00:00Z');
             PRAGMA user_version = 8;",
        )
        .unwrap();
        migrate(&conn).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(SCHEMA_VERSION, 10);
        conn.execute(
            "INSERT INTO console_accounts (seat_id, password_hash, updated_at)
             VALUES (1, '$argon2id$x', '2026-12-01T00:00:00Z')",
            [],
        )
        .unwrap();
        let seen: Option<String> = conn
            .query_row("SELECT app_version FROM seats WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(seen, None);
    }

    #[tokio::test]
    async fn sessions_expire_idle_or_old_and_a_lock_comes_with_the_tenth_wrong_password() {
        use std::sync::Arc;

        use chrono::{TimeDelta, Utc};

        use crate::store::NoSink;
        use crate::store::console::{ConsoleSessionRecord, ConsoleStore as _, FailedSignIn};
        use crate::store::sqlite::{SqliteOptions, SqliteStore};
        use crate::store::team::{NewSeat, TeamStore as _};

        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(
            &dir.path().join("db.sqlite3"),
            SqliteOptions::default(),
            Arc::new(NoSink),
        )
        .unwrap();
        let seat = store
            .add_seat(NewSeat {
                name: "Ольга".into(),
                workplace: "883140582526566".into(),
                role: team_api::Role::Admin,
            })
            .await
            .unwrap()
            .profile
            .id;
        store
            .set_console_password(seat, "$argon2id$x".into())
            .await
            .unwrap();
        // The store keeps milliseconds.
        let now = chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
        let lock = TimeDelta::minutes(15);
        for count in 1..10 {
            let failed = store
                .console_sign_in_failed(seat, now, 10, lock)
                .await
                .unwrap();
            assert_eq!(failed, FailedSignIn::Counted(count));
        }
        let tenth = store
            .console_sign_in_failed(seat, now, 10, lock)
            .await
            .unwrap();
        assert_eq!(tenth, FailedSignIn::Locked(now + lock));
        let account = store.console_account(seat).await.unwrap().unwrap();
        assert_eq!(
            (account.failed_in_a_row, account.locked_until),
            (0, Some(now + lock))
        );

        let session = |n: u8, created: TimeDelta, used: TimeDelta| ConsoleSessionRecord {
            id_hash: [n; 32],
            csrf_hash: [n; 32],
            seat,
            created_at: now - created,
            last_used_at: now - used,
        };
        for record in [
            session(1, TimeDelta::hours(1), TimeDelta::minutes(1)),
            session(2, TimeDelta::hours(13), TimeDelta::hours(13)),
            session(3, TimeDelta::days(8), TimeDelta::minutes(1)),
        ] {
            store.add_console_session(record).await.unwrap();
        }
        let pruned = store
            .prune_console_sessions(now - TimeDelta::hours(12), now - TimeDelta::days(7))
            .await
            .unwrap();
        assert_eq!(pruned, 2);
        assert!(store.console_session([1; 32]).await.unwrap().is_some());
        assert!(store.console_session([2; 32]).await.unwrap().is_none());
        assert!(store.remove_console_account(seat).await.unwrap());
        assert!(store.console_session([1; 32]).await.unwrap().is_none());
    }
}
