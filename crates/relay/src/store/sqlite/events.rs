//! The events table: appending inside the writer's transaction (a call leg's notification seen
//! again within the duplicate window is answered with the earlier id), pruning by receipt time, and the reads a
//! stream and the metrics make.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::value::RawValue;

use super::schema::{parse_timestamp, timestamp};
use crate::error::RelayError;
use crate::store::{Appended, EventId, Horizon, IncomingNotification, StoredEvent};

pub(super) fn append(
    tx: &rusqlite::Transaction<'_>,
    notification: IncomingNotification,
    now: DateTime<Utc>,
    now_text: &str,
    window_start: &str,
) -> rusqlite::Result<(Appended, Option<StoredEvent>)> {
    let earlier: Option<i64> = if notification.mergeable() {
        tx.prepare_cached(
            "SELECT id FROM events WHERE body_hash = ?1 AND received_at >= ?2 ORDER BY id LIMIT 1",
        )?
        .query_row(
            params![&notification.body_hash()[..], window_start],
            |row| row.get(0),
        )
        .optional()?
    } else {
        None
    };
    if let Some(id) = earlier {
        return Ok((
            Appended {
                id: EventId(id),
                duplicate: true,
            },
            None,
        ));
    }
    tx.prepare_cached(
        "INSERT INTO events (received_at, kind, body, body_hash) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        now_text,
        notification.kind(),
        notification.body(),
        &notification.body_hash()[..]
    ])?;
    let id = EventId(tx.last_insert_rowid());
    Ok((
        Appended {
            id,
            duplicate: false,
        },
        Some(notification.into_stored(id, now)),
    ))
}

pub(super) fn prune(
    tx: &rusqlite::Transaction<'_>,
    cutoff: DateTime<Utc>,
) -> rusqlite::Result<u64> {
    // Receipt times never go backwards along ids, so "received before the cutoff" is a prefix
    // of the ids and the horizon is simply its last id.
    let last_pruned: Option<i64> = tx.query_row(
        "SELECT max(id) FROM events WHERE received_at < ?1",
        params![timestamp(cutoff)],
        |row| row.get(0),
    )?;
    let Some(last_pruned) = last_pruned else {
        return Ok(0);
    };
    let removed = tx.execute("DELETE FROM events WHERE id <= ?1", params![last_pruned])?;
    tx.execute(
        "INSERT INTO relay_meta (name, value) VALUES ('pruned_through', ?1)
         ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
        params![last_pruned],
    )?;
    Ok(u64::try_from(removed).unwrap_or(u64::MAX))
}

/// Up to `limit` events with an id greater than `after`, in id order.
pub(super) fn read_after(
    conn: &Connection,
    path: &Path,
    after: EventId,
    limit: i64,
) -> Result<Vec<StoredEvent>, RelayError> {
    let store_error = |source| RelayError::Store {
        path: path.to_path_buf(),
        source,
    };
    let mut statement = conn
        .prepare_cached(
            "SELECT id, received_at, kind, body FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
        )
        .map_err(store_error)?;
    let rows = statement
        .query_map(params![after.0, limit], |row| {
            let id: i64 = row.get(0)?;
            let received_at: String = row.get(1)?;
            Ok((
                id,
                parse_timestamp(&received_at)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })
        .map_err(store_error)?;
    let mut events = Vec::new();
    for row in rows {
        let (id, received_at, kind, body) = row.map_err(store_error)?;
        let body = RawValue::from_string(body).map_err(|_| RelayError::CorruptEvent { id })?;
        events.push(StoredEvent {
            id: EventId(id),
            received_at,
            kind,
            body,
        });
    }
    Ok(events)
}

/// The retention horizon and the last id ever assigned.
pub(super) fn horizon(conn: &Connection, path: &Path) -> Result<Horizon, RelayError> {
    let store_error = |source| RelayError::Store {
        path: path.to_path_buf(),
        source,
    };
    let pruned_through: Option<i64> = conn
        .query_row(
            "SELECT value FROM relay_meta WHERE name = 'pruned_through'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(store_error)?;
    let last_id: Option<i64> = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(store_error)?;
    Ok(Horizon {
        pruned_through: EventId(pruned_through.unwrap_or(0)),
        last_id: EventId(last_id.unwrap_or(0)),
    })
}

/// The database file and its write-ahead log, in bytes.
pub(super) fn size_bytes(conn: &Connection, path: &Path) -> Result<u64, RelayError> {
    let pages: i64 = conn
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |row| row.get(0),
        )
        .map_err(|source| RelayError::Store {
            path: path.to_path_buf(),
            source,
        })?;
    let mut wal = path.to_path_buf().into_os_string();
    wal.push("-wal");
    let wal_bytes = std::fs::metadata(wal).map(|meta| meta.len()).unwrap_or(0);
    Ok(u64::try_from(pages).unwrap_or(0) + wal_bytes)
}
