//! This instance's writer task and its group commit. It takes the first waiting request and
//! every one that arrived meanwhile (up to a batch limit), applies them in one transaction and
//! commits once, then answers each sender.
//!
//! Ids across instances: every batch starts by locking the one row of `event_log_head`
//! (`SELECT … FOR UPDATE`), which holds the last id handed out. A second instance's batch waits
//! on that row until the first commits, and Postgres releases a row lock only after the commit
//! is visible; so batches commit one after another in the order they took the row, each one's
//! ids follow the previous one's, and a reader that sees an id sees every id below it. Ids are
//! never reused (the head only grows, pruning included). The commit's `pg_notify` wakes every
//! instance's announcer ([`super::listener`]), which hands the new events to its fan-out.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{Client, NoTls, Transaction};

use crate::error::RelayError;
use crate::store::{Appended, EventId, IncomingNotification};

pub(super) type Reply<T> = oneshot::Sender<Result<T, RelayError>>;

/// The channel the commits notify (its payload: the batch's last id).
pub(super) const CHANNEL: &str = "trubka_events";

/// What the writer is asked to do; each carries the sender of its answer.
pub(super) enum WriteRequest {
    Append(IncomingNotification, Reply<Appended>),
    Prune(DateTime<Utc>, Reply<u64>),
    AddKey(String, [u8; 32], Reply<()>),
    RevokeKey(String, Reply<()>),
}

/// A request applied inside the open transaction, waiting for the commit to be answered.
enum Applied {
    Append(Reply<Appended>, Appended),
    Prune(Reply<u64>, Result<u64, RelayError>),
    Unit(Reply<()>, Result<(), RelayError>),
}

/// The writer task: it owns this instance's write connection.
pub(super) struct Writer {
    pub(super) config: tokio_postgres::Config,
    pub(super) client: Option<Client>,
    pub(super) duplicate_window: TimeDelta,
    pub(super) max_batch: usize,
}

fn failed(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> RelayError {
    move |source| RelayError::Postgres { context, source }
}

/// A connection of this store's own (not the pool's: a transaction needs it for itself), its
/// driver task running until the client is dropped.
pub(super) async fn connect(config: &tokio_postgres::Config) -> Result<Client, RelayError> {
    let (client, connection) = config.connect(NoTls).await.map_err(failed("connecting"))?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::warn!(error = %err, "a postgres connection ended");
        }
    });
    Ok(client)
}

impl Writer {
    pub(super) async fn run(mut self, mut requests: mpsc::Receiver<WriteRequest>) {
        while let Some(first) = requests.recv().await {
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            self.commit_batch(batch).await;
        }
    }

    async fn commit_batch(&mut self, batch: Vec<WriteRequest>) {
        let client = match self.client.take() {
            Some(client) if !client.is_closed() => client,
            _ => match connect(&self.config).await {
                Ok(client) => client,
                Err(err) => {
                    let message = err.to_string();
                    return refuse_all(batch, &message);
                }
            },
        };
        let mut client = client;
        let outcome = self.apply(&mut client, batch).await;
        self.client = Some(client);
        match outcome {
            Ok(applied) => {
                for applied in applied {
                    match applied {
                        Applied::Append(reply, appended) => drop(reply.send(Ok(appended))),
                        Applied::Prune(reply, result) => drop(reply.send(result)),
                        Applied::Unit(reply, result) => drop(reply.send(result)),
                    }
                }
            }
            Err((replies, err)) => {
                tracing::error!(error = %err, "a postgres group commit failed");
                let message = err.to_string();
                for reply in replies {
                    reply.refuse(&message);
                }
            }
        }
    }

    /// Applies the batch in one transaction and commits it; on failure, every request's reply
    /// with the error (nothing of the batch was stored).
    async fn apply(
        &self,
        client: &mut Client,
        batch: Vec<WriteRequest>,
    ) -> Result<Vec<Applied>, (Vec<Pending>, RelayError)> {
        let tx = match client.transaction().await {
            Ok(tx) => tx,
            Err(err) => {
                return Err((
                    batch.into_iter().map(Pending::from).collect(),
                    failed("starting a batch")(err),
                ));
            }
        };
        match self.apply_in(&tx, batch).await {
            Ok((applied, last_id)) => {
                let committed = async {
                    if let Some(last_id) = last_id {
                        tx.execute(
                            "SELECT pg_notify($1, $2)",
                            &[&CHANNEL, &last_id.0.to_string()],
                        )
                        .await
                        .map_err(failed("announcing a batch"))?;
                    }
                    tx.commit().await.map_err(failed("committing a batch"))
                };
                match committed.await {
                    Ok(()) => Ok(applied),
                    Err(err) => Err((applied.into_iter().map(Pending::from).collect(), err)),
                }
            }
            Err((pending, err)) => Err((pending, err)),
        }
    }

