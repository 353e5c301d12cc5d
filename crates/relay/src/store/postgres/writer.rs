//! This instance's writer task and its group commit. It takes the first waiting request and
//! every one that arrived meanwhile (up to a batch limit), stages the batch's notifications,
//! then, under the sequencer lock, has them (and every other instance's staged ones) moved
//! into the event log in one commit ([`super::sequencer`] says why ids stay in commit order
//! across instances and how instances share commits), and answers each sender. The commit's
//! `pg_notify` wakes every instance's announcer ([`super::listener`]), which hands the new
//! events to its fan-out.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{Client, NoTls, Transaction};

use super::{failed, sequencer};
use crate::error::RelayError;
use crate::store::{Appended, IncomingNotification};

pub(super) type Reply<T> = oneshot::Sender<Result<T, RelayError>>;

/// The channel the commits notify (its payload: the batch's last id).
pub(super) const CHANNEL: &str = "trubka_events";

/// What the writer is asked to do; each carries the sender of its answer.
pub(super) enum WriteRequest {
    /// Staged and stored by a move ([`super::sequencer`]).
    Append(IncomingNotification, Reply<Appended>),
    /// Applied in a transaction of its own under the sequencer lock.
    Other(OtherRequest),
}

/// The requests that change the store beside the event log's appends.
pub(super) enum OtherRequest {
    Prune(DateTime<Utc>, Reply<u64>),
    AddKey(String, [u8; 32], Reply<()>),
    RevokeKey(String, Reply<()>),
}

/// A request applied inside the open transaction, waiting for the commit to be answered.
enum Applied {
    Append(Reply<Appended>, Result<Appended, RelayError>),
    Prune(Reply<u64>, Result<u64, RelayError>),
    Unit(Reply<()>, Result<(), RelayError>),
}

/// The writer task: it owns this instance's write connection.
pub(super) struct Writer {
    config: tokio_postgres::Config,
    client: Option<Client>,
    duplicate_window: TimeDelta,
    max_batch: usize,
    /// This writer's name on the rows it stages: random for each start of the relay.
    origin: i64,
    /// The number of the next row it stages.
    next_staged: i64,
    /// Its batch statements, prepared on its current connection.
    statements: Option<sequencer::Statements>,
    /// When it last removed outcomes nobody took.
    last_cleanup: Instant,
    /// How many rows it staged since it last vacuumed the staging tables, and when that was.
    staged_since_vacuum: usize,
    last_vacuum: Instant,
}

/// A writer vacuums the staging tables once it staged this many rows since it last did, or
/// [`VACUUM_EVERY`] after it staged any: often enough that a move never reads more than a few
/// thousand dead rows, seldom enough that the vacuums (each a small commit of the catalog's)
/// do not crowd the moves' fsyncs.
const VACUUM_AFTER_ROWS: usize = 2_000;
const VACUUM_EVERY: Duration = Duration::from_secs(5);

