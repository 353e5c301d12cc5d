//! The connections behind [`CallLog`](crate::CallLog): one writer thread, a few readers.
//!
//! A rusqlite connection is `Send` but not `Sync`, and every SQLite call blocks. So the one
//! connection that writes lives on a dedicated thread that takes commands from a channel; when
//! several `apply` commands are queued it runs them in one transaction, which is where batching
//! comes from without any caller having to wait for a timer. Queries run on tokio's blocking pool
//! over a small set of read-only connections; WAL lets them read while the writer writes.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono_tz::Tz;
use rusqlite::Connection;
use tokio::sync::{Semaphore, oneshot};

use crate::apply::{ApplyReport, LoggedEvent, apply_batch};
use crate::error::{CallLogError, Result};
use crate::schema;

/// How the call log runs.
#[derive(Debug, Clone)]
pub struct CallLogConfig {
    /// The zone the PBX's zone-less `startTime` is read in.
    pub pbx_zone: Tz,
    /// The zone whose midnight starts "today" for the stats card.
    pub day_zone: Tz,
    /// How many read-only connections queries may use at once.
    pub readers: usize,
    /// How long a connection waits for a lock before failing.
    pub busy_timeout: Duration,
    /// The most events merged into one write transaction when applies queue up.
    pub max_batch_events: usize,
}

impl Default for CallLogConfig {
    fn default() -> Self {
        CallLogConfig {
            pbx_zone: mtt_api::notification::DEFAULT_PBX_ZONE,
            day_zone: mtt_api::notification::DEFAULT_PBX_ZONE,
            readers: 3,
            busy_timeout: Duration::from_secs(5),
            max_batch_events: 20_000,
        }
    }
}

/// A unit of work for the writer thread.
type WriteJob = Box<dyn FnOnce(&mut Connection, &Path) + Send>;

enum Command {
    Apply {
        events: Vec<LoggedEvent>,
        reply: oneshot::Sender<ApplyOutcome>,
    },
    Run(WriteJob),
    Close(oneshot::Sender<()>),
}

/// The shared state behind every clone of a `CallLog`.
pub(crate) struct Store {
    pub(crate) path: PathBuf,
    pub(crate) config: CallLogConfig,
    writer: mpsc::Sender<Command>,
    /// Stops the checkpoint thread (dropping it does too) and lets `close` wait for it.
    checkpointer: Mutex<Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
    readers: Mutex<Vec<Connection>>,
    reader_slots: Arc<Semaphore>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the file (creating and migrating it when needed) and starts the writer thread.
    pub(crate) fn open(path: &Path, config: CallLogConfig) -> Result<Arc<Self>> {
        let conn = schema::open_writer(path, config.busy_timeout)?;
        // One reader is opened now so that a file readers cannot use fails at open, not later.
        let first_reader = schema::open_reader(path, config.busy_timeout)?;
        let (sender, receiver) = mpsc::channel();
        let thread_path = path.to_owned();
        let zone = config.pbx_zone;
        let max_batch = config.max_batch_events.max(1);
        std::thread::Builder::new()
            .name("call-log-writer".into())
            .spawn(move || run_writer(conn, &thread_path, zone, max_batch, &receiver))
            .map_err(|source| CallLogError::File {
                path: path.to_owned(),
                source,
            })?;
        let checkpoint_conn = schema::open_checkpointer(path, config.busy_timeout)?;
        let (stop, stopped) = mpsc::channel::<()>();
        let checkpoint_path = path.to_owned();
        let checkpoint_thread = std::thread::Builder::new()
            .name("call-log-checkpoint".into())
            .spawn(move || run_checkpoints(&checkpoint_conn, &checkpoint_path, &stopped))
            .map_err(|source| CallLogError::File {
                path: path.to_owned(),
                source,
            })?;
        let readers = config.readers.max(1);
        Ok(Arc::new(Store {
            path: path.to_owned(),
            config,
            writer: sender,
            checkpointer: Mutex::new(Some((stop, checkpoint_thread))),
            readers: Mutex::new(vec![first_reader]),
            reader_slots: Arc::new(Semaphore::new(readers)),
        }))
    }