    /// The batch's statements; answers the applied requests and the last id it stored.
    async fn apply_in(
        &self,
        tx: &Transaction<'_>,
        batch: Vec<WriteRequest>,
    ) -> Result<(Vec<Applied>, Option<EventId>), (Vec<Pending>, RelayError)> {
        let head = tx
            .query_one(
                "SELECT last_id, last_received_at FROM event_log_head FOR UPDATE",
                &[],
            )
            .await;
        let head = match head {
            Ok(head) => head,
            Err(err) => {
                return Err((
                    batch.into_iter().map(Pending::from).collect(),
                    failed("locking the event log's head")(err),
                ));
            }
        };
        let mut last_id: i64 = head.get(0);
        let last_stamp: Option<DateTime<Utc>> = head.get(1);
        let stamp = batch_stamp(Utc::now(), last_stamp);
        let window_start = stamp - self.duplicate_window;

        // The call legs' notifications already stored within the window, by body hash.
        let hashes: Vec<Vec<u8>> = batch
            .iter()
            .filter_map(|request| match request {
                WriteRequest::Append(notification, _) if notification.mergeable() => {
                    Some(notification.body_hash().to_vec())
                }
                _ => None,
            })
            .collect();
        let mut earlier: HashMap<Vec<u8>, i64> = HashMap::new();
        if !hashes.is_empty() {
            let rows = tx
                .query(
                    "SELECT body_hash, min(id) FROM events
                     WHERE body_hash = ANY($1) AND received_at >= $2 GROUP BY body_hash",
                    &[&hashes, &window_start],
                )
                .await;
            match rows {
                Ok(rows) => {
                    for row in rows {
                        earlier.insert(row.get(0), row.get(1));
                    }
                }
                Err(err) => {
                    return Err((
                        batch.into_iter().map(Pending::from).collect(),
                        failed("looking for duplicates")(err),
                    ));
                }
            }
        }

        let first_id = last_id;
        let mut ids = Vec::new();
        let mut kinds = Vec::new();
        let mut bodies = Vec::new();
        let mut body_hashes = Vec::new();
        let mut applied = Vec::with_capacity(batch.len());
        let mut others = Vec::new();
        for request in batch {
            match request {
                WriteRequest::Append(notification, reply) => {
                    let hash = notification.body_hash().to_vec();
                    if notification.mergeable()
                        && let Some(&id) = earlier.get(&hash)
                    {
                        applied.push(Applied::Append(
                            reply,
                            Appended {
                                id: EventId(id),
                                duplicate: true,
                            },
                        ));
                        continue;
                    }
                    last_id += 1;
                    if notification.mergeable() {
                        earlier.insert(hash.clone(), last_id);
                    }
                    ids.push(last_id);
                    kinds.push(notification.kind().to_owned());
                    bodies.push(notification.body().to_owned());
                    body_hashes.push(hash);
                    applied.push(Applied::Append(
                        reply,
                        Appended {
                            id: EventId(last_id),
                            duplicate: false,
                        },
                    ));
                }
                other => others.push(other),
            }
        }
        let statements = async {
            if !ids.is_empty() {
                tx.execute(
                    "INSERT INTO events (id, received_at, kind, body, body_hash)
                     SELECT t.id, $2, t.kind, t.body, t.body_hash
                     FROM unnest($1::int8[], $3::text[], $4::text[], $5::bytea[])
                          AS t (id, kind, body, body_hash)",
                    &[&ids, &stamp, &kinds, &bodies, &body_hashes],
                )
                .await
                .map_err(failed("storing events"))?;
                tx.execute(
                    "UPDATE event_log_head SET last_id = $1, last_received_at = $2",
                    &[&last_id, &stamp],
                )
                .await
                .map_err(failed("moving the event log's head"))?;
            }
            Ok::<_, RelayError>(())
        };
        if let Err(err) = statements.await {
            let mut pending: Vec<Pending> = applied.into_iter().map(Pending::from).collect();
            pending.extend(others.into_iter().map(Pending::from));
            return Err((pending, err));
        }
        let mut rest = others.into_iter();
        while let Some(other) = rest.next() {
            let done = match other {
                WriteRequest::Prune(cutoff, reply) => {
                    Applied::Prune(reply, prune(tx, cutoff).await)
                }
                WriteRequest::AddKey(label, hash, reply) => {
                    Applied::Unit(reply, add_key(tx, &label, &hash, stamp).await)
                }
                WriteRequest::RevokeKey(label, reply) => {
                    Applied::Unit(reply, revoke_key(tx, &label, stamp).await)
                }
                WriteRequest::Append(..) => continue,
            };
            // A statement that failed at the server aborts the transaction, and Postgres
            // answers the COMMIT of an aborted transaction with a rollback, not an error:
            // the batch must be refused here, or its appends would be answered as stored.
            let aborted = match &done {
                Applied::Prune(_, Err(err)) | Applied::Unit(_, Err(err)) => {
                    matches!(err, RelayError::Postgres { .. }).then(|| err.to_string())
                }
                _ => None,
            };
            applied.push(done);
            if let Some(message) = aborted {
                let mut pending: Vec<Pending> = applied.into_iter().map(Pending::from).collect();
                pending.extend(rest.map(Pending::from));
                return Err((pending, RelayError::PostgresCommit(message)));
            }
        }
        let stored = (last_id > first_id).then_some(EventId(last_id));
        Ok((applied, stored))
    }
}

