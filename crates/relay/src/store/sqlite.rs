//! The embedded default [`EventStore`]: SQLite in WAL mode with `synchronous=FULL`.
//!
//! Architecture invariant: this file holds every SQL string of the relay crate (the project's
//! one documented exception to "only `call-log` speaks SQL").
//!
//! Writes go through one writer thread that owns the write connection. It takes the first
//! waiting request, then every request that arrived meanwhile (up to a batch limit), applies
//! them all in one transaction and commits once: this is group commit, and it is why a durable
//! 2xx per notification does not cost one fsync per notification. Only after the commit does it
//! announce the new events to the [`CommitSink`] (in id order) and answer each sender. Reads use
//! a second connection, which WAL lets run beside the writer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};

use super::{
    Appended, ClientKeyRecord, CommitSink, EventId, EventStore, Horizon, IncomingNotification,
    StoredEvent,
};
use crate::error::RelayError;

/// The schema version this code writes; `PRAGMA user_version` records it in the file.
const SCHEMA_VERSION: i64 = 1;

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

/// Tuning of the SQLite store.
#[derive(Debug, Clone, Copy)]
pub struct SqliteOptions {
    /// A body seen again within this window is recognised as a duplicate and stored once.
    pub duplicate_window: Duration,
    /// The most requests one group commit takes.
    pub max_batch: usize,
    /// How many write requests may wait for the writer before senders wait in turn.
    pub queue: usize,
    /// How often the write-ahead log is copied into the database file.
    pub checkpoint_interval: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            duplicate_window: Duration::from_secs(600),
            max_batch: 512,
            // With bodies of up to 256 KiB, this bounds what waits for the writer to a few
            // hundred MiB even when every sender is at the limit.
            queue: 1024,
            checkpoint_interval: Duration::from_secs(1),
        }
    }
}

/// The SQLite event store. Cheap to share behind an `Arc`; dropping the last handle lets the
/// writer thread finish the requests already queued and stop.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: mpsc::Sender<WriteRequest>,
    reader: Arc<Mutex<Connection>>,
    /// Dropping it stops the checkpoint thread.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

type Reply<T> = oneshot::Sender<Result<T, RelayError>>;

enum WriteRequest {
    Append(IncomingNotification, Reply<Appended>),
    Prune(DateTime<Utc>, Reply<u64>),
    AddKey(String, [u8; 32], Reply<()>),
    RevokeKey(String, Reply<()>),
}

/// A request applied inside the open transaction, waiting for the commit to be answered.
enum Applied {
    Append(
        Reply<Appended>,
        Result<Appended, RelayError>,
        Option<StoredEvent>,
    ),
    Prune(Reply<u64>, Result<u64, RelayError>),
    Unit(Reply<()>, Result<(), RelayError>),
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and starts its writer thread.
    pub fn open(
        path: &Path,
        options: SqliteOptions,
        sink: Arc<dyn CommitSink>,
    ) -> Result<Self, RelayError> {
        let store_error = |source| RelayError::Store {
            path: path.to_path_buf(),
            source,
        };
        let duplicate_window =
            TimeDelta::from_std(options.duplicate_window).map_err(|_| RelayError::ConfigValue {
                field: "duplicate_window_secs",
                reason: "too large".into(),
            })?;
        let writer_conn = open_connection(path).map_err(store_error)?;
        migrate(&writer_conn).map_err(store_error)?;
        let reader_conn = open_connection(path).map_err(store_error)?;
        reader_conn
            .pragma_update(None, "query_only", true)
            .map_err(store_error)?;
        // Checkpoints run on their own thread, so that the writer's commits (and so the 2xx
        // answers) never wait for the log to be copied into the database file.
        let checkpoint_conn = open_connection(path).map_err(store_error)?;
        let (checkpoints, stop) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("relay-store-checkpoint".into())
            .spawn(move || run_checkpoints(&checkpoint_conn, &stop, options.checkpoint_interval))
            .map_err(|source| RelayError::Thread {
                what: "event store checkpoint",
                source,
            })?;
        writer_conn
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(store_error)?;

        let (writer, requests) = mpsc::channel(options.queue.max(1));
        let writer_state = Writer {
            conn: writer_conn,
            path: path.to_path_buf(),
            sink,
            duplicate_window,
            max_batch: options.max_batch.max(1),
            last_stamp: None,
        };
        std::thread::Builder::new()
            .name("relay-store-writer".into())
            .spawn(move || writer_state.run(requests))
            .map_err(|source| RelayError::Thread {
                what: "event store writer",
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            writer,
            reader: Arc::new(Mutex::new(reader_conn)),
            _checkpoints: checkpoints,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn write<T>(&self, make: impl FnOnce(Reply<T>) -> WriteRequest) -> Result<T, RelayError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(make(reply))
            .await
            .map_err(|_| RelayError::StoreClosed)?;
        answer.await.map_err(|_| RelayError::StoreClosed)?
    }

    async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> Result<T, RelayError> + Send + 'static,
    ) -> Result<T, RelayError> {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || query(&lock(&reader)))
            .await
            .map_err(|_| RelayError::StoreClosed)?
    }
}

