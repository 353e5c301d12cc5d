//! The reads: the backlog a stream pages through, the horizon, the keys and their generation,
//! the epoch and the database's size.

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use tokio_postgres::{Client, Row};

use super::failed;
use crate::error::RelayError;
use crate::store::{
    ClientKeyRecord, Epoch, EventId, EventPage, Horizon, StoredEvent, UnreadableEvent,
};

/// Up to `limit` rows with an id greater than `after`, in id order; a row that cannot be read
/// as an event is reported apart and never fails the read.
pub(super) async fn read_after(
    client: &Client,
    epoch: Epoch,
    after: EventId,
    limit: i64,
) -> Result<EventPage, RelayError> {
    let rows = client
        .query(
            "SELECT id, received_at, kind, body FROM events WHERE id > $1 ORDER BY id LIMIT $2",
            &[&after.0, &limit],
        )
        .await
        .map_err(failed("reading events"))?;
    let mut page = EventPage::default();
    for row in rows {
        let id = EventId(row.get(0));
        match read_event(epoch, id, &row) {
            Ok(event) => page.events.push(event),
            Err(reason) => page.unreadable.push(UnreadableEvent { id, reason }),
        }
    }
    Ok(page)
}

fn read_event(epoch: Epoch, id: EventId, row: &Row) -> Result<StoredEvent, String> {
    let received_at: DateTime<Utc> = row
        .try_get(1)
        .map_err(|err| format!("its receipt time cannot be read: {err}"))?;
    let kind: String = row
        .try_get(2)
        .map_err(|err| format!("its kind cannot be read: {err}"))?;
    let body: String = row
        .try_get(3)
        .map_err(|err| format!("its body cannot be read: {err}"))?;
    let body =
        RawValue::from_string(body).map_err(|err| format!("its body is not valid JSON ({err})"))?;
    Ok(StoredEvent {
        epoch,
        id,
        received_at,
        kind,
        body,
    })
}

/// The retention horizon and the last id ever handed out.
pub(super) async fn horizon(client: &Client) -> Result<Horizon, RelayError> {
    let row = client
        .query_one("SELECT pruned_through, last_id FROM event_log_head", &[])
        .await
        .map_err(failed("reading the event log's head"))?;
    Ok(Horizon {
        pruned_through: EventId(row.get(0)),
        last_id: EventId(row.get(1)),
    })
}

/// The store's epoch, made on the spot for a new database. `ON CONFLICT DO NOTHING` lets
/// instances starting together agree on one.
pub(super) async fn epoch(client: &Client) -> Result<Epoch, RelayError> {
    client
        .execute(
            "INSERT INTO relay_meta (name, value) VALUES ('epoch', $1) ON CONFLICT (name) DO NOTHING",
            &[&Epoch::generate().to_stored()],
        )
        .await
        .map_err(failed("making the store's epoch"))?;
    let row = client
        .query_one("SELECT value FROM relay_meta WHERE name = 'epoch'", &[])
        .await
        .map_err(failed("reading the store's epoch"))?;
    Ok(Epoch::from_stored(row.get(0)))
}

/// The keys generation: it changes whenever a key is added or revoked (0 before the first).
pub(super) async fn keys_generation(client: &Client) -> Result<i64, RelayError> {
    let row = client
        .query_opt(
            "SELECT value FROM relay_meta WHERE name = 'keys_generation'",
            &[],
        )
        .await
        .map_err(failed("reading the keys generation"))?;
    Ok(row.map(|row| row.get(0)).unwrap_or(0))
}

/// All client keys, active and revoked, oldest first.
pub(super) async fn client_keys(client: &Client) -> Result<Vec<ClientKeyRecord>, RelayError> {
    let rows = client
        .query(
            "SELECT label, key_hash, created_at, revoked_at FROM client_keys ORDER BY id",
            &[],
        )
        .await
        .map_err(failed("reading the client keys"))?;
    rows.into_iter()
        .map(|row| {
            let hash: Vec<u8> = row.get(1);
            let key_hash = <[u8; 32]>::try_from(hash).map_err(|_| {
                RelayError::PostgresData("a stored client key hash is not 32 bytes long".into())
            })?;
            Ok(ClientKeyRecord {
                label: row.get(0),
                key_hash,
                created_at: row.get(2),
                revoked_at: row.get(3),
            })
        })
        .collect()
}

/// The database's size in bytes.
pub(super) async fn size_bytes(client: &Client) -> Result<u64, RelayError> {
    let row = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .await
        .map_err(failed("reading the database's size"))?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}