/// The receipt time of a batch: now at millisecond precision, never earlier than the last
/// batch's (of any instance: clocks differ between hosts), so that receipt times follow ids
/// and pruning by time removes a prefix of the ids.
fn batch_stamp(now: DateTime<Utc>, last: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
    match last {
        Some(last) if last > now => last,
        _ => now,
    }
}

async fn prune(tx: &Transaction<'_>, cutoff: DateTime<Utc>) -> Result<u64, RelayError> {
    // Receipt times never go backwards along ids, so "received before the cutoff" is a prefix
    // of the ids and the horizon is simply its last id.
    let row = tx
        .query_one(
            "SELECT max(id) FROM events WHERE received_at < $1",
            &[&cutoff],
        )
        .await
        .map_err(failed("finding what retention removes"))?;
    let Some(last_pruned) = row.get::<_, Option<i64>>(0) else {
        return Ok(0);
    };
    let removed = tx
        .execute("DELETE FROM events WHERE id <= $1", &[&last_pruned])
        .await
        .map_err(failed("removing old events"))?;
    tx.execute(
        "UPDATE event_log_head SET pruned_through = greatest(pruned_through, $1)",
        &[&last_pruned],
    )
    .await
    .map_err(failed("recording what retention removed"))?;
    Ok(removed)
}

async fn bump_keys_generation(tx: &Transaction<'_>) -> Result<(), RelayError> {
    tx.execute(
        "INSERT INTO relay_meta (name, value) VALUES ('keys_generation', 1)
         ON CONFLICT (name) DO UPDATE SET value = relay_meta.value + 1",
        &[],
    )
    .await
    .map_err(failed("moving the keys generation"))?;
    Ok(())
}

async fn add_key(
    tx: &Transaction<'_>,
    label: &str,
    hash: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<(), RelayError> {
    let taken = tx
        .query_opt(
            "SELECT id FROM client_keys WHERE label = $1 AND revoked_at IS NULL",
            &[&label],
        )
        .await
        .map_err(failed("looking up a client key"))?;
    if taken.is_some() {
        return Err(RelayError::KeyLabelTaken(label.to_owned()));
    }
    tx.execute(
        "INSERT INTO client_keys (label, key_hash, created_at) VALUES ($1, $2, $3)",
        &[&label, &&hash[..], &now],
    )
    .await
    .map_err(failed("storing a client key"))?;
    bump_keys_generation(tx).await
}

async fn revoke_key(
    tx: &Transaction<'_>,
    label: &str,
    now: DateTime<Utc>,
) -> Result<(), RelayError> {
    let changed = tx
        .execute(
            "UPDATE client_keys SET revoked_at = $2 WHERE label = $1 AND revoked_at IS NULL",
            &[&label, &now],
        )
        .await
        .map_err(failed("revoking a client key"))?;
    if changed == 0 {
        return Err(RelayError::KeyNotFound(label.to_owned()));
    }
    bump_keys_generation(tx).await
}

/// A reply still owed when a batch fails.
enum Pending {
    Appended(Reply<Appended>),
    Count(Reply<u64>),
    Unit(Reply<()>),
}

impl Pending {
    fn refuse(self, message: &str) {
        let err = || RelayError::PostgresCommit(message.to_owned());
        match self {
            Pending::Appended(reply) => drop(reply.send(Err(err()))),
            Pending::Count(reply) => drop(reply.send(Err(err()))),
            Pending::Unit(reply) => drop(reply.send(Err(err()))),
        }
    }
}

impl From<WriteRequest> for Pending {
    fn from(request: WriteRequest) -> Self {
        match request {
            WriteRequest::Append(_, reply) => Pending::Appended(reply),
            WriteRequest::Prune(_, reply) => Pending::Count(reply),
            WriteRequest::AddKey(_, _, reply) | WriteRequest::RevokeKey(_, reply) => {
                Pending::Unit(reply)
            }
        }
    }
}

impl From<Applied> for Pending {
    fn from(applied: Applied) -> Self {
        match applied {
            Applied::Append(reply, _) => Pending::Appended(reply),
            Applied::Prune(reply, _) => Pending::Count(reply),
            Applied::Unit(reply, _) => Pending::Unit(reply),
        }
    }
}

fn refuse_all(batch: Vec<WriteRequest>, message: &str) {
    for request in batch {
        Pending::from(request).refuse(message);
    }
}
