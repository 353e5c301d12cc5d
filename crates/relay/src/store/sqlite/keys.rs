//! The client keys table: keys are added and revoked by label inside the writer's
//! transaction, and listed by the reader; only their SHA-256 is ever stored.
//!
//! Every change also bumps the keys generation (a row of `relay_meta`), in the same
//! transaction. A running relay caches the key set and reads only this one number per request,
//! so `trubka-relay keys` in another process is seen at the next request.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::schema::parse_timestamp;
use crate::error::RelayError;
use crate::store::ClientKeyRecord;

pub(super) fn add_key(
    tx: &rusqlite::Transaction<'_>,
    label: &str,
    hash: &[u8; 32],
    now_text: &str,
    path: &Path,
) -> Result<(), RelayError> {
    let taken: Option<i64> = tx
        .query_row(
            "SELECT id FROM client_keys WHERE label = ?1 AND revoked_at IS NULL",
            params![label],
            |row| row.get(0),
        )
        .optional()
        .map_err(|source| RelayError::Store {
            path: path.to_path_buf(),
            source,
        })?;
    if taken.is_some() {
        return Err(RelayError::KeyLabelTaken(label.to_owned()));
    }
    tx.execute(
        "INSERT INTO client_keys (label, key_hash, created_at) VALUES (?1, ?2, ?3)",
        params![label, &hash[..], now_text],
    )
    .map_err(|source| RelayError::Store {
        path: path.to_path_buf(),
        source,
    })?;
    bump_generation(tx, path)
}

fn bump_generation(tx: &rusqlite::Transaction<'_>, path: &Path) -> Result<(), RelayError> {
    tx.execute(
        "INSERT INTO relay_meta (name, value) VALUES ('keys_generation', 1)
         ON CONFLICT (name) DO UPDATE SET value = value + 1",
        [],
    )
    .map_err(|source| RelayError::Store {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(())
}

/// The keys generation: it changes whenever a key is added or revoked (0 before the first).
pub(super) fn generation(conn: &Connection, path: &Path) -> Result<i64, RelayError> {
    conn.prepare_cached("SELECT value FROM relay_meta WHERE name = 'keys_generation'")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)).optional())
        .map(|generation| generation.unwrap_or(0))
        .map_err(|source| RelayError::Store {
            path: path.to_path_buf(),
            source,
        })
}

pub(super) fn revoke_key(
    tx: &rusqlite::Transaction<'_>,
    label: &str,
    now_text: &str,
    path: &Path,
) -> Result<(), RelayError> {
    let changed = tx
        .execute(
            "UPDATE client_keys SET revoked_at = ?2 WHERE label = ?1 AND revoked_at IS NULL",
            params![label, now_text],
        )
        .map_err(|source| RelayError::Store {
            path: path.to_path_buf(),
            source,
        })?;
    if changed == 0 {
        return Err(RelayError::KeyNotFound(label.to_owned()));
    }
    bump_generation(tx, path)
}

fn hash_from_blob(blob: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    <[u8; 32]>::try_from(blob).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            "a stored hash is not 32 bytes long".into(),
        )
    })
}

/// All client keys, active and revoked, oldest first.
pub(super) fn client_keys(
    conn: &Connection,
    path: &Path,
) -> Result<Vec<ClientKeyRecord>, RelayError> {
    let store_error = |source| RelayError::Store {
        path: path.to_path_buf(),
        source,
    };
    let mut statement = conn
        .prepare_cached(
            "SELECT label, key_hash, created_at, revoked_at FROM client_keys ORDER BY id",
        )
        .map_err(store_error)?;
    let rows = statement
        .query_map([], |row| {
            let created_at: String = row.get(2)?;
            let revoked_at: Option<String> = row.get(3)?;
            Ok(ClientKeyRecord {
                label: row.get(0)?,
                key_hash: hash_from_blob(row.get(1)?)?,
                created_at: parse_timestamp(&created_at)?,
                revoked_at: revoked_at.as_deref().map(parse_timestamp).transpose()?,
            })
        })
        .map_err(store_error)?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(store_error)
}
