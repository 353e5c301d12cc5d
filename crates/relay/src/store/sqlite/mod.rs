//! The embedded default [`EventStore`]: SQLite in WAL mode with `synchronous=FULL`.
//!
//! Architecture invariant: the files of this folder hold every SQL string of the relay crate
//! (the project's one documented exception to "only `call-log` speaks SQL"); a Postgres store
//! would get a folder of its own beside it. `schema` is the file's layout and its migration,
//! `events` and `keys` the statements on each table, `meta` the store's epoch, `writer` the
//! thread that applies writes, `backup` backups and restoring one (which renews the epoch).
//!
//! Writes go through one writer thread that owns the write connection. It takes the first
//! waiting request, then every request that arrived meanwhile (up to a batch limit), applies
//! them all in one transaction and commits once: this is group commit, and it is why a durable
//! 2xx per notification does not cost one fsync per notification. Only after the commit does it
//! announce the new events to the [`CommitSink`] (in id order) and answer each sender. Reads use
//! a second connection, which WAL lets run beside the writer.

mod backup;
mod events;
mod keys;
mod meta;
mod schema;
#[cfg(test)]
mod tests;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

pub use backup::{KeysFrom, Restored, backup, restore};

use super::{
    Appended, ClientKeyRecord, CommitSink, Epoch, EventId, EventPage, EventStore, Horizon,
    IncomingNotification,
};
use crate::error::RelayError;
use schema::{migrate, open_connection};
use writer::{Reply, WriteRequest, Writer};

/// Tuning of the SQLite store.
#[derive(Debug, Clone, Copy)]
pub struct SqliteOptions {
    /// A call leg's notification seen again within this window is recognised as a duplicate and
    /// stored once (other notifications are always stored).
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
    epoch: Epoch,
    writer: mpsc::Sender<WriteRequest>,
    reader: Arc<Mutex<Connection>>,
    /// Dropping it stops the checkpoint thread.
    _checkpoints: std::sync::mpsc::Sender<()>,
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
        let epoch = meta::epoch(&writer_conn).map_err(store_error)?;
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
            epoch,
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
            epoch,
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
    ) -> BoxFuture<'_, Result<EventPage, RelayError>> {
        let path = self.path.clone();
        let epoch = self.epoch;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| events::read_after(conn, &path, epoch, after, limit))
            .boxed()
    }

    fn horizon(&self) -> BoxFuture<'_, Result<Horizon, RelayError>> {
        let path = self.path.clone();
        self.read(move |conn| events::horizon(conn, &path)).boxed()
    }

    fn epoch(&self) -> Epoch {
        self.epoch
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
        self.read(move |conn| events::size_bytes(conn, &path))
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
        self.read(move |conn| keys::client_keys(conn, &path))
            .boxed()
    }

    fn revoke_client_key(&self, label: String) -> BoxFuture<'_, Result<(), RelayError>> {
        self.write(move |reply| WriteRequest::RevokeKey(label, reply))
            .boxed()
    }
}