/// After this long without a request, the writer looks for rows another writer staged and
/// never moved (it stopped in between) and moves them.
const SWEEP_AFTER: Duration = Duration::from_secs(1);
/// A staged row this old waits for a move that will not come from its own writer.
const STALE_STAGED: Duration = Duration::from_secs(2);
/// An outcome this old will not be taken: its writer stopped.
const STALE_OUTCOME: Duration = Duration::from_secs(600);
/// How often a busy writer removes outcomes nobody took.
const CLEANUP_EVERY: Duration = Duration::from_secs(60);

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
    /// A writer on `client` (opened again from `config` when it is lost).
    pub(super) fn new(
        config: tokio_postgres::Config,
        client: Client,
        duplicate_window: TimeDelta,
        max_batch: usize,
    ) -> Self {
        Self {
            config,
            client: Some(client),
            duplicate_window,
            max_batch: max_batch.max(1),
            origin: rand::random(),
            next_staged: 0,
            statements: None,
            last_cleanup: Instant::now(),
            staged_since_vacuum: 0,
            last_vacuum: Instant::now(),
        }
    }

    pub(super) async fn run(mut self, mut requests: mpsc::Receiver<WriteRequest>) {
        loop {
            let first = match tokio::time::timeout(SWEEP_AFTER, requests.recv()).await {
                Ok(Some(first)) => first,
                Ok(None) => return,
                Err(_) => {
                    self.sweep().await;
                    continue;
                }
            };
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            self.commit_batch(batch).await;
            let due = self.staged_since_vacuum >= VACUUM_AFTER_ROWS
                || (self.staged_since_vacuum > 0 && self.last_vacuum.elapsed() >= VACUUM_EVERY);
            if due {
                self.vacuum().await;
            }
            if self.last_cleanup.elapsed() >= CLEANUP_EVERY {
                self.sweep().await;
            }
        }
    }

    /// The writer's connection, opened again if it was lost.
    async fn connection(&mut self) -> Result<Client, RelayError> {
        match self.client.take() {
            Some(client) if !client.is_closed() => Ok(client),
            _ => {
                self.statements = None;
                connect(&self.config).await
            }
        }
    }

    /// The batch statements prepared on this writer's current connection.
    async fn statements(&mut self, client: &Client) -> Result<sequencer::Statements, RelayError> {
        if let Some(statements) = &self.statements {
            return Ok(statements.clone());
        }
        let statements = sequencer::Statements::prepare(client).await?;
        self.statements = Some(statements.clone());
        Ok(statements)
    }

    /// Vacuums the staging tables ([`sequencer::vacuum`] says why).
    async fn vacuum(&mut self) {
        let Ok(client) = self.connection().await else {
            return;
        };
        match sequencer::vacuum(&client).await {
            Ok(()) => self.staged_since_vacuum = 0,
            Err(err) => {
                tracing::warn!(error = %err, "the postgres writer could not vacuum the staging tables")
            }
        }
        self.last_vacuum = Instant::now();
        self.client = Some(client);
    }

    /// Moves rows another writer staged and never moved, and forgets outcomes nobody took.
    async fn sweep(&mut self) {
        let Ok(client) = self.connection().await else {
            return;
        };
        let swept = async {
            if sequencer::stale_rows_wait(&client, STALE_STAGED).await? {
                let statements = self.statements(&client).await?;
                sequencer::sequence(
                    &client,
                    &statements,
                    CHANNEL,
                    self.origin,
                    &[],
                    self.duplicate_window,
                )
                .await?;
                tracing::warn!(
                    "stored notifications another instance staged and did not store (it stopped in between)"
                );
            }
            if self.last_cleanup.elapsed() < CLEANUP_EVERY {
                return Ok(false);
            }
            sequencer::drop_stale_outcomes(&client, STALE_OUTCOME).await?;
            Ok::<_, RelayError>(true)
        }
        .await;
        match swept {
            Ok(true) => self.last_cleanup = Instant::now(),
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "the postgres writer's sweep failed"),
        }
        self.client = Some(client);
    }

    async fn commit_batch(&mut self, batch: Vec<WriteRequest>) {
        let mut client = match self.connection().await {
            Ok(client) => client,
            Err(err) => return refuse_all(batch, &err.to_string()),
        };
        let outcome = self.apply(&mut client, batch).await;
        self.client = Some(client);
        match outcome {
            Ok(applied) => {
                for applied in applied {
                    match applied {
                        Applied::Append(reply, result) => drop(reply.send(result)),
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

    /// Stages the batch's notifications, then applies the batch in one transaction under the
    /// sequencer lock and commits it; on failure, every request's reply with the error.
    async fn apply(
        &mut self,
        client: &mut Client,
        batch: Vec<WriteRequest>,
    ) -> Result<Vec<Applied>, (Vec<Pending>, RelayError)> {
        let mut appends = Vec::new();
        let mut others = Vec::new();
        for request in batch {
            match request {
                WriteRequest::Append(notification, reply) => {
                    appends.push((self.next_staged, notification, reply));
                    self.next_staged += 1;
                }
                WriteRequest::Other(other) => others.push(other),
            }
        }
        let everything = |appends: Vec<(i64, IncomingNotification, Reply<Appended>)>,
                          others: Vec<OtherRequest>| {
            let mut pending: Vec<Pending> = appends
                .into_iter()
                .map(|(_, _, reply)| Pending::Appended(reply))
                .collect();
            pending.extend(others.into_iter().map(Pending::from));
            pending
        };
        let mut outcomes = HashMap::new();
        if !appends.is_empty() {
            let statements = match self.statements(client).await {
                Ok(statements) => statements,
                Err(err) => return Err((everything(appends, others), err)),
            };
            let rows: Vec<sequencer::ToStage<'_>> = appends
                .iter()
                .map(|(n, notification, _)| sequencer::ToStage {
                    n: *n,
                    kind: notification.kind(),
                    body: notification.body(),
                    body_hash: notification.body_hash(),
                    mergeable: notification.mergeable(),
                })
                .collect();
            self.staged_since_vacuum += rows.len();
            let sequenced = sequencer::stage_and_sequence(
                client,
                &statements,
                CHANNEL,
                self.origin,
                &rows,
                self.duplicate_window,
            )
            .await;
            match sequenced {
                Ok(sequenced) => outcomes = sequenced,
                Err(err) => return Err((everything(appends, others), err)),
            }
        }
        let mut applied: Vec<Applied> = appends
            .into_iter()
            .map(|(n, _, reply)| {
                let result = outcomes.remove(&n).ok_or_else(|| {
                    RelayError::PostgresCommit(
                        "the notification was staged but is gone from the staging table (did the database restart?)"
                            .into(),
                    )
                });
                Applied::Append(reply, result)
            })
            .collect();
        if others.is_empty() {
            return Ok(applied);
        }
        // The other requests, in a transaction of their own under the sequencer lock (a
        // prune moves the head as a move does).
        let tx = match client.transaction().await {
            Ok(tx) => tx,
            Err(err) => {
                let mut pending: Vec<Pending> = applied.into_iter().map(Pending::from).collect();
                pending.extend(others.into_iter().map(Pending::from));
                return Err((pending, failed("starting a batch")(err)));
            }
        };
        let mut done = Vec::new();
        let outcome = match sequencer::lock(&tx).await {
            Ok(()) => apply_others(&tx, others, &mut done).await,
            Err(err) => Err((others.into_iter().map(Pending::from).collect(), err)),
        };
        let committed = match outcome {
            Ok(()) => tx.commit().await.map_err(failed("committing a batch")),
            Err((mut pending, err)) => {
                pending.extend(done.into_iter().map(Pending::from));
                for pending in pending {
                    pending.refuse(&err.to_string());
                }
                return Ok(applied);
            }
        };
        match committed {
            Ok(()) => applied.extend(done),
            Err(err) => {
                for pending in done.into_iter().map(Pending::from) {
                    pending.refuse(&err.to_string());
                }
            }
        }
        Ok(applied)
    }
}

/// Applies the batch's other requests inside the open transaction, appending to `applied`;
/// on a failure that aborted the transaction, the replies still owed.
async fn apply_others(
    tx: &Transaction<'_>,
    others: Vec<OtherRequest>,
    applied: &mut Vec<Applied>,
) -> Result<(), (Vec<Pending>, RelayError)> {
    let now = Utc::now();
    let mut rest = others.into_iter();
    while let Some(other) = rest.next() {
        let done = match other {
            OtherRequest::Prune(cutoff, reply) => Applied::Prune(reply, prune(tx, cutoff).await),
            OtherRequest::AddKey(label, hash, reply) => {
                Applied::Unit(reply, add_key(tx, &label, &hash, now).await)
            }
            OtherRequest::RevokeKey(label, reply) => {
                Applied::Unit(reply, revoke_key(tx, &label, now).await)
            }
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
            return Err((
                rest.map(Pending::from).collect(),
                RelayError::PostgresCommit(message),
            ));
        }
    }
    Ok(())
}

pub(super) async fn prune(tx: &Transaction<'_>, cutoff: DateTime<Utc>) -> Result<u64, RelayError> {
    // Receipt times never go backwards along ids, so "received before the cutoff" is a prefix
    // of the ids and the horizon is simply its last id: the first entry of the receipt-time
    // index below the cutoff. (Asked as `max(id)`, Postgres may walk the primary key down from
    // the newest id, through everything retention keeps.)
    let row = tx
        .query_opt(
            "SELECT id FROM events WHERE received_at < $1
             ORDER BY received_at DESC, id DESC LIMIT 1",
            &[&cutoff],
        )
        .await
        .map_err(failed("finding what retention removes"))?;
    let Some(last_pruned) = row.map(|row| row.get::<_, i64>(0)) else {
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
            WriteRequest::Other(other) => Pending::from(other),
        }
    }
}

impl From<OtherRequest> for Pending {
    fn from(request: OtherRequest) -> Self {
        match request {
            OtherRequest::Prune(_, reply) => Pending::Count(reply),
            OtherRequest::AddKey(_, _, reply) | OtherRequest::RevokeKey(_, reply) => {
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