    /// Queues events for the writer.
    pub(crate) async fn apply(&self, events: Vec<LoggedEvent>) -> Result<ApplyReport> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Command::Apply { events, reply })
            .map_err(|_| CallLogError::Closed)?;
        let (result, events) = answer.await.map_err(|_| CallLogError::Closed)?;
        // The events come back to be freed here: dropping thousands of JSON trees is work the
        // writer thread should not spend its time on.
        drop(events);
        result
    }

    /// Runs `job` on the writer's connection, in its own transaction.
    pub(crate) async fn write<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let run: WriteJob = Box::new(move |conn, path| {
            let result = (|| {
                let tx = conn
                    .transaction()
                    .map_err(|e| CallLogError::from_sqlite(path, e))?;
                let value = job(&tx).map_err(|e| e.on_file(path))?;
                tx.commit()
                    .map_err(|e| CallLogError::from_sqlite(path, e))?;
                Ok(value)
            })();
            let _ = reply.send(result);
        });
        self.writer
            .send(Command::Run(run))
            .map_err(|_| CallLogError::Closed)?;
        answer.await.map_err(|_| CallLogError::Closed)?
    }

    /// Runs `job` on the writer's connection outside any transaction (backup, integrity check).
    pub(crate) async fn with_writer<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Path) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let run: WriteJob = Box::new(move |conn, path| {
            let _ = reply.send(job(conn, path).map_err(|e| e.on_file(path)));
        });
        self.writer
            .send(Command::Run(run))
            .map_err(|_| CallLogError::Closed)?;
        answer.await.map_err(|_| CallLogError::Closed)?
    }

    /// Runs a query on a read-only connection on tokio's blocking pool.
    pub(crate) async fn read<T, F>(self: &Arc<Self>, query: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let permit = Arc::clone(&self.reader_slots)
            .acquire_owned()
            .await
            .map_err(|_| CallLogError::Closed)?;
        let store = Arc::clone(self);
        let joined = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = match store.take_reader() {
                Some(conn) => conn,
                None => schema::open_reader(&store.path, store.config.busy_timeout)?,
            };
            let result = query(&conn).map_err(|e| e.on_file(&store.path));
            store.return_reader(conn);
            result
        })
        .await;
        match joined {
            Ok(result) => result,
            Err(_) => Err(CallLogError::Closed),
        }
    }

    fn take_reader(&self) -> Option<Connection> {
        self.readers.lock().ok().and_then(|mut pool| pool.pop())
    }

    fn return_reader(&self, conn: Connection) {
        if let Ok(mut pool) = self.readers.lock() {
            pool.push(conn);
        }
    }

    /// Stops the writer after the commands already queued and closes the readers.
    pub(crate) async fn close(&self) -> Result<()> {
        // The checkpoint thread and the readers go first so that the writer's connection is the
        // last one and SQLite checkpoints the WAL into the main file as it closes.
        let checkpointer = self.checkpointer.lock().ok().and_then(|mut c| c.take());
        if let Some((stop, thread)) = checkpointer {
            drop(stop);
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        self.reader_slots.close();
        if let Ok(mut pool) = self.readers.lock() {
            pool.clear();
        }
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Command::Close(reply))
            .map_err(|_| CallLogError::Closed)?;
        let _ = answer.await;
        Ok(())
    }
}

/// How often the checkpoint thread copies the WAL into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Passive checkpoints until told to stop (or the store is dropped). A passive checkpoint copies
/// what no reader still needs and never waits for the writer, so it costs the writer nothing.
fn run_checkpoints(conn: &Connection, path: &Path, stop: &mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::debug!(path = %path.display(), error = %e, "a passive checkpoint did not run");
        }
    }
}

fn run_writer(
    mut conn: Connection,
    path: &Path,
    zone: Tz,
    max_batch: usize,
    commands: &mpsc::Receiver<Command>,
) {
    let mut queued: Vec<Command> = Vec::new();
    while let Ok(first) = commands.recv() {
        queued.push(first);
        while let Ok(next) = commands.try_recv() {
            queued.push(next);
        }
        let mut drained = std::mem::take(&mut queued).into_iter().peekable();
        while let Some(command) = drained.next() {
            match command {
                Command::Apply { events, reply } => {
                    let mut group = vec![(events, reply)];
                    let mut total = group[0].0.len();
                    while total < max_batch {
                        let Some(Command::Apply { .. }) = drained.peek() else {
                            break;
                        };
                        if let Some(Command::Apply { events, reply }) = drained.next() {
                            total += events.len();
                            group.push((events, reply));
                        }
                    }
                    apply_group(&mut conn, path, zone, group);
                }
                Command::Run(job) => job(&mut conn, path),
                Command::Close(reply) => {
                    tracing::debug!(path = %path.display(), "call log closing");
                    // Answer whatever was queued behind the close so that no caller waits forever.
                    drop(drained);
                    drop(conn);
                    let _ = reply.send(());
                    return;
                }
            }
        }
    }
}

/// The answer to an apply: its result, and the events handed back to be dropped by the caller.
type ApplyOutcome = (Result<ApplyReport>, Vec<LoggedEvent>);

type ApplyRequest = (Vec<LoggedEvent>, oneshot::Sender<ApplyOutcome>);

/// Applies several queued batches in one transaction; if that fails, each batch is retried alone
/// so that one failing batch does not fail its neighbours.
fn apply_group(conn: &mut Connection, path: &Path, zone: Tz, group: Vec<ApplyRequest>) {
    if group.len() > 1 {
        let together = (|| -> rusqlite::Result<Vec<ApplyReport>> {
            let tx = conn.transaction()?;
            let mut reports = Vec::with_capacity(group.len());
            for (events, _) in &group {
                reports.push(apply_batch(&tx, zone, events)?);
            }
            tx.commit()?;
            Ok(reports)
        })();
        match together {
            Ok(reports) => {
                for ((events, reply), report) in group.into_iter().zip(reports) {
                    let _ = reply.send((Ok(report), events));
                }
                return;
            }
            Err(error) => tracing::warn!(
                %error,
                batches = group.len(),
                "a merged apply transaction failed; retrying each batch alone"
            ),
        }
    }
    for (events, reply) in group {
        let result = (|| -> rusqlite::Result<ApplyReport> {
            let tx = conn.transaction()?;
            let report = apply_batch(&tx, zone, &events)?;
            tx.commit()?;
            Ok(report)
        })();
        let _ = reply.send((
            result.map_err(|e| CallLogError::from_sqlite(path, e)),
            events,
        ));
    }
}
