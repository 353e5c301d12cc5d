//! The events table: appending inside the writer's transaction (a call leg's notification seen
//! again within the duplicate window is answered with the earlier id), pruning by receipt time, and the reads a
//! stream and the metrics make.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::value::RawValue;

use super::schema::{parse_timestamp, timestamp};
use crate::error::RelayError;
use crate::store::{
    Appended, Epoch, EventId, EventPage, Horizon, IncomingNotification, StoredEvent,
    UnreadableEvent,
};

pub(super) fn append(
    tx: &rusqlite::Transaction<'_>,
    notification: IncomingNotification,
    epoch: Epoch,
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
        Some(notification.into_stored(epoch, id, now)),
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

/// Up to `limit` rows with an id greater than `after`, in id order. A row that cannot be read
/// as an event (a hand edit or a damaged disk) is reported apart and never fails the read: one
/// bad row must not end every stream at that point for good.
pub(super) fn read_after(
    conn: &Connection,
    path: &Path,
    epoch: Epoch,
    after: EventId,
    limit: i64,
) -> Result<EventPage, RelayError> {
    let store_error = |source| RelayError::Store {
        path: path.to_path_buf(),
        source,
    };
    let mut statement = conn
        .prepare_cached(
            "SELECT id, received_at, kind, body FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
        )
        .map_err(store_error)?;
    let mut rows = statement
        .query(params![after.0, limit])
        .map_err(store_error)?;
    let mut page = EventPage::default();
    while let Some(row) = rows.next().map_err(store_error)? {
        let id = EventId(row.get(0).map_err(store_error)?);
        match read_event(epoch, id, row) {
            Ok(event) => page.events.push(event),
            Err(reason) => page.unreadable.push(UnreadableEvent { id, reason }),
        }
    }
    Ok(page)
}

/// One row as an event, or what makes it unreadable.
fn read_event(epoch: Epoch, id: EventId, row: &rusqlite::Row<'_>) -> Result<StoredEvent, String> {
    let text = |index: usize, column: &str| -> Result<String, String> {
        match row.get_ref(index) {
            Ok(ValueRef::Text(bytes)) => String::from_utf8(bytes.to_vec())
                .map_err(|_| format!("its {column} is not UTF-8 text")),
            Ok(other) => Err(format!(
                "its {column} is {} instead of text",
                other.data_type()
            )),
            Err(err) => Err(format!("its {column} cannot be read: {err}")),
        }
    };
    let received_at = text(1, "receipt time")?;
    let received_at = parse_timestamp(&received_at)
        .map_err(|_| format!("its receipt time {received_at:?} is not an RFC 3339 time"))?;
    let kind = text(2, "kind")?;
    let body = RawValue::from_string(text(3, "body")?)
        .map_err(|err| format!("its body is not valid JSON ({err})"))?;
    Ok(StoredEvent {
        epoch,
        id,
        received_at,
        kind,
        body,
    })
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
