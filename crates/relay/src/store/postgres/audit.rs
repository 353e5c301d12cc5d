//! [`AuditStore`] on Postgres: the `audit_log` table. An entry is one autocommitted insert on
//! a pooled connection: Postgres groups concurrent commits' WAL flushes itself, and an entry
//! needs no place in the events' order.

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;

use super::{PostgresStore, failed};
use crate::error::RelayError;
use crate::store::audit::{AuditEntry, AuditQuery, AuditStore, NewAuditEntry, Outcome};

impl AuditStore for PostgresStore {
    fn record(&self, entry: NewAuditEntry) -> BoxFuture<'_, Result<i64, RelayError>> {
        async move {
            let client = self.reader().await?;
            let row = client
                .query_one(
                    "INSERT INTO audit_log (at, seat_id, seat_name, action, target, outcome, code, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    &[
                        &entry.at,
                        &entry.seat_id,
                        &entry.seat_name,
                        &entry.action,
                        &entry.target,
                        &entry.outcome.as_str(),
                        &entry.code,
                        &entry.detail,
                    ],
                )
                .await
                .map_err(failed("writing the audit log"))?;
            Ok(row.get(0))
        }
        .boxed()
    }

    fn entries(&self, query: AuditQuery) -> BoxFuture<'_, Result<Vec<AuditEntry>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let rows = client
                .query(
                    "SELECT id, at, seat_id, seat_name, action, target, outcome, code, detail
                     FROM audit_log
                     WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::bigint IS NULL OR seat_id = $2)
                     ORDER BY id",
                    &[&query.since, &query.seat_id],
                )
                .await
                .map_err(failed("reading the audit log"))?;
            Ok(rows
                .iter()
                .map(|row| AuditEntry {
                    id: row.get(0),
                    entry: NewAuditEntry {
                        at: row.get(1),
                        seat_id: row.get(2),
                        seat_name: row.get(3),
                        action: row.get(4),
                        target: row.get(5),
                        outcome: Outcome::parse(row.get(6)).unwrap_or(Outcome::Failed),
                        code: row.get(7),
                        detail: row.get(8),
                    },
                })
                .collect())
        }
        .boxed()
    }

    fn prune_audit_before(&self, cutoff: DateTime<Utc>) -> BoxFuture<'_, Result<u64, RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute("DELETE FROM audit_log WHERE at < $1", &[&cutoff])
                .await
                .map_err(failed("pruning the audit log"))
        }
        .boxed()
    }
}
