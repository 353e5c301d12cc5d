//! [`AuditStore`] over SQLite: the `audit_log` table (schema version 3), on the team's
//! connection.

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use rusqlite::params;

use super::SqliteStore;
use super::schema::{parse_timestamp, timestamp};
use super::sealed::store_error;
use super::team::always;
use crate::error::RelayError;
use crate::store::audit::{AuditEntry, AuditQuery, AuditStore, NewAuditEntry, Outcome};

impl AuditStore for SqliteStore {
    fn record(&self, entry: NewAuditEntry) -> BoxFuture<'_, Result<i64, RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute(
                    "INSERT INTO audit_log (at, seat_id, seat_name, action, target, outcome, code, detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        timestamp(entry.at),
                        entry.seat_id,
                        entry.seat_name,
                        entry.action,
                        entry.target,
                        entry.outcome.as_str(),
                        entry.code,
                        entry.detail,
                    ],
                )
                .map_err(store_error(path))?;
                Ok(tx.last_insert_rowid())
            },
            always,
        )
        .boxed()
    }

    fn entries(&self, query: AuditQuery) -> BoxFuture<'_, Result<Vec<AuditEntry>, RelayError>> {
        self.team_read(move |conn, path| {
            let mut statement = conn
                .prepare(
                    "SELECT id, at, seat_id, seat_name, action, target, outcome, code, detail
                     FROM audit_log
                     WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR seat_id = ?2)
                     ORDER BY id",
                )
                .map_err(store_error(path))?;
            let rows = statement
                .query_map(params![query.since.map(timestamp), query.seat_id], |row| {
                    let outcome: String = row.get(6)?;
                    Ok(AuditEntry {
                        id: row.get(0)?,
                        entry: NewAuditEntry {
                            at: parse_timestamp(&row.get::<_, String>(1)?)?,
                            seat_id: row.get(2)?,
                            seat_name: row.get(3)?,
                            action: row.get(4)?,
                            target: row.get(5)?,
                            outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Failed),
                            code: row.get(7)?,
                            detail: row.get(8)?,
                        },
                    })
                })
                .map_err(store_error(path))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(store_error(path))
        })
        .boxed()
    }

    fn prune_audit_before(&self, cutoff: DateTime<Utc>) -> BoxFuture<'_, Result<u64, RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute(
                    "DELETE FROM audit_log WHERE at < ?1",
                    params![timestamp(cutoff)],
                )
                .map(|n| n as u64)
                .map_err(store_error(path))
            },
            always,
        )
        .boxed()
    }
}
