//! How several instances' notifications get their ids in one group commit.
//!
//! An instance's writer first **stages** its batch: one insert into `staged_events`, an
//! `UNLOGGED` table, committed without waiting for the disk (a transaction that touched only
//! unlogged tables writes no WAL that Postgres must flush). Then it takes the **sequencer
//! lock** (a transaction-scoped advisory lock) and, unless another instance already did it,
//! **moves** every staged row of every instance into `events`: ids assigned after the head's,
//! duplicates merged, the head moved, one commit, one fsync. An instance that finds its rows
//! already moved takes their outcomes (`staged_outcomes`, unlogged too) and commits nothing
//! that needs the disk. So while one instance's move waits for its fsync, the others stage
//! theirs, and the next move carries them all: the instances share group commits instead of
//! taking turns with one fsync each.
//!
//! What still holds from before: a notification is answered only after the move that stored
//! it committed (durable: `synchronous_commit`); moves run one at a time under the lock and
//! each one also locks the head row, so ids grow in commit order across instances and a
//! reader that sees an id sees every id below it. A staged row is not yet a promise: if
//! Postgres restarts, unlogged tables come back empty, and the writer whose rows vanished
//! answers them with an error (never 2xx). If an instance dies between staging and the move,
//! its rows are still moved (by the next move of any instance, or by a sweep of stale rows),
//! like an event committed whose answer was never sent.

use std::collections::HashMap;

use chrono::TimeDelta;
use tokio_postgres::{Client, Statement, Transaction};

use super::failed;
use crate::error::RelayError;
use crate::store::{Appended, EventId};

/// The advisory lock key moves run under ("trubkb" in ASCII; the migrations use "trubka").
const SEQUENCER_LOCK: i64 = 0x7472_7562_6b62;

/// A notification as the writer stages it: `n` numbers it among its writer's rows.
pub(super) struct ToStage<'a> {
    pub(super) n: i64,
    pub(super) kind: &'a str,
    pub(super) body: &'a str,
    pub(super) body_hash: &'a [u8],
    pub(super) mergeable: bool,
}

/// The two statements of a writer's batch, prepared once per connection: a statement sent as
/// text costs a round trip to be parsed before it runs.
#[derive(Clone)]
pub(super) struct Statements {
    stage: Statement,
    sequence: Statement,
}

impl Statements {
    pub(super) async fn prepare(client: &Client) -> Result<Self, RelayError> {
        let stage = client
            .prepare(
                "INSERT INTO staged_events (origin, n, kind, body, body_hash, mergeable)
                 SELECT $1, t.n, t.kind, t.body, t.body_hash, t.mergeable
                 FROM unnest($2::int8[], $3::text[], $4::text[], $5::bytea[], $6::bool[])
                      AS t (n, kind, body, body_hash, mergeable)",
            )
            .await
            .map_err(failed("preparing the staging statement"))?;
        let sequence = client
            .prepare(
                "SELECT out_n, out_id, out_duplicate
                 FROM trubka_sequence($1, $2, $3, $4::int8[], $5::float8)",
            )
            .await
            .map_err(failed("preparing the sequencing statement"))?;
        Ok(Self { stage, sequence })
    }
}

