//! [`RoutingStore`] on Postgres: the team's rules (one row, JSON), a fact per outside caller
//! number and the journal of decisions.

use call_routing::{JournalEntry, RoutingOutcome};
use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use team_api::{RoutingDecisionEvent, TeamRouting};

use super::{PostgresStore, failed};
use crate::error::RelayError;
use crate::store::routing::{CallerRecord, CallerSeen, RoutingStore};

fn bad_rules(err: serde_json::Error) -> RelayError {
    RelayError::Routing(format!("the stored rules do not read: {err}"))
}

impl RoutingStore for PostgresStore {
    fn routing(&self) -> BoxFuture<'_, Result<Option<TeamRouting>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let row = client
                .query_opt("SELECT rules FROM routing_rules WHERE id = 1", &[])
                .await
                .map_err(failed("reading the routing rules"))?;
            row.map(|row| serde_json::from_str(row.get(0)).map_err(bad_rules))
                .transpose()
        }
        .boxed()
    }

    fn put_routing(&self, routing: TeamRouting) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let text = serde_json::to_string(&routing).map_err(bad_rules)?;
            let client = self.reader().await?;
            client
                .execute(
                    "INSERT INTO routing_rules (id, rules, updated_at) VALUES (1, $1, $2)
                     ON CONFLICT (id) DO UPDATE SET rules = $1, updated_at = $2",
                    &[&text, &Utc::now()],
                )
                .await
                .map_err(failed("storing the routing rules"))?;
            Ok(())
        }
        .boxed()
    }

    fn note_caller(&self, seen: CallerSeen) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "INSERT INTO routing_callers AS r (number_key, first_seen_at, last_seen_at,
                         last_operator, last_operator_at)
                     VALUES ($1, $2::timestamptz, $2::timestamptz, $3::text, CASE WHEN $3::text IS NULL THEN NULL ELSE $2::timestamptz END)
                     ON CONFLICT (number_key) DO UPDATE SET
                         first_seen_at = least(r.first_seen_at, $2::timestamptz),
                         last_seen_at = greatest(r.last_seen_at, $2::timestamptz),
                         last_operator = CASE
                             WHEN $3::text IS NOT NULL
                                  AND (r.last_operator_at IS NULL OR r.last_operator_at <= $2::timestamptz)
                             THEN $3::text ELSE r.last_operator END,
                         last_operator_at = CASE
                             WHEN $3::text IS NOT NULL
                                  AND (r.last_operator_at IS NULL OR r.last_operator_at <= $2::timestamptz)
                             THEN $2::timestamptz ELSE r.last_operator_at END",
                    &[&seen.number_key, &seen.at, &seen.answered_by],
                )
                .await
                .map_err(failed("noting a caller"))?;
            Ok(())
        }
        .boxed()
    }

    fn caller_record(
        &self,
        number_key: String,
    ) -> BoxFuture<'_, Result<Option<CallerRecord>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let row = client
                .query_opt(
                    "SELECT first_seen_at, last_operator, last_operator_at
                     FROM routing_callers WHERE number_key = $1",
                    &[&number_key],
                )
                .await
                .map_err(failed("reading a caller"))?;
            Ok(row.map(|row| {
                let operator: Option<String> = row.get(1);
                let operator_at: Option<DateTime<Utc>> = row.get(2);
                CallerRecord {
                    first_seen_at: row.get(0),
                    last_operator: operator.zip(operator_at),
                }
            }))
        }
        .boxed()
    }

    fn prune_callers_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "DELETE FROM routing_callers WHERE last_seen_at < $1",
                    &[&cutoff],
                )
                .await
                .map_err(failed("forgetting old callers"))
        }
        .boxed()
    }

    fn record_decision(&self, entry: JournalEntry) -> BoxFuture<'_, Result<i64, RelayError>> {
        async move {
            let client = self.reader().await?;
            let row = client
                .query_one(
                    "INSERT INTO routing_journal (leg, caller_number, line_number, rule, target,
                         outcome, detail, decided_at, took_ms, deadline_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                    &[
                        &entry.leg,
                        &entry.caller_number,
                        &entry.line_number,
                        &entry.rule,
                        &entry.target,
                        &entry.outcome.as_text(),
                        &entry.detail,
                        &entry.decided_at,
                        &entry.took_ms,
                        &entry.deadline_ms,
                    ],
                )
                .await
                .map_err(failed("journaling a routing decision"))?;
            Ok(row.get(0))
        }
        .boxed()
    }

    fn prune_decisions_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute(
                    "DELETE FROM routing_journal WHERE decided_at < $1",
                    &[&cutoff],
                )
                .await
                .map_err(failed("removing old routing decisions"))
        }
        .boxed()
    }

    fn decisions(
        &self,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<RoutingDecisionEvent>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let rows = client
                .query(
                    "SELECT id, leg, caller_number, line_number, rule, target, outcome, detail,
                         decided_at, took_ms, deadline_ms
                     FROM routing_journal ORDER BY id DESC LIMIT $1",
                    &[&i64::try_from(limit).unwrap_or(i64::MAX)],
                )
                .await
                .map_err(failed("reading routing decisions"))?;
            Ok(rows
                .iter()
                .map(|row| RoutingDecisionEvent {
                    id: row.get(0),
                    entry: JournalEntry {
                        leg: row.get(1),
                        caller_number: row.get(2),
                        line_number: row.get(3),
                        rule: row.get(4),
                        target: row.get(5),
                        outcome: RoutingOutcome::from_text(row.get(6)),
                        detail: row.get(7),
                        decided_at: row.get(8),
                        took_ms: row.get(9),
                        deadline_ms: row.get(10),
                    },
                })
                .collect())
        }
        .boxed()
    }
}
