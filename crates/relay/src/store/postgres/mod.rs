//! The [`EventStore`] on Postgres, for several relay instances on one database
//! (`database = "postgres://…"`).
//!
//! Architecture invariant: the files of this folder hold every Postgres SQL string of the relay
//! crate, as `sqlite/` does for SQLite. `schema` is the layout and its migrations, `writer` this
//! instance's group commit, `sequencer` how the instances' notifications get their ids in
//! shared commits (and why ids stay in commit order across instances), `listener` the
//! announcer that feeds this instance's fan-out from every instance's commits, `events` the
//! reads.
//!
//! The promises of [`crate::store`] hold across instances: an append resolves after its commit
//! (Postgres' `synchronous_commit`, its default, makes a commit durable); ids grow strictly in
//! commit order and are never reused; the epoch lives in the database, so every instance on it
//! hands out the same one; every committed event, whichever instance stored it, is announced to
//! each instance's sink in id order, after its commit.

/// Runs `$change` (an expression using the transaction `$tx`) in one transaction on a pooled
/// connection, committed when it returns `Ok` and `$keep` says so.
macro_rules! in_transaction {
    ($store:expr, $tx:ident, $keep:expr, $change:expr) => {{
        let mut client = $store.reader().await?;
        let $tx = client
            .transaction()
            .await
            .map_err(failed("starting a transaction"))?;
        let done = $change;
        if $keep(&done) {
            $tx.commit().await.map_err(failed("committing a change"))?;
        }
        Ok(done)
    }};
}

mod audit;
mod claims;
mod console;
mod events;
mod listener;
mod phonebook;
mod routing;
mod schema;
mod sequencer;
mod team;
mod wrapup;
mod writer;

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::NoTls;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::{
    Appended, ClientKeyRecord, CommitSink, Epoch, EventId, EventPage, EventStore, Horizon,
    IncomingNotification,
};
use crate::error::RelayError;
use listener::Announcer;
use writer::{OtherRequest, Reply, WriteRequest, Writer};

pub use schema::SCHEMA_VERSION;

/// Tuning of the Postgres store.
#[derive(Debug, Clone, Copy)]
pub struct PostgresOptions {
    /// A call leg's notification seen again within this window is stored once.
    pub duplicate_window: Duration,
    /// The most requests one group commit takes.
    pub max_batch: usize,
    /// How many write requests may wait for the writer before senders wait in turn.
    pub queue: usize,
    /// The most connections the readers (streams' backlogs, checks) hold at once.
    pub pool_size: usize,
    /// How long a reader waits for a connection of the pool before it gives up.
    pub pool_wait: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            duplicate_window: Duration::from_secs(600),
            max_batch: 512,
            queue: 1024,
            pool_size: 16,
            pool_wait: Duration::from_secs(5),
        }
    }
}

/// The Postgres event store. Cheap to share behind an `Arc`; dropping the last handle stops its
/// announcer and lets its writer finish the requests already queued.
pub struct PostgresStore {
    config: tokio_postgres::Config,
    epoch: Epoch,
    writer: mpsc::Sender<WriteRequest>,
    pool: Pool,
    _announcer: DropGuard,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the address: it may carry a password.
        f.debug_struct("PostgresStore")
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

pub(super) fn failed(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> RelayError {
    move |source| RelayError::Postgres { context, source }
}

/// What the relay's connections call themselves (`application_name`), so that
/// [`renew_epoch`] can tell whether an instance is still connected.
const APPLICATION: &str = "trubka-relay";

/// Reads `database` as a Postgres connection string (`postgres://user@host:port/name`).
pub fn parse_url(database: &str) -> Result<tokio_postgres::Config, RelayError> {
    let mut config =
        tokio_postgres::Config::from_str(database).map_err(|err| RelayError::ConfigValue {
            field: "database",
            reason: format!(
                "not a Postgres connection string (postgres://user@host:port/name): {err}"
            ),
        })?;
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION);
    }
    Ok(config)
}

/// What [`renew_epoch`] did: the store's new epoch, and the id after which the restored store
/// hands out ids.
#[derive(Debug, Clone, Copy)]
pub struct RenewedEpoch {
    /// The new epoch.
    pub epoch: Epoch,
    /// The last id counted as handed out: the next event gets the one after it.
    pub ids_after: EventId,
}

/// An upper bound on how many ids the relay hands out in a microsecond, all instances
/// together: one. The store commits a few thousand events a second at most (BENCHMARKS.md),
/// hundreds of times below it.
const IDS_PER_MICROSECOND: i64 = 1;

/// Slack for the clocks: the receipt times were stamped by the instances' clocks, the jump is
/// measured on the clock of the host that runs `renew-epoch`.
const CLOCK_SLACK: TimeDelta = TimeDelta::hours(1);

