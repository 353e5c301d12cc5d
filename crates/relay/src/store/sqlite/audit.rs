//! [`AuditStore`] over SQLite: the `audit_log` table (schema version 3). An entry is written
//! by the store's writer thread, in the group commit it shares with the events: a seat's action
//! waits for one commit, never for SQLite's write lock against the event writer (a second
//! connection's busy handler sleeps 1, 2, 5, 10… ms between tries, which cost the seat API's
//! dial a p99 of 40–130 ms on a busy machine). Reads and pruning use the team's connection.

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use rusqlite::params;

use super::SqliteStore;
use super::schema::{parse_timestamp, timestamp};
use super::sealed::store_error;
use super::team::always;
use super::writer::WriteRequest;
use crate::error::RelayError;
use crate::store::audit::{AuditEntry, AuditQuery, AuditStore, NewAuditEntry, Outcome};

/// Inserts an entry in the open transaction; answers its number.
pub(super) fn insert_audit(
    tx: &rusqlite::Transaction<'_>,
    entry: &NewAuditEntry,
) -> rusqlite::Result<i64> {
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
    )?;
    Ok(tx.last_insert_rowid())
}

impl AuditStore for SqliteStore {
    fn record(&self, entry: NewAuditEntry) -> BoxFuture<'_, Result<i64, RelayError>> {
        self.write(move |reply| WriteRequest::Audit(entry, reply))
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
