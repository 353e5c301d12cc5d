//! The integration's sealed secrets, plain facts about it, the states of sign-ins the relay
//! started, the team id and the team generation. The store never sees the at-rest key: it
//! keeps what the `sealing` module sealed, and re-seals only through a function it is given
//! ([`reseal_all`], for `team rotate-key`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};

use super::schema::{parse_timestamp, timestamp};
use crate::error::RelayError;
use crate::store::team::TeamId;

pub use crate::store::team::INTEGRATION_CLIENT;

pub(super) fn store_error(path: &Path) -> impl Fn(rusqlite::Error) -> RelayError + '_ {
    move |source| RelayError::Store {
        path: path.to_path_buf(),
        source,
    }
}

pub(super) fn bump_team_generation(tx: &Transaction<'_>, path: &Path) -> Result<(), RelayError> {
    tx.execute(
        "INSERT INTO relay_meta (name, value) VALUES ('team_generation', 1)
         ON CONFLICT (name) DO UPDATE SET value = value + 1",
        [],
    )
    .map_err(store_error(path))?;
    Ok(())
}

pub(super) fn team_generation(conn: &Connection, path: &Path) -> Result<i64, RelayError> {
    conn.prepare_cached("SELECT value FROM relay_meta WHERE name = 'team_generation'")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)).optional())
        .map(|generation| generation.unwrap_or(0))
        .map_err(store_error(path))
}

pub(super) fn team_id(conn: &Connection, path: &Path) -> Result<TeamId, RelayError> {
    conn.execute(
        "INSERT OR IGNORE INTO relay_meta (name, value) VALUES ('team_id', ?1)",
        params![i64::from_ne_bytes(rand::random::<u64>().to_ne_bytes())],
    )
    .and_then(|_| {
        conn.query_row(
            "SELECT value FROM relay_meta WHERE name = 'team_id'",
            [],
            |row| row.get::<_, i64>(0),
        )
    })
    .map(|stored| TeamId(u64::from_ne_bytes(stored.to_ne_bytes())))
    .map_err(store_error(path))
}

pub(super) fn sealed(
    conn: &Connection,
    name: &str,
    path: &Path,
) -> Result<Option<Vec<u8>>, RelayError> {
    conn.query_row(
        "SELECT sealed FROM sealed_secrets WHERE name = ?1",
        params![name],
        |row| row.get(0),
    )
    .optional()
    .map_err(store_error(path))
}

pub(super) fn put_sealed(
    tx: &Transaction<'_>,
    name: &str,
    sealed: &[u8],
    now: DateTime<Utc>,
    path: &Path,
) -> Result<(), RelayError> {
    tx.execute(
        "INSERT INTO sealed_secrets (name, sealed, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
        params![name, sealed, timestamp(now)],
    )
    .map_err(store_error(path))?;
    bump_team_generation(tx, path)
}

pub(super) fn delete_sealed(
    tx: &Transaction<'_>,
    names: &[String],
    path: &Path,
) -> Result<(), RelayError> {
    for name in names {
        tx.execute("DELETE FROM sealed_secrets WHERE name = ?1", params![name])
            .map_err(store_error(path))?;
    }
    bump_team_generation(tx, path)
}

/// The fact whose presence is team mode.
pub(super) const TEAM_MODE: &str = "team_mode";

pub(super) fn enter_team_mode(tx: &Transaction<'_>, path: &Path) -> Result<(), RelayError> {
    put_fact(tx, TEAM_MODE, "on", path)?;
    bump_team_generation(tx, path)
}

pub(super) fn fact(
    conn: &Connection,
    name: &str,
    path: &Path,
) -> Result<Option<String>, RelayError> {
    conn.query_row(
        "SELECT value FROM team_facts WHERE name = ?1",
        params![name],
        |row| row.get(0),
    )
    .optional()
    .map_err(store_error(path))
}

pub(super) fn put_fact(
    tx: &Transaction<'_>,
    name: &str,
    value: &str,
    path: &Path,
) -> Result<(), RelayError> {
    tx.execute(
        "INSERT INTO team_facts (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )
    .map(|_| ())
    .map_err(store_error(path))
}

pub(super) fn add_connect_state(
    tx: &Transaction<'_>,
    state_hash: &[u8; 32],
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
    path: &Path,
) -> Result<(), RelayError> {
    // Forget what expired, so that the table holds only live sign-ins.
    tx.execute(
        "DELETE FROM connect_states WHERE expires_at <= ?1",
        params![timestamp(now)],
    )
    .and_then(|_| {
        tx.execute(
            "INSERT OR REPLACE INTO connect_states (state_hash, expires_at) VALUES (?1, ?2)",
            params![&state_hash[..], timestamp(expires_at)],
        )
    })
    .map(|_| ())
    .map_err(store_error(path))
}

pub(super) fn take_connect_state(
    tx: &Transaction<'_>,
    state_hash: &[u8; 32],
    now: DateTime<Utc>,
    path: &Path,
) -> Result<bool, RelayError> {
    let expires_at: Option<String> = tx
        .query_row(
            "SELECT expires_at FROM connect_states WHERE state_hash = ?1",
            params![&state_hash[..]],
            |row| row.get(0),
        )
        .optional()
        .map_err(store_error(path))?;
    let Some(expires_at) = expires_at else {
        return Ok(false);
    };
    tx.execute(
        "DELETE FROM connect_states WHERE state_hash = ?1",
        params![&state_hash[..]],
    )
    .map_err(store_error(path))?;
    Ok(parse_timestamp(&expires_at).map_err(store_error(path))? > now)
}

/// Seals every stored secret again with `reseal(name, sealed) -> sealed`, in one transaction
/// on a database nobody else has open (a running relay would go on sealing with the old key):
/// all are re-sealed or none. Returns how many were.
pub fn reseal_all(
    database: &Path,
    mut reseal: impl FnMut(&str, &[u8]) -> Result<Vec<u8>, RelayError>,
) -> Result<usize, RelayError> {
    let path: PathBuf = database.to_path_buf();
    if !database.exists() {
        return Ok(0);
    }
    let mut conn = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(store_error(&path))?;
    conn.busy_timeout(Duration::from_secs(1))
        .map_err(store_error(&path))?;
    super::schema::migrate(&conn).map_err(store_error(&path))?;
    // As `restore` does: exclusive locking fails while another connection has the file open.
    let tx = conn
        .pragma_update(None, "locking_mode", "EXCLUSIVE")
        .and_then(|()| conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;"))
        .and_then(|()| conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive))
        .map_err(|err| match err.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                RelayError::StoreInUse(path.clone())
            }
            _ => store_error(&path)(err),
        })?;
    let rows: Vec<(String, Vec<u8>)> = {
        let mut statement = tx
            .prepare("SELECT name, sealed FROM sealed_secrets ORDER BY name")
            .map_err(store_error(&path))?;
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(store_error(&path))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(store_error(&path))?
    };
    let now = timestamp(Utc::now());
    for (name, sealed) in &rows {
        let again = reseal(name, sealed)?;
        tx.execute(
            "UPDATE sealed_secrets SET sealed = ?2, updated_at = ?3 WHERE name = ?1",
            params![name, again, now],
        )
        .map_err(store_error(&path))?;
    }
    tx.commit().map_err(store_error(&path))?;
    Ok(rows.len())
}