/// How far the restored store's ids jump: past every id the lost history can have handed out
/// between its last event the dump kept (`last_receipt`) and `now`, at
/// [`IDS_PER_MICROSECOND`]. Without a receipt (a dump of a store with no event yet), the
/// bound runs from the Unix epoch. The ids stay below 2^53, which JavaScript numbers hold
/// exactly, for a few centuries.
fn id_jump(last_receipt: Option<DateTime<Utc>>, now: DateTime<Utc>) -> i64 {
    let since = last_receipt.unwrap_or(DateTime::UNIX_EPOCH);
    let elapsed = (now - since).max(TimeDelta::zero()) + CLOCK_SLACK;
    elapsed
        .num_microseconds()
        .unwrap_or(i64::MAX / 4)
        .saturating_mul(IDS_PER_MICROSECOND)
}

/// Gives the store a new epoch, after the database was put back to an older state
/// (`pg_restore`): ids already handed out may be handed out again, and apps that were ahead
/// must learn that their resume point belongs to a history that is gone. Refused while a relay
/// instance is connected to the database (it would go on with the old epoch).
///
/// An app that resumes by a bare id (no epoch: apps do until they have learned it) cannot be
/// told, so the restored store's ids also jump past every id the lost history can have handed
/// out ([`id_jump`]), as a SQLite restore continues after the replaced file's ids: such an app
/// then resumes after its id and misses none of the events stored after the restore. (The
/// lost events themselves are gone; an app that had them keeps what it applied.)
pub async fn renew_epoch(database: &str) -> Result<RenewedEpoch, RelayError> {
    let mut client = alone(database).await?;
    let epoch = Epoch::generate();
    let tx = client
        .transaction()
        .await
        .map_err(failed("starting a transaction"))?;
    tx.execute(
        "INSERT INTO relay_meta (name, value) VALUES ('epoch', $1)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[&epoch.to_stored()],
    )
    .await
    .map_err(failed("renewing the store's epoch"))?;
    let head = tx
        .query_one(
            "SELECT last_id, last_received_at FROM event_log_head FOR UPDATE",
            &[],
        )
        .await
        .map_err(failed("locking the event log's head"))?;
    let last_id: i64 = head.get(0);
    let ids_after = last_id.saturating_add(id_jump(head.get(1), Utc::now()));
    tx.execute("UPDATE event_log_head SET last_id = $1", &[&ids_after])
        .await
        .map_err(failed("moving the event log's ids on"))?;
    sequencer::clear(&tx).await?;
    tx.commit()
        .await
        .map_err(failed("committing the new epoch"))?;
    Ok(RenewedEpoch {
        epoch,
        ids_after: EventId(ids_after),
    })
}

/// A connection to the database, migrated, once no relay instance (nor another command) is
/// connected to it: what changes the database under every instance needs.
async fn alone(database: &str) -> Result<tokio_postgres::Client, RelayError> {
    let config = parse_url(database)?;
    let mut client = writer::connect(&config).await?;
    schema::migrate(&mut client).await?;
    let others: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1
               AND pid <> pg_backend_pid()",
            &[&APPLICATION],
        )
        .await
        .map_err(failed("looking for running instances"))?
        .get(0);
    if others > 0 {
        return Err(RelayError::PostgresInUse(others));
    }
    Ok(client)
}

/// Seals every stored secret again through `reseal` (for `team rotate-key`), all in one
/// transaction; refused while a relay instance is connected (it would go on sealing with the
/// old key). Answers how many were sealed again.
pub async fn reseal_all(
    database: &str,
    mut reseal: impl FnMut(&str, &[u8]) -> Result<Vec<u8>, RelayError>,
) -> Result<usize, RelayError> {
    let mut client = alone(database).await?;
    let tx = client
        .transaction()
        .await
        .map_err(failed("starting a transaction"))?;
    // An instance starting meanwhile waits for the rotation before it reads a secret.
    tx.batch_execute("LOCK TABLE sealed_secrets IN EXCLUSIVE MODE")
        .await
        .map_err(failed("locking the sealed secrets"))?;
    let rows = tx
        .query("SELECT name, sealed FROM sealed_secrets ORDER BY name", &[])
        .await
        .map_err(failed("reading the sealed secrets"))?;
    let now = Utc::now();
    for row in &rows {
        let name: String = row.get(0);
        let sealed: Vec<u8> = row.get(1);
        let again = reseal(&name, &sealed)?;
        tx.execute(
            "UPDATE sealed_secrets SET sealed = $2, updated_at = $3 WHERE name = $1",
            &[&name, &again, &now],
        )
        .await
        .map_err(failed("sealing a secret again"))?;
    }
    tx.commit()
        .await
        .map_err(failed("committing the sealed secrets"))?;
    Ok(rows.len())
}

/// The client port (as Postgres sees it) of the connection that holds the integration's
/// refresh lock now, if one does: which instance is refreshing the tokens, for diagnosis (the
/// connection's port names the process on its host, `ss -tnp`).
pub async fn refresh_lock_holder(database: &str) -> Result<Option<u16>, RelayError> {
    let config = parse_url(database)?;
    let client = writer::connect(&config).await?;
    // An advisory lock on one bigint key shows as its high and low halves.
    let row = client
        .query_opt(
            "SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
               AND ((l.classid::bigint << 32) | l.objid::bigint) = $1",
            &[&team::REFRESH_LOCK],
        )
        .await
        .map_err(failed("looking for the refresh lock's holder"))?;
    Ok(row
        .and_then(|row| row.get::<_, Option<i32>>(0))
        .and_then(|port| u16::try_from(port).ok()))
}

