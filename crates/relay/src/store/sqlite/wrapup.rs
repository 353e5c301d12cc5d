//! [`WrapUpStore`] over SQLite: the `team_wrapups` table and the `team_tags` fact (schema
//! version 8), on the team's connection.

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use rusqlite::{OptionalExtension, params};
use team_api::wrapup::{TeamTags, TeamWrapUp};

use super::SqliteStore;
use super::schema::{parse_timestamp, timestamp};
use super::sealed::store_error;
use super::team::always;
use crate::error::RelayError;
use crate::store::wrapup::{NewWrapUp, WrapUpStore};

/// The `team_facts` row that holds the team's tags, as JSON.
const TAGS_FACT: &str = "wrapup_tags";

impl WrapUpStore for SqliteStore {
    fn save_wrapup(&self, w: NewWrapUp) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| {
                let tags = serde_json::to_string(&w.tags).unwrap_or_else(|_| "[]".into());
                tx.execute(
                    "INSERT INTO team_wrapups (leg_id, number, seat_id, seat_name, workplace, note, tags, saved_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (leg_id, seat_id) DO UPDATE SET number = excluded.number,
                       seat_name = excluded.seat_name, workplace = excluded.workplace,
                       note = excluded.note, tags = excluded.tags, saved_at = excluded.saved_at",
                    params![
                        w.leg_id,
                        w.number,
                        w.seat_id,
                        w.seat_name,
                        w.workplace,
                        w.note,
                        tags,
                        timestamp(w.saved_at)
                    ],
                )
                .map_err(store_error(path))?;
                Ok(())
            },
            always,
        )
        .boxed()
    }

    fn wrapups(
        &self,
        number: Option<String>,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<TeamWrapUp>, RelayError>> {
        self.team_read(move |conn, path| {
            let mut statement = conn
                .prepare(
                    "SELECT leg_id, number, seat_name, workplace, note, tags, saved_at
                     FROM team_wrapups WHERE (?1 IS NULL OR number = ?1)
                     ORDER BY saved_at DESC, id DESC LIMIT ?2",
                )
                .map_err(store_error(path))?;
            let rows = statement
                .query_map(
                    params![number, i64::try_from(limit).unwrap_or(i64::MAX)],
                    |row| {
                        let tags: String = row.get(5)?;
                        Ok(TeamWrapUp {
                            leg_id: row.get(0)?,
                            number: row.get(1)?,
                            seat_name: row.get(2)?,
                            workplace: row.get(3)?,
                            note: row.get(4)?,
                            tags: serde_json::from_str(&tags).unwrap_or_default(),
                            saved_at: parse_timestamp(&row.get::<_, String>(6)?)?,
                        })
                    },
                )
                .map_err(store_error(path))?;
            rows.collect::<Result<Vec<_>, _>>()
                .map_err(store_error(path))
        })
        .boxed()
    }

    fn prune_wrapups_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        self.team_write(
            move |tx, path| {
                tx.execute(
                    "DELETE FROM team_wrapups WHERE saved_at < ?1",
                    params![timestamp(cutoff)],
                )
                .map(|n| n as u64)
                .map_err(store_error(path))
            },
            always,
        )
        .boxed()
    }

    fn team_tags(&self) -> BoxFuture<'_, Result<TeamTags, RelayError>> {
        self.team_read(move |conn, path| {
            let text: Option<String> = conn
                .query_row(
                    "SELECT value FROM team_facts WHERE name = ?1",
                    [TAGS_FACT],
                    |row| row.get(0),
                )
                .optional()
                .map_err(store_error(path))?;
            Ok(text
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default())
        })
        .boxed()
    }

    fn set_team_tags(&self, tags: TeamTags) -> BoxFuture<'_, Result<(), RelayError>> {
        self.team_write(
            move |tx, path| {
                let text = serde_json::to_string(&tags).unwrap_or_else(|_| "{}".into());
                tx.execute(
                    "INSERT INTO team_facts (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    params![TAGS_FACT, text],
                )
                .map_err(store_error(path))?;
                Ok(())
            },
            always,
        )
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::migrate;

    fn has_wrapups(conn: &rusqlite::Connection) -> bool {
        conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'team_wrapups'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            == 1
    }

    #[test]
    fn a_store_of_any_earlier_version_gains_the_wrapups_and_keeps_its_seats() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        migrate(&conn).unwrap();
        assert!(has_wrapups(&conn));
        // A version 4 file (before wrap-ups), with a seat.
        conn.execute_batch(
            "DROP TABLE team_wrapups;
             INSERT INTO seats (name, workplace, role, created_at)
               VALUES ('Анна', '883140582526566', 'operator', '2026-12-01T00:00:00Z');
             PRAGMA user_version = 4;",
        )
        .unwrap();
        migrate(&conn).unwrap();
        assert!(has_wrapups(&conn));
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, super::super::schema::SCHEMA_VERSION);
        let seats: i64 = conn
            .query_row("SELECT count(*) FROM seats", [], |r| r.get(0))
            .unwrap();
        assert_eq!(seats, 1);
    }
}