/// Stages `rows` under the writer's `origin` and has them stored ([`sequence`]); the two
/// statements are sent together (pipelined: Postgres runs them in order, each in its own
/// transaction), which saves a round trip per batch.
pub(super) async fn stage_and_sequence(
    client: &Client,
    statements: &Statements,
    channel: &str,
    origin: i64,
    rows: &[ToStage<'_>],
    duplicate_window: TimeDelta,
) -> Result<HashMap<i64, Appended>, RelayError> {
    let ns: Vec<i64> = rows.iter().map(|row| row.n).collect();
    let kinds: Vec<&str> = rows.iter().map(|row| row.kind).collect();
    let bodies: Vec<&str> = rows.iter().map(|row| row.body).collect();
    let hashes: Vec<&[u8]> = rows.iter().map(|row| row.body_hash).collect();
    let mergeable: Vec<bool> = rows.iter().map(|row| row.mergeable).collect();
    let stage = async {
        client
            .execute(
                &statements.stage,
                &[&origin, &ns, &kinds, &bodies, &hashes, &mergeable],
            )
            .await
            .map(drop)
            .map_err(failed("staging notifications"))
    };
    let sequenced = sequence(client, statements, channel, origin, &ns, duplicate_window);
    let ((), outcomes) = futures::future::try_join(stage, sequenced).await?;
    Ok(outcomes)
}

/// Takes the sequencer lock until `tx` ends.
pub(super) async fn lock(tx: &Transaction<'_>) -> Result<(), RelayError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEQUENCER_LOCK])
        .await
        .map_err(failed("waiting for the sequencer lock"))?;
    Ok(())
}

/// The outcomes of `origin`'s staged rows numbered `ns` (those Postgres still had: a restart
/// empties the staging table), after moving every staged row into the event log unless
/// another instance's move already took all of them. One statement and its own transaction
/// (the migrations' `trubka_sequence`): it takes the sequencer lock, stores, moves the head,
/// notifies `channel` and commits before it answers. With no `ns`, it moves whatever waits.
pub(super) async fn sequence(
    client: &Client,
    statements: &Statements,
    channel: &str,
    origin: i64,
    ns: &[i64],
    duplicate_window: TimeDelta,
) -> Result<HashMap<i64, Appended>, RelayError> {
    let window = duplicate_window.as_seconds_f64();
    let rows = client
        .query(
            &statements.sequence,
            &[&SEQUENCER_LOCK, &channel, &origin, &ns, &window],
        )
        .await
        .map_err(failed("storing staged notifications"))?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let appended = Appended {
                id: EventId(row.get(1)),
                duplicate: row.get(2),
            };
            (row.get(0), appended)
        })
        .collect())
}

/// Whether rows staged more than `stale` ago wait for a move (their writer stopped between
/// staging and moving).
pub(super) async fn stale_rows_wait(
    client: &Client,
    stale: std::time::Duration,
) -> Result<bool, RelayError> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM staged_events
                            WHERE staged_at < clock_timestamp() - make_interval(secs => $1))",
            &[&stale.as_secs_f64()],
        )
        .await
        .map_err(failed("looking for stale staged notifications"))?;
    Ok(row.get(0))
}

/// Removes outcomes nobody took within `stale` (their writer stopped before it asked).
pub(super) async fn drop_stale_outcomes(
    client: &Client,
    stale: std::time::Duration,
) -> Result<(), RelayError> {
    client
        .execute(
            "DELETE FROM staged_outcomes
         WHERE decided_at < clock_timestamp() - make_interval(secs => $1)",
            &[&stale.as_secs_f64()],
        )
        .await
        .map_err(failed("removing outcomes nobody took"))?;
    Ok(())
}

/// Vacuums the staging tables. Every staged row is deleted a moment later, and Postgres
/// reclaims a deleted row's space only when the table is vacuumed: left to autovacuum (which
/// looks at each database about once a minute), the tables would grow by every row staged in
/// between, and each move, which reads the whole staging table, would slow down with them
/// (measured: three instances fell from over 6,000 to about 3,200 events/s over 200,000 events).
/// Skips a table another instance is vacuuming right now, and never gives the emptied pages
/// back to the system: that would take a lock that makes every staging and move wait.
pub(super) async fn vacuum(client: &Client) -> Result<(), RelayError> {
    client
        .batch_execute("VACUUM (SKIP_LOCKED, TRUNCATE false) staged_events, staged_outcomes")
        .await
        .map_err(failed("vacuuming the staging tables"))
}

