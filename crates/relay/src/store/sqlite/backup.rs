//! Backups of the store and restoring one into its place.
//!
//! A backup is a consistent copy made while the relay runs (`VACUUM INTO`). Restoring one puts
//! the store back to an older state, after which ids already handed out will be handed out
//! again for other events: so a restore gives the store a new epoch, and clients that name the
//! old epoch with their resume point are resynced instead of resuming after ids that now name
//! other events. The database being replaced is never deleted: it is moved aside. When it can
//! still be read, two of its facts carry over, because a backup is older than they are: its
//! client keys (a key revoked since the backup stays revoked) and its highest id (new ids
//! continue after every id it gave out, so that even a client resuming by a bare id misses
//! nothing new).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, params};

use super::events::horizon;
use super::meta::renew_epoch;
use super::schema::{SCHEMA_VERSION, migrate, open_connection};
use crate::error::RelayError;
use crate::store::{Epoch, EventId};

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The store's new epoch.
    pub epoch: Epoch,
    /// How many events the restored store holds.
    pub events: u64,
    /// The highest id given out so far: new events continue after it.
    pub last_id: EventId,
    /// Where the replaced database was moved (`None` if there was none).
    pub replaced: Option<PathBuf>,
    /// Where the client keys came from.
    pub keys: KeysFrom,
}

/// Where a restored store's client keys came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysFrom {
    /// The replaced database, with its revocations.
    Replaced,
    /// The backup, because the replaced database was missing or could not be read (why).
    Backup(Option<String>),
}

fn backup_error(file: &Path, reason: impl Into<String>) -> RelayError {
    RelayError::Backup {
        file: file.to_path_buf(),
        reason: reason.into(),
    }
}

fn utf8(path: &Path) -> Result<&str, RelayError> {
    path.to_str()
        .ok_or_else(|| backup_error(path, "the path is not UTF-8; choose another name"))
}

/// A name beside `path` for a file being written, e.g. `.relay.sqlite3.restoring-<random>`.
fn sibling(path: &Path, what: &str) -> Result<PathBuf, RelayError> {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| backup_error(path, "not a file name"))?;
    Ok(path.with_file_name(format!(".{name}.{what}-{:016x}", rand::random::<u64>())))
}

/// Checks that a connection's file is a relay store this relay can read.
fn check_relay_store(conn: &Connection, file: &Path) -> Result<(), RelayError> {
    let not_a_store =
        |why: String| backup_error(file, format!("is not a trubka-relay event store ({why})"));
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|err| not_a_store(err.to_string()))?;
    if version > SCHEMA_VERSION {
        return Err(backup_error(
            file,
            format!(
                "was written by a newer trubka-relay (schema {version}, this one knows {SCHEMA_VERSION}); use that version"
            ),
        ));
    }
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'
             AND name IN ('events', 'relay_meta', 'client_keys')",
            [],
            |row| row.get(0),
        )
        .map_err(|err| not_a_store(err.to_string()))?;
    if version < 1 || tables != 3 {
        return Err(not_a_store("its tables are missing".into()));
    }
    Ok(())
}

/// Makes a rename durable.
#[cfg(unix)]
fn sync_dir(file: &Path) -> std::io::Result<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::File::open(dir)?.sync_all(),
        _ => std::fs::File::open(".")?.sync_all(),
    }
}

