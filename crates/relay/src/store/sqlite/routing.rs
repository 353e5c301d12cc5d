//! [`RoutingStore`] over SQLite (schema version 5): `routing_rules` (one row, the rules as
//! JSON), `routing_callers` (a row per outside number) and `routing_journal`, on the team's
//! connection.

use call_routing::{JournalEntry, RoutingOutcome};
use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use rusqlite::{OptionalExtension, params};
use team_api::{RoutingDecisionEvent, TeamRouting};

use super::SqliteStore;
use super::schema::{parse_timestamp, timestamp};
use super::sealed::store_error;
use super::team::always;
use crate::error::RelayError;
use crate::store::routing::{CallerRecord, CallerSeen, RoutingStore};

fn bad_rules(err: serde_json::Error) -> RelayError {
    RelayError::Routing(format!("the stored rules do not read: {err}"))
}

impl RoutingStore for SqliteStore {
    fn routing(&self) -> BoxFuture<'_, Result<Option<TeamRouting>, RelayError>> {
        self.team_read(|conn, path| {
            let text: Option<String> = conn
                .prepare_cached("SELECT rules FROM routing_rules WHERE id = 1")
                .and_then(|mut s| s.query_row([], |row| row.get(0)).optional())
                .map_err(store_error(path))?;
            text.map(|text| serde_json::from_str(&text).map_err(bad_rules))
                .transpose()
        })
        .boxed()
    }

    fn put_routing(&self, routing: TeamRouting) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let text = serde_json::to_string(&routing).map_err(bad_rules)?;
            self.team_write(
                move |tx, path| {
                    tx.execute(
                        "INSERT INTO routing_rules (id, rules, updated_at) VALUES (1, ?1, ?2)
                         ON CONFLICT (id) DO UPDATE SET rules = ?1, updated_at = ?2",
                        params![text, timestamp(Utc::now())],
                    )
                    .map_err(store_error(path))?;
                    Ok(())
                },
                always,
            )
            .await
        }
        .boxed()
    }

    fn note_caller(&self, seen: CallerSeen) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| {
                let at = timestamp(seen.at);
                tx.prepare_cached(
                    "INSERT INTO routing_callers (number_key, first_seen_at, last_seen_at,
                         last_operator, last_operator_at)
                     VALUES (?1, ?2, ?2, ?3, CASE WHEN ?3 IS NULL THEN NULL ELSE ?2 END)
                     ON CONFLICT (number_key) DO UPDATE SET
                         first_seen_at = min(first_seen_at, ?2),
                         last_seen_at = max(last_seen_at, ?2),
                         last_operator = CASE
                             WHEN ?3 IS NOT NULL AND (last_operator_at IS NULL OR last_operator_at <= ?2)
                             THEN ?3 ELSE last_operator END,
                         last_operator_at = CASE
                             WHEN ?3 IS NOT NULL AND (last_operator_at IS NULL OR last_operator_at <= ?2)
                             THEN ?2 ELSE last_operator_at END",
                )
                .and_then(|mut s| s.execute(params![seen.number_key, at, seen.answered_by]))
                .map_err(store_error(path))?;
                Ok(())
            },
            always,
        )
        .boxed()
    }

    fn caller_record(
        &self,
        number_key: String,
    ) -> BoxFuture<'_, Result<Option<CallerRecord>, RelayError>> {
        // On the reader connection, not the team's: a parked call's decision waits on this
        // read, and the team connection is busy committing (fsync) notes and journal rows.
        let path = self.path.clone();
        self.read(move |conn| {
            let path = path.as_path();
            let row: Option<(String, Option<String>, Option<String>)> = conn
                .prepare_cached(
                    "SELECT first_seen_at, last_operator, last_operator_at
                     FROM routing_callers WHERE number_key = ?1",
                )
                .and_then(|mut s| {
                    s.query_row([&number_key], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                    })
                    .optional()
                })
                .map_err(store_error(path))?;
            let Some((first, operator, operator_at)) = row else {
                return Ok(None);
            };
            let last_operator = match (operator, operator_at) {
                (Some(operator), Some(at)) => {
                    Some((operator, parse_timestamp(&at).map_err(store_error(path))?))
                }
                _ => None,
            };
            Ok(Some(CallerRecord {
                first_seen_at: parse_timestamp(&first).map_err(store_error(path))?,
                last_operator,
            }))
        })
        .boxed()
    }

    fn prune_callers_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        self.team_write(
            move |tx, path| {
                let removed = tx
                    .execute(
                        "DELETE FROM routing_callers WHERE last_seen_at < ?1",
                        [timestamp(cutoff)],
                    )
                    .map_err(store_error(path))?;
                Ok(u64::try_from(removed).unwrap_or(u64::MAX))
            },
            always,
        )
        .boxed()
    }

    fn record_decision(&self, entry: JournalEntry) -> BoxFuture<'_, Result<i64, RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.prepare_cached(
                    "INSERT INTO routing_journal (leg, caller_number, line_number, rule, target,
                         outcome, detail, decided_at, took_ms, deadline_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        entry.leg,
                        entry.caller_number,
                        entry.line_number,
                        entry.rule,
                        entry.target,
                        entry.outcome.as_text(),
                        entry.detail,
                        timestamp(entry.decided_at),
                        entry.took_ms,
                        entry.deadline_ms,
                    ])
                })
                .map_err(store_error(path))?;
                Ok(tx.last_insert_rowid())
            },
            always,
        )
        .boxed()
    }

    fn prune_decisions_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        // No index on decided_at: the journal grows by the parked calls only, and this runs
        // once per retention pass.
        self.team_write(
            move |tx, path| {
                let removed = tx
                    .execute(
                        "DELETE FROM routing_journal WHERE decided_at < ?1",
                        [timestamp(cutoff)],
                    )
                    .map_err(store_error(path))?;
                Ok(u64::try_from(removed).unwrap_or(u64::MAX))
            },
            always,
        )
        .boxed()
    }

    fn decisions(
        &self,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<RoutingDecisionEvent>, RelayError>> {
        self.team_read(move |conn, path| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT id, leg, caller_number, line_number, rule, target, outcome, detail,
                         decided_at, took_ms, deadline_ms
                     FROM routing_journal ORDER BY id DESC LIMIT ?1",
                )
                .map_err(store_error(path))?;
            let rows = statement
                .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
                    Ok(RoutingDecisionEvent {
                        id: row.get(0)?,
                        entry: JournalEntry {
                            leg: row.get(1)?,
                            caller_number: row.get(2)?,
                            line_number: row.get(3)?,
                            rule: row.get(4)?,
                            target: row.get(5)?,
                            outcome: RoutingOutcome::from_text(&row.get::<_, String>(6)?),
                            detail: row.get(7)?,
                            decided_at: parse_timestamp(&row.get::<_, String>(8)?)?,
                            took_ms: row.get(9)?,
                            deadline_ms: row.get(10)?,
                        },
                    })
                })
                .map_err(store_error(path))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(store_error(path))
        })
        .boxed()
    }
}