impl PostgresStore {
    /// Connects to the database, brings its schema up to date and starts this instance's
    /// writer and announcer. Must run inside a Tokio runtime.
    pub async fn connect(
        database: &str,
        options: PostgresOptions,
        sink: Arc<dyn CommitSink>,
    ) -> Result<Self, RelayError> {
        let config = parse_url(database)?;
        let duplicate_window =
            TimeDelta::from_std(options.duplicate_window).map_err(|_| RelayError::ConfigValue {
                field: "duplicate_window_secs",
                reason: "too large".into(),
            })?;
        let mut client = writer::connect(&config).await?;
        schema::migrate(&mut client).await?;
        let epoch = events::epoch(&client).await?;
        let announced = events::horizon(&client).await?.last_id;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.pool_wait))
            .create_timeout(Some(options.pool_wait))
            .build()
            .map_err(|err| RelayError::PostgresPool(err.to_string()))?;
        let (requests, queue) = mpsc::channel(options.queue.max(1));
        tokio::spawn(
            Writer::new(config.clone(), client, duplicate_window, options.max_batch).run(queue),
        );
        let stop = CancellationToken::new();
        tokio::spawn(
            Announcer {
                config,
                sink,
                epoch,
                announced,
            }
            .run(stop.clone()),
        );
        Ok(Self {
            config: parse_url(database)?,
            epoch,
            writer: requests,
            pool,
            _announcer: stop.drop_guard(),
        })
    }

    async fn reader(&self) -> Result<deadpool_postgres::Object, RelayError> {
        self.pool
            .get()
            .await
            .map_err(|err| RelayError::PostgresPool(err.to_string()))
    }

    async fn write<T>(
        &self,
        request: impl FnOnce(Reply<T>) -> WriteRequest,
    ) -> Result<T, RelayError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(request(reply))
            .await
            .map_err(|_| RelayError::StoreClosed)?;
        answer.await.map_err(|_| RelayError::StoreClosed)?
    }
}

impl EventStore for PostgresStore {
    fn append(
        &self,
        notification: IncomingNotification,
    ) -> BoxFuture<'_, Result<Appended, RelayError>> {
        self.write(move |reply| WriteRequest::Append(notification, reply))
            .boxed()
    }

    fn events_after(
        &self,
        after: EventId,
        limit: usize,
    ) -> BoxFuture<'_, Result<EventPage, RelayError>> {
        async move {
            let client = self.reader().await?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            events::read_after(&client, self.epoch, after, limit).await
        }
        .boxed()
    }

    fn horizon(&self) -> BoxFuture<'_, Result<Horizon, RelayError>> {
        async move { events::horizon(&*self.reader().await?).await }.boxed()
    }

    fn epoch(&self) -> Epoch {
        self.epoch
    }

    fn prune_received_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> BoxFuture<'_, Result<u64, RelayError>> {
        self.write(move |reply| WriteRequest::Other(OtherRequest::Prune(cutoff, reply)))
            .boxed()
    }

    fn size_bytes(&self) -> BoxFuture<'_, Result<u64, RelayError>> {
        async move { events::size_bytes(&*self.reader().await?).await }.boxed()
    }

    fn add_client_key(
        &self,
        label: String,
        key_hash: [u8; 32],
    ) -> BoxFuture<'_, Result<(), RelayError>> {
        self.write(move |reply| WriteRequest::Other(OtherRequest::AddKey(label, key_hash, reply)))
            .boxed()
    }

    fn client_keys(&self) -> BoxFuture<'_, Result<Vec<ClientKeyRecord>, RelayError>> {
        async move { events::client_keys(&*self.reader().await?).await }.boxed()
    }

    fn keys_generation(&self) -> BoxFuture<'_, Result<i64, RelayError>> {
        async move { events::keys_generation(&*self.reader().await?).await }.boxed()
    }

    fn revoke_client_key(&self, label: String) -> BoxFuture<'_, Result<(), RelayError>> {
        self.write(move |reply| WriteRequest::Other(OtherRequest::RevokeKey(label, reply)))
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone as _, Utc};

    use super::id_jump;

    #[test]
    fn the_ids_jump_past_one_a_microsecond_since_the_last_kept_receipt_and_stay_exact_in_javascript()
     {
        let receipt = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let day = 86_400_000_000;
        let hour = 3_600_000_000;
        assert_eq!(
            id_jump(Some(receipt), receipt + TimeDelta::days(1)),
            day + hour
        );
        // A restoring host whose clock is behind the instances' still jumps by the slack.
        assert_eq!(
            id_jump(Some(receipt), receipt - TimeDelta::minutes(5)),
            hour
        );
        // No receipt kept: from the Unix epoch, still well below 2^53.
        let jump = id_jump(None, receipt);
        assert!(jump > 1_700_000_000_000_000 && jump < 1 << 53, "{jump}");
    }
}