#[cfg(not(unix))]
fn sync_dir(_file: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Syncs a finished file and renames it into place.
fn sync_and_rename(written: &Path, target: &Path) -> Result<(), RelayError> {
    let io = |err: std::io::Error| backup_error(target, err.to_string());
    std::fs::File::open(written)
        .and_then(|file| file.sync_all())
        .map_err(io)?;
    std::fs::rename(written, target).map_err(io)?;
    sync_dir(target).map_err(io)
}

/// Copies the store at `database` into a new file `target`, consistently, while the relay may
/// keep writing. Never overwrites a file.
pub fn backup(database: &Path, target: &Path) -> Result<(), RelayError> {
    if target.exists() {
        return Err(backup_error(
            target,
            "already exists; a backup never overwrites a file, choose a new name",
        ));
    }
    if !database.exists() {
        return Err(backup_error(database, "there is no database to back up"));
    }
    let store_error = |source| RelayError::Store {
        path: database.to_path_buf(),
        source,
    };
    let conn = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(store_error)?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(store_error)?;
    check_relay_store(&conn, database)?;
    let partial = sibling(target, "partial")?;
    let copied = conn
        .execute("VACUUM INTO ?1", params![utf8(&partial)?])
        .map_err(store_error)
        .and_then(|_| sync_and_rename(&partial, target));
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    copied
}

/// Refuses while another connection has the database open (a running relay, or a `keys`
/// command): a WAL connection holds a shared lock on the file for as long as it is open, so
/// the exclusive lock asked for here is granted only to a connection that is alone.
fn ensure_not_in_use(database: &Path) -> Result<(), RelayError> {
    let store_error = |source| RelayError::Store {
        path: database.to_path_buf(),
        source,
    };
    let conn = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(store_error)?;
    conn.busy_timeout(Duration::from_secs(1))
        .map_err(store_error)?;
    let locked = conn
        .pragma_update(None, "locking_mode", "EXCLUSIVE")
        .and_then(|()| conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;"));
    match locked {
        Ok(()) => Ok(()),
        Err(err) => match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                Err(RelayError::StoreInUse(database.to_path_buf()))
            }
            // Not a database at all (damaged beyond reading): nothing can be serving it.
            Some(ErrorCode::NotADatabase) => Ok(()),
            _ => Err(store_error(err)),
        },
    }
}

/// Moves a replaced database (and its `-wal` and `-shm`, which belong to it) aside, to
/// `<database>.replaced-<UTC time>`.
fn move_aside(database: &Path) -> Result<PathBuf, RelayError> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut aside = database.as_os_str().to_owned();
    aside.push(format!(".replaced-{stamp}"));
    let aside = PathBuf::from(aside);
    if aside.exists() {
        return Err(backup_error(
            &aside,
            "already exists; wait a second and run the restore again",
        ));
    }
    for suffix in ["-wal", "-shm", ""] {
        let mut from = database.as_os_str().to_owned();
        from.push(suffix);
        let mut to = aside.as_os_str().to_owned();
        to.push(suffix);
        if Path::new(&from).exists() {
            std::fs::rename(&from, &to).map_err(|err| backup_error(database, err.to_string()))?;
        }
    }
    Ok(aside)
}

/// Carries over what the replaced database knows better than the backup: its client keys, its
/// team (seats, invites and credentials with every revocation since the backup, the
/// integration's sealed secrets and facts, the team id its credentials carry) and its highest
/// id. All or nothing: on any failure the restored copy keeps the backup's.
fn carry_over(conn: &mut Connection, replaced: &Path) -> Result<(), String> {
    conn.execute(
        "ATTACH DATABASE ?1 AS replaced",
        params![utf8(replaced).map_err(|e| e.to_string())?],
    )
    .map_err(|err| err.to_string())?;
    let carried = (|| {
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM main.client_keys", [])?;
        tx.execute(
            "INSERT INTO main.client_keys (id, label, key_hash, created_at, revoked_at)
             SELECT id, label, key_hash, created_at, revoked_at FROM replaced.client_keys",
            [],
        )?;
        let replaced_has_team: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM replaced.sqlite_master
                            WHERE type = 'table' AND name = 'seats')",
            [],
            |row| row.get(0),
        )?;
        if replaced_has_team {
            for table in [
                "seat_credentials",
                "invites",
                "seats",
                "sealed_secrets",
                "team_facts",
            ] {
                tx.execute(&format!("DELETE FROM main.{table}"), [])?;
            }
            for table in [
                "seats",
                "seat_credentials",
                "invites",
                "sealed_secrets",
                "team_facts",
            ] {
                tx.execute(
                    &format!("INSERT INTO main.{table} SELECT * FROM replaced.{table}"),
                    [],
                )?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO main.relay_meta (name, value)
                 SELECT name, value FROM replaced.relay_meta WHERE name = 'team_id'",
                [],
            )?;
        }
        tx.execute(
            "INSERT INTO main.sqlite_sequence (name, seq)
             SELECT 'events', 0 WHERE NOT EXISTS
                 (SELECT 1 FROM main.sqlite_sequence WHERE name = 'events')",
            [],
        )?;
        tx.execute(
            "UPDATE main.sqlite_sequence SET seq = max(seq, coalesce(
                 (SELECT seq FROM replaced.sqlite_sequence WHERE name = 'events'), 0))
             WHERE name = 'events'",
            [],
        )?;
        tx.commit()
    })();
    let detached = conn.execute("DETACH DATABASE replaced", []);
    carried.map_err(|err| err.to_string())?;
    detached.map(|_| ()).map_err(|err| err.to_string())
}

