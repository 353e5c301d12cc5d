//! Opening the database file: refusing foreign files, setting the connection up and migrating.
//!
//! Durability trade-off: the log runs in WAL mode with `synchronous = NORMAL`. A crash of the app
//! (or a SIGKILL) loses nothing that was committed, because the WAL is written before a commit
//! returns; a power cut or OS crash may lose the last few commits, which is acceptable because the
//! relay keeps every event and replays from the cursor, and applying is idempotent. In exchange a
//! commit costs no fsync, which is what makes batched apply fast.
//!
//! Checkpoints (copying the WAL back into the file, with an fsync) do not run on the writer: during
//! a catch-up replay they were its main wait. A checkpoint thread with its own connection runs a
//! passive checkpoint every 200 ms instead, which never blocks the writer or a reader; the WAL
//! stays about as large as 200 ms of writes (plus what a long read pins), and recovery after a
//! crash reads at most that much.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};

use crate::error::{CallLogError, Result};

/// The schema's history, oldest first. Never edit a released migration; add a new one.
const MIGRATION_SQL: &[&str] = &[
    include_str!("../migrations/001_initial.sql"),
    include_str!("../migrations/002_relay_rebase.sql"),
    include_str!("../migrations/003_refused_recordings.sql"),
    include_str!("../migrations/004_wrapup.sql"),
    include_str!("../migrations/005_team_phonebook.sql"),
    include_str!("../migrations/006_wrapup_team_unsent.sql"),
];

pub(crate) fn migrations() -> Migrations<'static> {
    Migrations::new(
        MIGRATION_SQL
            .iter()
            .enumerate()
            .map(|(index, sql)| match index {
                // 003: a recording address kept before addresses were checked is checked now.
                2 => M::up_with_hook(sql, |tx: &rusqlite::Transaction<'_>| {
                    let changed = recheck_recordings(tx)?;
                    if changed > 0 {
                        tracing::warn!(changed, "refused recording addresses were taken off calls");
                    }
                    Ok(())
                }),
                _ => M::up(sql),
            })
            .collect(),
    )
}

/// Migration 003's work: takes the recording link off calls whose address
/// [`crate::recording_link`] refuses (kept by a version that did not check addresses), and
/// gives each the address the merge would pick now among its stored `recorded` events: the
/// earliest by (receipt time, relay id) whose address is accepted (`apply/merge.rs`, the
/// `Recorded` arm). Returns how many calls changed.
fn recheck_recordings(conn: &Connection) -> rusqlite::Result<usize> {
    use mtt_api::notification::{CallState, Notification};
    let kept: Vec<(i64, String)> = conn
        .prepare("SELECT id, recording_url FROM calls WHERE recording_url IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut recorded = conn.prepare(
        "SELECT received_at, relay_id, raw FROM events WHERE call_id = ?1 AND state = 'recorded' \
         ORDER BY received_at, relay_id",
    )?;
    let mut set = conn.prepare(
        "UPDATE calls SET recording_url = ?2, recorded_at = ?3, recorded_relay = ?4 WHERE id = ?1",
    )?;
    let mut changed = 0;
    for (id, url) in kept {
        if crate::recording_link(&url).is_ok() {
            continue;
        }
        let events: Vec<(i64, i64, String)> = recorded
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let best = events.into_iter().find_map(|(at, relay_id, raw)| {
            let Ok(Notification::Call(call)) = Notification::parse(raw.as_bytes()) else {
                return None;
            };
            let url = call
                .url_record
                .filter(|_| call.state == CallState::Recorded)?;
            let url = crate::recording_link(&url).ok()?.to_owned();
            Some((url, at, relay_id))
        });
        match best {
            Some((url, at, relay_id)) => set.execute(rusqlite::params![id, url, at, relay_id])?,
            None => set.execute(rusqlite::params![
                id,
                None::<String>,
                None::<i64>,
                None::<i64>
            ])?,
        };
        changed += 1;
    }
    Ok(changed)
}

/// The number of schema versions this build knows.
pub fn schema_version() -> usize {
    MIGRATION_SQL.len()
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Refuses, before SQLite sees it, a non-empty file that does not start with the SQLite header:
/// SQLite itself would only notice on the first read, and a journal-mode change could touch the
/// file's neighbours first.
fn check_header(path: &Path) -> Result<()> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(CallLogError::File {
                path: path.to_owned(),
                source,
            });
        }
    };
    let mut header = [0u8; 16];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(source) => {
                return Err(CallLogError::File {
                    path: path.to_owned(),
                    source,
                });
            }
        }
    }
    if read == 0 || &header == SQLITE_HEADER {
        Ok(())
    } else {
        Err(CallLogError::NotADatabase {
            path: path.to_owned(),
        })
    }
}