/// A poisoned lock only means another read panicked; the connection itself is still sound.
fn lock(reader: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    reader
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
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

/// Copies the write-ahead log into the database every `interval` until the store is dropped.
/// PASSIVE never blocks the writer or readers; frames still in use by a reader are simply left
/// for the next round.
fn run_checkpoints(conn: &Connection, stop: &std::sync::mpsc::Receiver<()>, interval: Duration) {
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(interval) {
        if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %err, "a checkpoint of the event store failed; retrying");
        }
    }
}

fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version < SCHEMA_VERSION {
        conn.execute_batch(SCHEMA)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    Ok(())
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_timestamp(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(err))
        })
}

struct Writer {
    conn: Connection,
    path: PathBuf,
    sink: Arc<dyn CommitSink>,
    duplicate_window: TimeDelta,
    max_batch: usize,
    last_stamp: Option<DateTime<Utc>>,
}

impl Writer {
    fn run(mut self, mut requests: mpsc::Receiver<WriteRequest>) {
        while let Some(first) = requests.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            self.commit_batch(batch);
        }
    }

    /// The receipt time of a batch: now at millisecond precision (what the store keeps), never
    /// earlier than the previous batch's, so that receipt times follow ids even if the wall
    /// clock steps back.
    fn stamp(&mut self) -> DateTime<Utc> {
        let now = Utc::now();
        let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        let stamp = match self.last_stamp {
            Some(last) if last > now => last,
            _ => now,
        };
        self.last_stamp = Some(stamp);
        stamp
    }

    fn commit_batch(&mut self, batch: Vec<WriteRequest>) {
        let now = self.stamp();
        let window_start = timestamp(now - self.duplicate_window);
        let now_text = timestamp(now);
        let path = self.path.clone();
        let store_error = |source| RelayError::Store {
            path: path.clone(),
            source,
        };

        let tx = match self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
        {
            Ok(tx) => tx,
            Err(err) => {
                let message = err.to_string();
                for request in batch {
                    fail(request, &path, &message);
                }
                return;
            }
        };
        let mut applied = Vec::with_capacity(batch.len());
        for request in batch {
            applied.push(match request {
                WriteRequest::Append(notification, reply) => {
                    match append(&tx, notification, now, &now_text, &window_start) {
                        Ok((appended, stored)) => Applied::Append(reply, Ok(appended), stored),
                        Err(err) => Applied::Append(reply, Err(store_error(err)), None),
                    }
                }
                WriteRequest::Prune(cutoff, reply) => {
                    Applied::Prune(reply, prune(&tx, cutoff).map_err(store_error))
                }
                WriteRequest::AddKey(label, hash, reply) => {
                    Applied::Unit(reply, add_key(&tx, &label, &hash, &now_text, &path))
                }
                WriteRequest::RevokeKey(label, reply) => {
                    Applied::Unit(reply, revoke_key(&tx, &label, &now_text, &path))
                }
            });
        }
        match tx.commit() {
            Ok(()) => {
                let stored: Vec<StoredEvent> = applied
                    .iter_mut()
                    .filter_map(|done| match done {
                        Applied::Append(_, _, stored) => stored.take(),
                        _ => None,
                    })
                    .collect();
                if !stored.is_empty() {
                    self.sink.committed(&stored);
                }
                for done in applied {
                    done.answer();
                }
            }
            Err(err) => {
                let message = err.to_string();
                for done in applied {
                    done.fail(&path, &message);
                }
            }
        }
    }
}