/// Puts the backup at `backup` in place of the store at `database`, which must not be in use
/// (stop the relay first). The restored store gets a new epoch; the replaced database is moved
/// aside, never deleted. Nothing is changed when the backup is not a sound relay store.
pub fn restore(backup: &Path, database: &Path) -> Result<Restored, RelayError> {
    let source = Connection::open_with_flags(
        backup,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|err| backup_error(backup, format!("cannot be opened: {err}")))?;
    check_relay_store(&source, backup)?;
    let check: String = source
        .query_row("PRAGMA quick_check", [], |row| row.get(0))
        .map_err(|err| backup_error(backup, format!("cannot be checked: {err}")))?;
    if check != "ok" {
        return Err(backup_error(backup, format!("is damaged: {check}")));
    }
    let replaced_exists = database.exists();
    if replaced_exists {
        let same = std::fs::canonicalize(backup)
            .ok()
            .zip(std::fs::canonicalize(database).ok())
            .is_some_and(|(a, b)| a == b);
        if same {
            return Err(backup_error(backup, "is the database itself"));
        }
        ensure_not_in_use(database)?;
    }

    let fresh = sibling(database, "restoring")?;
    let prepared = prepare(source, &fresh, database, replaced_exists);
    let (epoch, events, last_id, keys) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = fresh.as_os_str().to_owned();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
            return Err(err);
        }
    };
    let replaced = if replaced_exists {
        Some(move_aside(database)?)
    } else {
        None
    };
    sync_and_rename(&fresh, database)?;
    Ok(Restored {
        epoch,
        events,
        last_id,
        replaced,
        keys,
    })
}

/// Writes the restored store into `fresh`: the backup's copy, a new epoch, and what carries
/// over from the replaced database.
fn prepare(
    source: Connection,
    fresh: &Path,
    database: &Path,
    replaced_exists: bool,
) -> Result<(Epoch, u64, EventId, KeysFrom), RelayError> {
    let store_error = |source| RelayError::Store {
        path: fresh.to_path_buf(),
        source,
    };
    source
        .execute("VACUUM INTO ?1", params![utf8(fresh)?])
        .map_err(store_error)?;
    drop(source);
    let mut conn = open_connection(fresh).map_err(store_error)?;
    migrate(&conn).map_err(store_error)?;
    let epoch = renew_epoch(&conn).map_err(store_error)?;
    let keys = if replaced_exists {
        match carry_over(&mut conn, database) {
            Ok(()) => KeysFrom::Replaced,
            Err(why) => KeysFrom::Backup(Some(why)),
        }
    } else {
        KeysFrom::Backup(None)
    };
    let events: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .map_err(store_error)?;
    let last_id = horizon(&conn, fresh)?.last_id;
    // Closing the last connection folds the log into the file and removes it, so the one
    // file renamed into place is the whole store.
    conn.close().map_err(|(_, err)| store_error(err))?;
    Ok((epoch, u64::try_from(events).unwrap_or(0), last_id, keys))
}
