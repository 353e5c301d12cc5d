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

mod audit;
mod backup;
mod claims;
mod console;
mod events;
mod keys;
mod meta;
mod phonebook;
mod routing;
mod schema;
mod sealed;
mod seats;
mod team;
#[cfg(test)]
mod tests;
mod wrapup;
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
pub use sealed::{INTEGRATION_CLIENT, reseal_all};

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
    /// The write-ahead log's size in bytes past which it is truncated once copied (a burst may
    /// grow it beyond this for a moment; it comes back under it when the burst ends).
    pub wal_limit: u64,
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
            wal_limit: 64 * 1024 * 1024,
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
    /// The client keys' own reader, so that checking a key never waits behind a backlog read.
    keys_reader: Arc<Mutex<Connection>>,
    /// The team's connection, for its reads and its few small writes (seats, invites, joins,
    /// sealed secrets): they are rare, so they take SQLite's write lock beside the writer
    /// thread instead of queueing behind a burst of events.
    team: Arc<Mutex<Connection>>,
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
        let keys_conn = open_connection(path).map_err(store_error)?;
        keys_conn
            .pragma_update(None, "query_only", true)
            .map_err(store_error)?;
        let team_conn = open_connection(path).map_err(store_error)?;
        // Checkpoints run on their own thread, so that the writer's commits (and so the 2xx
        // answers) never wait for the log to be copied into the database file.
        let checkpoint_conn = open_connection(path).map_err(store_error)?;
        // A truncating checkpoint (made only while the writer is idle) holds new writes back
        // while it waits for readers: it waits only briefly, and tries again next round.
        checkpoint_conn
            .busy_timeout(TRUNCATE_PATIENCE)
            .map_err(store_error)?;
        let (checkpoints, stop) = std::sync::mpsc::channel::<()>();
        let writer_turn = Arc::new(Mutex::new(()));
        let checkpointer = Checkpointer {
            conn: checkpoint_conn,
            wal: wal_path(path),
            interval: options.checkpoint_interval,
            wal_limit: options.wal_limit,
            writer_turn: Arc::clone(&writer_turn),
            data_version: None,
        };
        std::thread::Builder::new()
            .name("relay-store-checkpoint".into())
            .spawn(move || checkpointer.run(&stop))
            .map_err(|source| RelayError::Thread {
                what: "event store checkpoint",
                source,
            })?;
        writer_conn
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(store_error)?;
        // When the writer starts the log over after a complete checkpoint, it also cuts the
        // file back to this size; SQLite otherwise keeps a log file at its largest for good.
        writer_conn
            .pragma_update(
                None,
                "journal_size_limit",
                i64::try_from(options.wal_limit).unwrap_or(i64::MAX),
            )
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
            turn: writer_turn,
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
            keys_reader: Arc::new(Mutex::new(keys_conn)),
            team: Arc::new(Mutex::new(team_conn)),
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
        read_on(&self.reader, query).await
    }
}

async fn read_on<T: Send + 'static>(
    reader: &Arc<Mutex<Connection>>,
    query: impl FnOnce(&Connection) -> Result<T, RelayError> + Send + 'static,
) -> Result<T, RelayError> {
    let reader = Arc::clone(reader);
    tokio::task::spawn_blocking(move || query(&lock(&reader)))
        .await
        .map_err(|_| RelayError::StoreClosed)?
}

/// A poisoned lock only means another read panicked; the connection itself is still sound.
fn lock(reader: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    reader
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How long a truncating checkpoint, made only while the writer is idle, waits for readers of
/// an older snapshot before it gives up until the next round.
const TRUNCATE_PATIENCE: Duration = Duration::from_millis(20);

/// The write-ahead log beside a database file.
fn wal_path(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// The thread that copies the write-ahead log into the database and keeps the log's file small.
///
/// A PASSIVE checkpoint never blocks the writer or readers; frames still in use by a reader
/// are simply left for the next round. But under a steady stream of commits it never catches
/// up with the writer, so SQLite never starts the log over, and it never shrinks a log file by
/// itself: a burst once left a 1.5 GB log beside a 90 MB database, for good. So when the file
/// is over the limit:
/// - while the writer works, it waits for the writer's current batch and holds the next one
///   back (`writer_turn`) just long enough to copy the frames committed since the passive
///   round; the writer's next commit then starts the log over, and `journal_size_limit` cuts
///   the file back to the limit;
/// - while the writer is idle (nothing committed since the last round), a TRUNCATE checkpoint
///   empties the file.
struct Checkpointer {
    conn: Connection,
    wal: PathBuf,
    interval: Duration,
    wal_limit: u64,
    /// Held by the writer for each batch.
    writer_turn: Arc<Mutex<()>>,
    /// `PRAGMA data_version` at the last round: it moves when another connection commits.
    data_version: Option<i64>,
}

impl Checkpointer {
    /// A round every `interval` until the store is dropped.
    fn run(mut self, stop: &std::sync::mpsc::Receiver<()>) {
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(self.interval)
        {
            if let Err(err) = self.round() {
                tracing::warn!(error = %err, "a checkpoint of the event store failed; retrying");
            }
        }
    }

    fn round(&mut self) -> rusqlite::Result<()> {
        let data_version: i64 = self
            .conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))?;
        let idle = self.data_version == Some(data_version);
        self.data_version = Some(data_version);
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        let wal_bytes = std::fs::metadata(&self.wal).map_or(0, |meta| meta.len());
        if wal_bytes <= self.wal_limit {
            return Ok(());
        }
        if idle {
            let busy: i64 = self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
            if busy != 0 {
                tracing::debug!(
                    wal_bytes,
                    "the write-ahead log is over its limit but still read; truncating next round"
                );
            }
        } else {
            let _writer_waits = self
                .writer_turn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        }
        Ok(())
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
        read_on(&self.keys_reader, move |conn| {
            keys::client_keys(conn, &path)
        })
        .boxed()
    }

    fn keys_generation(&self) -> BoxFuture<'_, Result<i64, RelayError>> {
        let path = self.path.clone();
        read_on(&self.keys_reader, move |conn| keys::generation(conn, &path)).boxed()
    }

    fn revoke_client_key(&self, label: String) -> BoxFuture<'_, Result<(), RelayError>> {
        self.write(move |reply| WriteRequest::RevokeKey(label, reply))
            .boxed()
    }
}
