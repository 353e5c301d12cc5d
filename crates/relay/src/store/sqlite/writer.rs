//! The writer thread and its group commit: it takes the first waiting request and every one
//! that arrived meanwhile (up to a batch limit), applies them in one transaction, commits once,
//! and only then announces the new events to the [`CommitSink`] and answers each sender.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::audit::insert_audit;
use super::events::{append, prune};
use super::keys::{add_key, revoke_key};
use super::schema::timestamp;
use crate::error::RelayError;
use crate::store::audit::NewAuditEntry;
use crate::store::{Appended, CommitSink, Epoch, IncomingNotification, StoredEvent};

pub(super) type Reply<T> = oneshot::Sender<Result<T, RelayError>>;

/// What the writer is asked to do; each carries the sender of its answer.
pub(super) enum WriteRequest {
    Append(IncomingNotification, Reply<Appended>),
    Prune(DateTime<Utc>, Reply<u64>),
    AddKey(String, [u8; 32], Reply<()>),
    RevokeKey(String, Reply<()>),
    /// An audit-log entry, committed with whatever else the batch holds (see `audit`).
    Audit(NewAuditEntry, Reply<i64>),
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
    Id(Reply<i64>, Result<i64, RelayError>),
}

/// The writer thread: it owns the write connection and applies every write request.
pub(super) struct Writer {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
    pub(super) sink: Arc<dyn CommitSink>,
    pub(super) epoch: Epoch,
    pub(super) duplicate_window: TimeDelta,
    pub(super) max_batch: usize,
    pub(super) last_stamp: Option<DateTime<Utc>>,
    /// Held for each batch; the checkpointer takes it to finish a checkpoint between two
    /// batches when the log has grown past its limit.
    pub(super) turn: Arc<Mutex<()>>,
}

impl Writer {
    pub(super) fn run(mut self, mut requests: mpsc::Receiver<WriteRequest>) {
        while let Some(first) = requests.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            let turn = Arc::clone(&self.turn);
            let _turn = turn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
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
                    match append(&tx, notification, self.epoch, now, &now_text, &window_start) {
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
                WriteRequest::Audit(entry, reply) => {
                    Applied::Id(reply, insert_audit(&tx, &entry).map_err(store_error))
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
        WriteRequest::Audit(_, reply) => {
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
            Applied::Id(reply, result) => {
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
            Applied::Id(reply, _) => {
                let _ = reply.send(Err(error()));
            }
        }
    }
}
