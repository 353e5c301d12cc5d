//! [`WrapUpStore`] on Postgres: the `team_wrapups` table and the `wrapup_tags` fact.

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use team_api::wrapup::{TeamTags, TeamWrapUp};

use super::{PostgresStore, failed};
use crate::error::RelayError;
use crate::store::wrapup::{NewWrapUp, WrapUpStore};

/// The `team_facts` row that holds the team's tags, as JSON.
const TAGS_FACT: &str = "wrapup_tags";

impl WrapUpStore for PostgresStore {
    fn save_wrapup(&self, w: NewWrapUp) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let tags = serde_json::to_string(&w.tags).unwrap_or_else(|_| "[]".into());
            let client = self.reader().await?;
            client
                .execute(
                    "INSERT INTO team_wrapups (leg_id, number, seat_id, seat_name, workplace, note, tags, saved_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (leg_id, seat_id) DO UPDATE SET number = excluded.number,
                       seat_name = excluded.seat_name, workplace = excluded.workplace,
                       note = excluded.note, tags = excluded.tags, saved_at = excluded.saved_at",
                    &[
                        &w.leg_id,
                        &w.number,
                        &w.seat_id,
                        &w.seat_name,
                        &w.workplace,
                        &w.note,
                        &tags,
                        &w.saved_at,
                    ],
                )
                .await
                .map_err(failed("saving a wrap-up"))?;
            Ok(())
        }
        .boxed()
    }

    fn wrapups(
        &self,
        number: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<TeamWrapUp>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let rows = client
                .query(
                    "SELECT leg_id, number, seat_name, workplace, note, tags, saved_at
                     FROM team_wrapups WHERE ($1::text IS NULL OR number = $1)
                     ORDER BY saved_at DESC, id DESC LIMIT $2",
                    &[&number, &i64::try_from(limit).unwrap_or(i64::MAX)],
                )
                .await
                .map_err(failed("reading wrap-ups"))?;
            Ok(rows
                .iter()
                .map(|row| TeamWrapUp {
                    leg_id: row.get(0),
                    number: row.get(1),
                    seat_name: row.get(2),
                    workplace: row.get(3),
                    note: row.get(4),
                    tags: serde_json::from_str(row.get(5)).unwrap_or_default(),
                    saved_at: row.get(6),
                })
                .collect())
        }
        .boxed()
    }

    fn prune_wrapups_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        async move {
            let client = self.reader().await?;
            client
                .execute("DELETE FROM team_wrapups WHERE saved_at < $1", &[&cutoff])
                .await
                .map_err(failed("pruning wrap-ups"))
        }
        .boxed()
    }

    fn team_tags(&self) -> BoxFuture<'_, Result<TeamTags, RelayError>> {
        async move {
            let client = self.reader().await?;
            let row = client
                .query_opt(
                    "SELECT value FROM team_facts WHERE name = $1",
                    &[&TAGS_FACT],
                )
                .await
                .map_err(failed("reading the tags"))?;
            Ok(row
                .and_then(|row| serde_json::from_str(row.get(0)).ok())
                .unwrap_or_default())
        }
        .boxed()
    }

    fn set_team_tags(&self, tags: TeamTags) -> BoxFuture<'_, Result<(), RelayError>> {
        async move {
            let text = serde_json::to_string(&tags).unwrap_or_else(|_| "{}".into());
            let client = self.reader().await?;
            client
                .execute(
                    "INSERT INTO team_facts (name, value) VALUES ($1, $2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    &[&TAGS_FACT, &text],
                )
                .await
                .map_err(failed("storing the tags"))?;
            Ok(())
        }
        .boxed()
    }
}
