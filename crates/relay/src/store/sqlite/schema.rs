//! The file's layout and how values are written into it: the tables, the migration that
//! creates them, the connection settings every connection shares, and the text form of times.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags};

/// The schema version this code writes; `PRAGMA user_version` records it in the file.
pub(super) const SCHEMA_VERSION: i64 = 10;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    kind        TEXT NOT NULL,
    body        TEXT NOT NULL,
    body_hash   BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_body_hash ON events (body_hash);
CREATE INDEX IF NOT EXISTS events_by_received_at ON events (received_at);
CREATE TABLE IF NOT EXISTS relay_meta (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS client_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    label      TEXT NOT NULL,
    key_hash   BLOB NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS client_keys_active_label
    ON client_keys (label) WHERE revoked_at IS NULL;
";

/// Version 2: team mode. Seats, their invites and credentials (hashes only), the integration's
/// sealed secrets, plain facts about it, and the states of sign-ins the relay started itself.
const TEAM_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS seats (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    workplace  TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS seat_credentials (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    seat_id    INTEGER NOT NULL REFERENCES seats (id),
    hash       BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS invites (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    seat_id       INTEGER NOT NULL REFERENCES seats (id),
    code_hash     BLOB NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT,
    superseded_at TEXT
);
CREATE TABLE IF NOT EXISTS sealed_secrets (
    name       TEXT PRIMARY KEY,
    sealed     BLOB NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS team_facts (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS connect_states (
    state_hash BLOB PRIMARY KEY,
    expires_at TEXT NOT NULL
);
";

/// Version 3: the audit log of the seats' actions at the PBX.
const AUDIT_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    seat_id   INTEGER NOT NULL,
    seat_name TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    code      TEXT,
    detail    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_log_by_at ON audit_log (at);
";

/// Version 4: a seat revoked with `--delete-local-data` asks its app to delete the team's
/// history and contacts.
const REVOKE_SCHEMA: &str = "
ALTER TABLE seats ADD COLUMN delete_local_data INTEGER NOT NULL DEFAULT 0;
";

/// Version 8 (issue #17, team mode): each seat's wrap-up of a call (note and tags), by the
/// number it is about; the team's tags list is a `team_facts` row. (Versions 5 to 7 belong to
/// other changes of the same release; each block runs once, whatever the order they land in.)
const WRAPUP_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS team_wrapups (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    leg_id    TEXT NOT NULL,
    number    TEXT NOT NULL,
    seat_id   INTEGER NOT NULL,
    seat_name TEXT NOT NULL,
    workplace TEXT NOT NULL,
    note      TEXT NOT NULL,
    tags      TEXT NOT NULL,
    saved_at  TEXT NOT NULL,
    UNIQUE (leg_id, seat_id)
);
CREATE INDEX IF NOT EXISTS team_wrapups_by_number ON team_wrapups (number, saved_at);
CREATE INDEX IF NOT EXISTS team_wrapups_by_saved_at ON team_wrapups (saved_at);
";

/// Version 9 (issue #18): the admin console. Accounts (a seat's argon2id PHC string, its wrong
/// passwords in a row and the lock they caused), sessions by the SHA-256 of their id and of
/// their CSRF token, and what the relay saw of each seat's app.
const CONSOLE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS console_accounts (
    seat_id         INTEGER PRIMARY KEY REFERENCES seats (id),
    password_hash   TEXT NOT NULL,
    failed_in_a_row INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    updated_at      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_sessions (
    id_hash      BLOB PRIMARY KEY,
    csrf_hash    BLOB NOT NULL,
    seat_id      INTEGER NOT NULL REFERENCES seats (id),
    created_at   TEXT NOT NULL,
    last_used_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_sessions_by_seat ON console_sessions (seat_id);
";

/// Version 9's new columns of `seats`, added only where missing (a file an older test or
/// restore marked as an earlier version may have them already).
const CONSOLE_SEAT_COLUMNS: &[(&str, &str)] = &[("app_version", "TEXT"), ("last_seen_at", "TEXT")];

fn add_missing_columns(
    conn: &Connection,
    table: &str,
    columns: &[(&str, &str)],
) -> rusqlite::Result<()> {
    let mut statement = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let present = statement
        .query_map([], |row| row.get::<_, String>(1))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (name, kind) in columns {
        if !present.iter().any(|column| column == name) {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {name} {kind};"))?;
        }
    }
    Ok(())
}

/// Version 6: the team phonebook. A contact keeps the version of its last change (unique: one
/// per contact changed) and a tombstone when deleted, so that "what changed since N" is one
/// indexed range; its numbers are keyed (`phonebook::normalize_number`) for lookups.
const PHONEBOOK_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS team_contacts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    company    TEXT,
    manager    TEXT,
    notes      TEXT,
    version    INTEGER NOT NULL UNIQUE,
    updated_at TEXT NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS team_contact_numbers (
    contact_id INTEGER NOT NULL REFERENCES team_contacts (id),
    position   INTEGER NOT NULL,
    number     TEXT NOT NULL,
    key        TEXT NOT NULL,
    PRIMARY KEY (contact_id, position)
);
CREATE INDEX IF NOT EXISTS team_contact_numbers_by_key ON team_contact_numbers (key);
";

/// Version 5: routing on the relay. The team's rules (one row, JSON), a fact per outside caller
/// number (first and last seen, the workplace that last answered it: kept for the longest "last
/// operator" window, apart from the events and their retention) and the journal of decisions.
const ROUTING_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS routing_rules (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    rules      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS routing_callers (
    number_key       TEXT PRIMARY KEY,
    first_seen_at    TEXT NOT NULL,
    last_seen_at     TEXT NOT NULL,
    last_operator    TEXT,
    last_operator_at TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS routing_callers_by_last_seen ON routing_callers (last_seen_at);
CREATE TABLE IF NOT EXISTS routing_journal (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    leg           TEXT NOT NULL,
    caller_number TEXT,
    line_number   TEXT,
    rule          TEXT,
    target        TEXT,
    outcome       TEXT NOT NULL,
    detail        TEXT,
    decided_at    TEXT NOT NULL,
    took_ms       INTEGER NOT NULL,
    deadline_ms   INTEGER NOT NULL
);
";

/// Version 10: who decides each parked call (a claim with a lease; see `store::claims`).
const CLAIMS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS parked_call_claims (
    leg             TEXT PRIMARY KEY,
    caller_key      TEXT NOT NULL,
    external_number TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    token           INTEGER NOT NULL,
    holder          TEXT NOT NULL,
    lease_until     TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('claimed', 'acting')),
    takeovers       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS parked_call_claims_by_call
    ON parked_call_claims (caller_key, external_number, received_at);
";

pub(super) fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL makes every commit survive a power cut, not only a process crash: a 2xx must mean
    // the event is on disk.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version < 1 {
        conn.execute_batch(SCHEMA)?;
    }
    if version < 2 {
        conn.execute_batch(TEAM_SCHEMA)?;
    }
    if version < 3 {
        conn.execute_batch(AUDIT_SCHEMA)?;
    }
    if version < 4 {
        conn.execute_batch(REVOKE_SCHEMA)?;
    }
    if version < 5 {
        conn.execute_batch(ROUTING_SCHEMA)?;
    }
    if version < 6 {
        conn.execute_batch(PHONEBOOK_SCHEMA)?;
    }
    if version < 8 {
        conn.execute_batch(WRAPUP_SCHEMA)?;
    }
    if version < 9 {
        conn.execute_batch(CONSOLE_SCHEMA)?;
        add_missing_columns(conn, "seats", CONSOLE_SEAT_COLUMNS)?;
    }
    if version < 10 {
        conn.execute_batch(CLAIMS_SCHEMA)?;
    }
    if version < SCHEMA_VERSION {
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    Ok(())
}

pub(super) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(super) fn parse_timestamp(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(err))
        })
}