/// Registers the collation `caseless` ([`phonebook::caseless`]) that queries name where people
/// expect "Анна" and "анна" to be one (a merged contact, a tag filter, the contacts list's
/// order); SQLite's own NOCASE and `lower()` fold only ASCII. No table or index uses it, so
/// the file stays readable by any SQLite (the sqlite3 shell, a support tool).
fn add_collations(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_collation("caseless", phonebook::caseless)
}

/// Opens (creating if absent) the writer's connection and brings the schema up to date.
pub(crate) fn open_writer(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    check_header(path)?;
    let sql = |e| CallLogError::from_sqlite(path, e);
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql)?;
    conn.busy_timeout(busy_timeout).map_err(sql)?;
    add_collations(&conn).map_err(sql)?;
    // Reading the schema first makes a damaged header fail here, before any pragma writes.
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(sql)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(sql)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(CallLogError::Migration {
            path: path.to_owned(),
            detail: format!("the database refused write-ahead logging (journal mode {mode})"),
        });
    }
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -65536;
         PRAGMA mmap_size = 268435456;
         PRAGMA wal_autocheckpoint = 0;",
    )
    .map_err(sql)?;
    migrations()
        .to_latest(&mut conn)
        .map_err(|e| CallLogError::from_migration(path, e))?;
    tracing::debug!(path = %path.display(), schema = schema_version(), "call log opened");
    Ok(conn)
}

/// Opens the checkpoint thread's connection; the writer must have created and migrated the file.
pub(crate) fn open_checkpointer(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    let sql = |e| CallLogError::from_sqlite(path, e);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql)?;
    conn.busy_timeout(busy_timeout).map_err(sql)?;
    conn.execute_batch("PRAGMA synchronous = NORMAL;")
        .map_err(sql)?;
    Ok(conn)
}

/// Opens a read-only connection for queries; the writer must have created and migrated the file.
pub(crate) fn open_reader(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    let sql = |e| CallLogError::from_sqlite(path, e);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql)?;
    conn.busy_timeout(busy_timeout).map_err(sql)?;
    add_collations(&conn).map_err(sql)?;
    conn.execute_batch(
        "PRAGMA cache_size = -16000; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 268435456;",
    )
    .map_err(sql)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }

    #[test]
    fn every_earlier_version_migrates_to_the_latest() {
        for version in 0..schema_version() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("old.sqlite3");
            {
                let mut conn = Connection::open(&path).unwrap();
                migrations().to_version(&mut conn, version).unwrap();
            }
            let conn = open_writer(&path, Duration::from_secs(1)).unwrap();
            let now: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(
                usize::try_from(now).unwrap(),
                schema_version(),
                "from {version}"
            );
            let tables: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE name IN \
                     ('calls', 'events', 'contacts', 'routing_decisions', 'relay_cursor', \
                      'wrapups', 'wrapup_tags', 'wrapups_search')",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(tables, 8, "from {version}");
        }
    }

    #[test]
    fn migration_004_keeps_existing_contacts_as_the_operators_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.sqlite3");
        {
            let mut conn = Connection::open(&path).unwrap();
            migrations().to_version(&mut conn, 3).unwrap();
            conn.execute(
                "INSERT INTO contacts (name, created_at, updated_at) VALUES ('Own', 1, 1)",
                [],
            )
            .unwrap();
        }
        let conn = open_writer(&path, Duration::from_secs(1)).unwrap();
        let (team_id, version): (Option<i64>, Option<i64>) = conn
            .query_row(
                "SELECT team_id, team_version FROM contacts WHERE name = 'Own'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((team_id, version), (None, None));
        let synced: i64 = conn
            .query_row("SELECT count(*) FROM team_phonebook", [], |r| r.get(0))
            .unwrap();
        assert_eq!(synced, 0);
        // One local row per team contact.
        conn.execute(
            "INSERT INTO contacts (name, created_at, updated_at, team_id) VALUES ('T', 1, 1, 7)",
            [],
        )
        .unwrap();
        assert!(
            conn.execute(
                "INSERT INTO contacts (name, created_at, updated_at, team_id) VALUES ('T2', 1, 1, 7)",
                [],
            )
            .is_err()
        );
    }

    #[test]
    fn the_migration_count_matches_the_list() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations().to_latest(&mut conn).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(usize::try_from(version).unwrap(), schema_version());
    }
}