/// Empties the staging tables: after a restore their rows belong to a history that is gone.
pub(super) async fn clear(tx: &Transaction<'_>) -> Result<(), RelayError> {
    tx.batch_execute("TRUNCATE staged_events, staged_outcomes")
        .await
        .map_err(failed("emptying the staging tables"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, dead_code)]
#[path = "../../../tests/it/pg_cluster.rs"]
mod pg_cluster;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::store::postgres::{PostgresOptions, PostgresStore, writer};
    use crate::store::{CommitSink, EventStore, IncomingNotification, NoSink, StoredEvent};

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(i64, String)>>);

    impl CommitSink for Recorder {
        fn committed(&self, events: &[StoredEvent]) {
            self.0.lock().unwrap().extend(
                events
                    .iter()
                    .map(|event| (event.id.0, event.body.get().to_owned())),
            );
        }
    }

    impl Recorder {
        async fn once(&self, count: usize) -> Vec<(i64, String)> {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let seen = self.0.lock().unwrap().clone();
                if seen.len() >= count || Instant::now() > deadline {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// Stages `bodies` as the writer `origin` would, numbered from `first_n`, and stops there:
    /// a writer that stopped (its process killed) between staging and moving.
    async fn stage_only(client: &Client, origin: i64, first_n: i64, bodies: &[&str]) {
        let statements = Statements::prepare(client).await.unwrap();
        let ns: Vec<i64> = (first_n..).take(bodies.len()).collect();
        let kinds = vec!["callNotifications"; bodies.len()];
        let hashes: Vec<Vec<u8>> = bodies.iter().map(|body| vec![body.len() as u8]).collect();
        let mergeable = vec![false; bodies.len()];
        client
            .execute(
                &statements.stage,
                &[&origin, &ns, &kinds, &bodies, &hashes, &mergeable],
            )
            .await
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_a_stopped_writer_staged_are_stored_and_their_outcomes_left_for_it() {
        let url = pg_cluster::database().await;
        let recorder = Arc::new(Recorder::default());
        let store = PostgresStore::connect(&url, PostgresOptions::default(), recorder.clone())
            .await
            .unwrap();
        let client = writer::connect(&crate::store::postgres::parse_url(&url).unwrap())
            .await
            .unwrap();
        let stopped = 7;
        stage_only(&client, stopped, 0, &[r#"{"a":1}"#, r#"{"a":2}"#]).await;

        // The next move of a live writer carries the stopped writer's rows first (arrival
        // order), and leaves their outcomes for it.
        let appended = store
            .append(
                IncomingNotification::new("callNotifications".into(), r#"{"b":1}"#.into()).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!((appended.id, appended.duplicate), (EventId(3), false));
        let statements = Statements::prepare(&client).await.unwrap();
        let left = sequence(
            &client,
            &statements,
            "unused",
            stopped,
            &[0, 1, 2],
            TimeDelta::minutes(10),
        )
        .await
        .unwrap();
        assert_eq!(
            left.len(),
            2,
            "row 2 was never staged, so it has no outcome"
        );
        assert_eq!(left[&0].id, EventId(1));
        assert_eq!(left[&1].id, EventId(2));
        assert!(!left[&0].duplicate && !left[&1].duplicate);

        // With no live writer moving, the sweep stores rows left behind once they are stale.
        stage_only(&client, stopped + 1, 0, &[r#"{"c":1}"#]).await;
        let seen = recorder.once(4).await;
        assert_eq!(
            seen,
            vec![
                (1, r#"{"a":1}"#.to_owned()),
                (2, r#"{"a":2}"#.to_owned()),
                (3, r#"{"b":1}"#.to_owned()),
                (4, r#"{"c":1}"#.to_owned()),
            ],
            "every staged row stored once, in arrival order, and announced"
        );
    }

    /// Opens a connection that receives, as notices, the plan of every statement it runs,
    /// those inside `trubka_sequence` included (`auto_explain`, loaded for this session only).
    async fn explaining(url: &str) -> (Client, Arc<Mutex<Vec<String>>>) {
        let config = crate::store::postgres::parse_url(url).unwrap();
        let (client, mut connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
        let plans = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&plans);
        tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = futures::StreamExt::next(&mut messages).await {
                if let tokio_postgres::AsyncMessage::Notice(notice) = message {
                    seen.lock().unwrap().push(notice.message().to_owned());
                }
            }
        });
        client
            .batch_execute(
                "LOAD 'auto_explain';
                 SET auto_explain.log_min_duration = 0;
                 SET auto_explain.log_nested_statements = on;
                 SET auto_explain.log_level = notice;",
            )
            .await
            .unwrap();
        (client, plans)
    }

    /// The plan of the one statement whose text contains `query`.
    fn plan_of(plans: &Mutex<Vec<String>>, query: &str) -> String {
        let plans = plans.lock().unwrap();
        let found: Vec<&String> = plans.iter().filter(|plan| plan.contains(query)).collect();
        assert_eq!(found.len(), 1, "one plan for {query:?} among {plans:#?}");
        found[0].clone()
    }

    /// A defect found by the routing bench: a move's repeat lookup (`min(id)` of a body hash
    /// within the window) and retention's horizon (`max(id)` received before the cutoff) were
    /// answered by walking the primary key in id order and filtering, whenever the log had no
    /// statistics yet (a new or restored database, or one that just grew). A body never seen
    /// before walked the whole log under the sequencer lock, and every instance's webhooks
    /// waited 100-300 ms at 200,000 events. Both must read their own index.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_repeat_lookup_and_the_retention_horizon_never_walk_the_event_log() {
        let url = pg_cluster::database().await;
        let _store = PostgresStore::connect(&url, PostgresOptions::default(), Arc::new(NoSink))
            .await
            .unwrap();
        let (client, plans) = explaining(&url).await;
        // 20,000 events a year old, and no statistics yet (autovacuum kept away from them).
        client
            .batch_execute(
                "ALTER TABLE events SET (autovacuum_enabled = false);
                 INSERT INTO events (id, received_at, kind, body, body_hash)
                 SELECT g, timestamptz '2025-12-01 00:00:00+00' + make_interval(secs => g),
                        'callNotifications', '{}', sha256(g::text::bytea)
                 FROM generate_series(1, 20000) g;
                 UPDATE event_log_head SET last_id = 20000,
                     last_received_at = timestamptz '2025-12-01 00:00:00+00' + interval '20000 seconds';",
            )
            .await
            .unwrap();

        let statements = Statements::prepare(&client).await.unwrap();
        let body = r#"{"leg":"new"}"#;
        client
            .execute(
                &statements.stage,
                &[
                    &1_i64,
                    &vec![0_i64],
                    &vec!["callNotifications"],
                    &vec![body],
                    &vec![vec![7_u8; 32]],
                    &vec![true],
                ],
            )
            .await
            .unwrap();
        let moved = sequence(
            &client,
            &statements,
            "unused",
            1,
            &[0],
            TimeDelta::minutes(10),
        )
        .await
        .unwrap();
        assert_eq!(
            (moved[&0].id, moved[&0].duplicate),
            (EventId(20_001), false)
        );
        let lookup = plan_of(&plans, "SELECT min(e.id)");
        assert!(
            lookup.contains("events_by_body_hash") && !lookup.contains("events_pkey"),
            "the repeat lookup reads the body-hash index: {lookup}"
        );

        let mut client = client;
        let tx = client.transaction().await.unwrap();
        let cutoff = "2025-12-01T00:01:40Z".parse().unwrap();
        let removed = writer::prune(&tx, cutoff).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(removed, 99, "the events received before the cutoff");
        let horizon = plan_of(&plans, "FROM events WHERE received_at < $1");
        assert!(
            horizon.contains("events_by_received_at") && !horizon.contains("events_pkey"),
            "retention's horizon reads the receipt-time index: {horizon}"
        );
    }
}