fn fail(request: WriteRequest, path: &Path, message: &str) {
    let error = || RelayError::Commit {
        path: path.to_path_buf(),
        message: message.to_owned(),
    };
    // A sender that has gone away (its HTTP request was cancelled) needs no answer, so the
    // results of `send` are ignored.
    match request {
        WriteRequest::Append(_, reply) => {
            let _ = reply.send(Err(error()));
        }
        WriteRequest::Prune(_, reply) => {
            let _ = reply.send(Err(error()));
        }
        WriteRequest::AddKey(_, _, reply) | WriteRequest::RevokeKey(_, reply) => {
            let _ = reply.send(Err(error()));
        }
    }
}

impl Applied {
    /// Answers the sender after the commit succeeded.
    fn answer(self) {
        match self {
            Applied::Append(reply, result, _) => {
                let _ = reply.send(result);
            }
            Applied::Prune(reply, result) => {
                let _ = reply.send(result);
            }
            Applied::Unit(reply, result) => {
                let _ = reply.send(result);
            }
        }
    }

    /// Answers the sender after the commit failed: nothing of the batch was stored.
    fn fail(self, path: &Path, message: &str) {
        let error = || RelayError::Commit {
            path: path.to_path_buf(),
            message: message.to_owned(),
        };
        match self {
            Applied::Append(reply, _, _) => {
                let _ = reply.send(Err(error()));
            }
            Applied::Prune(reply, _) => {
                let _ = reply.send(Err(error()));
            }
            Applied::Unit(reply, _) => {
                let _ = reply.send(Err(error()));
            }
        }
    }
}

fn append(
    tx: &rusqlite::Transaction<'_>,
    notification: IncomingNotification,
    now: DateTime<Utc>,
    now_text: &str,
    window_start: &str,
) -> rusqlite::Result<(Appended, Option<StoredEvent>)> {
    let earlier: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM events WHERE body_hash = ?1 AND received_at >= ?2 ORDER BY id LIMIT 1",
        )?
        .query_row(
            params![&notification.body_hash()[..], window_start],
            |row| row.get(0),
        )
        .optional()?;
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

fn prune(tx: &rusqlite::Transaction<'_>, cutoff: DateTime<Utc>) -> rusqlite::Result<u64> {
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

fn add_key(
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
    Ok(())
}

fn revoke_key(
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
    Ok(())
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

impl EventStore for SqliteStore {
    fn append(
        &self,
        notification: IncomingNotification,
    ) -> BoxFuture<'_, Result<Appended, RelayError>> {
        self.write(|reply| WriteRequest::Append(notification, reply))
            .boxed()
    }

    fn events_after(
        &self,
        after: EventId,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<StoredEvent>, RelayError>> {
        let path = self.path.clone();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let store_error = |source| RelayError::Store {
                path: path.clone(),
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
                let body =
                    RawValue::from_string(body).map_err(|_| RelayError::CorruptEvent { id })?;
                events.push(StoredEvent {
                    id: EventId(id),
                    received_at,
                    kind,
                    body,
                });
            }
            Ok(events)
        })
        .boxed()
    }

    fn horizon(&self) -> BoxFuture<'_, Result<Horizon, RelayError>> {
        let path = self.path.clone();
        self.read(move |conn| {
            let store_error = |source| RelayError::Store {
                path: path.clone(),
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
        })
        .boxed()
    }

    fn prune_received_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        self.write(move |reply| WriteRequest::Prune(cutoff, reply))
            .boxed()
    }

    fn size_bytes(&self) -> BoxFuture<'_, Result<u64, RelayError>> {
        let path = self.path.clone();
        self.read(move |conn| {
            let pages: i64 = conn
                .query_row(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                    [],
                    |row| row.get(0),
                )
                .map_err(|source| RelayError::Store {
                    path: path.clone(),
                    source,
                })?;
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            let wal_bytes = std::fs::metadata(wal).map(|meta| meta.len()).unwrap_or(0);
            Ok(u64::try_from(pages).unwrap_or(0) + wal_bytes)
        })
        .boxed()
    }

    fn add_client_key(
        &self,
        label: String,
        key_hash: [u8; 32],
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        self.write(move |reply| WriteRequest::AddKey(label, key_hash, reply))
            .boxed()
    }

    fn client_keys(&self) -> BoxFuture<'_, Result<Vec<ClientKeyRecord>, RelayError>> {
        let path = self.path.clone();
        self.read(move |conn| {
            let store_error = |source| RelayError::Store {
                path: path.clone(),
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
        })
        .boxed()
    }

    fn revoke_client_key(&self, label: String) -> BoxFuture<'_, Result<(), RelayError>> {
        self.write(move |reply| WriteRequest::RevokeKey(label, reply))
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NoSink;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<i64>>);

    impl CommitSink for Recorder {
        fn committed(&self, events: &[StoredEvent]) {
            lock_ids(&self.0).extend(events.iter().map(|event| event.id.0));
        }
    }

    fn lock_ids(ids: &Mutex<Vec<i64>>) -> MutexGuard<'_, Vec<i64>> {
        ids.lock().unwrap()
    }

    fn notification(body: &str) -> IncomingNotification {
        IncomingNotification::new("callNotifications".into(), body.into()).unwrap()
    }

    fn open(dir: &tempfile::TempDir, sink: Arc<dyn CommitSink>) -> SqliteStore {
        SqliteStore::open(
            &dir.path().join("events.sqlite3"),
            SqliteOptions::default(),
            sink,
        )
        .unwrap()
    }

    #[tokio::test]
    async fn appends_number_events_in_order_and_keep_the_body_verbatim() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = Arc::new(Recorder::default());
        let store = open(&dir, recorder.clone());
        let body = "{ \"event\" : \"callNotifications\",\n \"result\": {\"x\": [1, 2.50]} }";
        let first = store.append(notification(body)).await.unwrap();
        let second = store.append(notification("{\"n\":2}")).await.unwrap();
        assert_eq!((first.id, first.duplicate), (EventId(1), false));
        assert_eq!((second.id, second.duplicate), (EventId(2), false));
        assert_eq!(*lock_ids(&recorder.0), vec![1, 2]);

        let events = store.events_after(EventId::START, 10).await.unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].body.get(), body);
        assert_eq!(events[0].kind, "callNotifications");
        assert!(events[0].received_at <= events[1].received_at);
        let after_first = store.events_after(EventId(1), 10).await.unwrap();
        assert_eq!(after_first.len(), 1);
        assert_eq!(after_first[0].id, EventId(2));
    }

    #[tokio::test]
    async fn the_same_body_within_the_window_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = Arc::new(Recorder::default());
        let store = open(&dir, recorder.clone());
        let first = store.append(notification("{\"a\":1}")).await.unwrap();
        let again = store.append(notification("{\"a\":1}")).await.unwrap();
        assert_eq!(
            again,
            Appended {
                id: first.id,
                duplicate: true
            }
        );
        assert_eq!(
            store.events_after(EventId::START, 10).await.unwrap().len(),
            1
        );
        assert_eq!(*lock_ids(&recorder.0), vec![1]);
    }

    #[tokio::test]
    async fn a_zero_window_stores_repeats() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteOptions {
            duplicate_window: Duration::ZERO,
            ..SqliteOptions::default()
        };
        let store =
            SqliteStore::open(&dir.path().join("e.sqlite3"), options, Arc::new(NoSink)).unwrap();
        store.append(notification("{\"a\":1}")).await.unwrap();
        // The window starts "now", so an event stamped in an earlier millisecond falls out of it.
        tokio::time::sleep(Duration::from_millis(3)).await;
        let again = store.append(notification("{\"a\":1}")).await.unwrap();
        assert!(!again.duplicate);
    }

    #[tokio::test]
    async fn concurrent_appends_share_commits_and_all_get_distinct_ids() {
        let dir = tempfile::tempdir().unwrap();
        let recorder = Arc::new(Recorder::default());
        let store = Arc::new(open(&dir, recorder.clone()));
        let mut tasks = Vec::new();
        for n in 0..200 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                store
                    .append(notification(&format!("{{\"n\":{n}}}")))
                    .await
                    .unwrap()
                    .id
            }));
        }
        let mut ids = Vec::new();
        for task in tasks {
            ids.push(task.await.unwrap().0);
        }
        ids.sort_unstable();
        assert_eq!(ids, (1..=200).collect::<Vec<_>>());
        // The sink saw every id once, in increasing order.
        assert_eq!(*lock_ids(&recorder.0), (1..=200).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn pruning_moves_the_horizon_and_ids_are_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir, Arc::new(NoSink));
        store.append(notification("{\"a\":1}")).await.unwrap();
        store.append(notification("{\"a\":2}")).await.unwrap();
        let removed = store
            .prune_received_before(Utc::now() + TimeDelta::seconds(1))
            .await
            .unwrap();
        assert_eq!(removed, 2);
        assert_eq!(
            store.horizon().await.unwrap(),
            Horizon {
                pruned_through: EventId(2),
                last_id: EventId(2)
            }
        );
        let next = store.append(notification("{\"a\":3}")).await.unwrap();
        assert_eq!(next.id, EventId(3));
        assert_eq!(
            store
                .prune_received_before(Utc::now() - TimeDelta::days(1))
                .await
                .unwrap(),
            0
        );
        assert!(store.size_bytes().await.unwrap() > 0);
    }

    #[tokio::test]
    async fn the_log_is_checkpointed_into_the_database_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.sqlite3");
        let options = SqliteOptions {
            checkpoint_interval: Duration::from_millis(20),
            ..SqliteOptions::default()
        };
        let store = SqliteStore::open(&path, options, Arc::new(NoSink)).unwrap();
        let pad = "x".repeat(1000);
        for n in 0..200 {
            store
                .append(notification(&format!("{{\"n\":{n},\"pad\":\"{pad}\"}}")))
                .await
                .unwrap();
        }
        // The writer never checkpoints; only the background thread moves the 200 KB of
        // events from the log into the database file.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::fs::metadata(&path).unwrap().len() < 200_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint happened"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn events_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open(&dir, Arc::new(NoSink));
            store.append(notification("{\"a\":1}")).await.unwrap();
        }
        let store = open(&dir, Arc::new(NoSink));
        let events = store.events_after(EventId::START, 10).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            store.append(notification("{\"b\":1}")).await.unwrap().id,
            EventId(2)
        );
    }

    #[tokio::test]
    async fn client_keys_are_added_listed_and_revoked_by_label() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir, Arc::new(NoSink));
        store
            .add_client_key("seat-1".into(), [7; 32])
            .await
            .unwrap();
        assert!(matches!(
            store.add_client_key("seat-1".into(), [8; 32]).await,
            Err(RelayError::KeyLabelTaken(_))
        ));
        store.revoke_client_key("seat-1".into()).await.unwrap();
        assert!(matches!(
            store.revoke_client_key("seat-1".into()).await,
            Err(RelayError::KeyNotFound(_))
        ));
        // After revoking, the label can be reused for the replacement key.
        store
            .add_client_key("seat-1".into(), [9; 32])
            .await
            .unwrap();
        let keys = store.client_keys().await.unwrap();
        assert_eq!(keys.len(), 2);
        assert!(keys[0].revoked_at.is_some());
        assert_eq!(keys[1].key_hash, [9; 32]);
        assert!(keys[1].revoked_at.is_none());
    }
}
