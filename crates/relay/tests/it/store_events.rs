//! One suite for every event store: each test runs against SQLite (a file in a temporary
//! folder) and against a real Postgres (a database of its own in the test cluster). What
//! `relay::store` promises must hold on both; Postgres adds several instances on one database.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use relay::RelayError;
use relay::store::postgres::{PostgresOptions, PostgresStore};
use relay::store::sqlite::{SqliteOptions, SqliteStore};
use relay::store::{
    CommitSink, EventId, EventStore, Horizon, IncomingNotification, NoSink, StoredEvent,
};

use crate::pg_cluster;

/// Where a test's store lives; [`Backend::open`] opens it (again).
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Backend {
    async fn sqlite() -> Self {
        Backend::Sqlite(tempfile::tempdir().unwrap())
    }

    async fn postgres() -> Self {
        Backend::Postgres(pg_cluster::database().await)
    }

    async fn open(&self, sink: Arc<dyn CommitSink>) -> Arc<dyn EventStore> {
        match self {
            Backend::Sqlite(dir) => Arc::new(
                SqliteStore::open(
                    &dir.path().join("events.sqlite3"),
                    SqliteOptions::default(),
                    sink,
                )
                .unwrap(),
            ),
            Backend::Postgres(url) => Arc::new(
                PostgresStore::connect(url, PostgresOptions::default(), sink)
                    .await
                    .unwrap(),
            ),
        }
    }
}

/// Runs `$body(backend)` once per store, as `$name::sqlite` and `$name::postgres`.
macro_rules! on_both_stores {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Backend::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Backend::postgres().await).await;
            }
        }
    };
}

/// The ids a store announced, in the order it announced them.
#[derive(Default)]
struct Recorder(Mutex<Vec<i64>>);

impl CommitSink for Recorder {
    fn committed(&self, events: &[StoredEvent]) {
        self.0
            .lock()
            .unwrap()
            .extend(events.iter().map(|event| event.id.0));
    }
}

impl Recorder {
    /// The announced ids once there are `count` of them (a Postgres store announces from its
    /// listener, a moment after the commit), waiting at most a generous minute.
    async fn ids_once(&self, count: usize) -> Vec<i64> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ids = self.0.lock().unwrap().clone();
            if ids.len() >= count || Instant::now() > deadline {
                return ids;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn notification(body: &str) -> IncomingNotification {
    IncomingNotification::new("callNotifications".into(), body.into()).unwrap()
}

/// A call leg's notification: the only kind a repeat of which is merged.
fn leg(id: &str) -> String {
    format!(
        r#"{{"event":"callNotifications","result":{{"callInfo":{{"call":{{"id":"{id}"}},"state":"trying"}}}}}}"#
    )
}

on_both_stores!(appends_are_numbered_in_order_announced_once_and_kept_verbatim);
async fn appends_are_numbered_in_order_announced_once_and_kept_verbatim(backend: Backend) {
    let recorder = Arc::new(Recorder::default());
    let store = backend.open(recorder.clone()).await;
    let body = "{ \"event\" : \"callNotifications\",\n \"result\": {\"x\": [1, 2.50]} }";
    let first = store.append(notification(body)).await.unwrap();
    let second = store.append(notification("{\"n\":2}")).await.unwrap();
    assert_eq!((first.id, first.duplicate), (EventId(1), false));
    assert_eq!((second.id, second.duplicate), (EventId(2), false));
    assert_eq!(recorder.ids_once(2).await, vec![1, 2]);

    let events = store.events_after(EventId::START, 10).await.unwrap().events;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].body.get(), body);
    assert_eq!(events[0].kind, "callNotifications");
    assert_eq!(events[0].epoch, store.epoch());
    assert!(events[0].received_at <= events[1].received_at);
    let after_first = store.events_after(EventId(1), 10).await.unwrap().events;
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].id, EventId(2));
}

on_both_stores!(a_call_legs_repeat_within_the_window_is_stored_once);
async fn a_call_legs_repeat_within_the_window_is_stored_once(backend: Backend) {
    let store = backend.open(Arc::new(NoSink)).await;
    let first = store.append(notification(&leg("a"))).await.unwrap();
    let again = store.append(notification(&leg("a"))).await.unwrap();
    assert_eq!(again.id, first.id);
    assert!(again.duplicate);
    // Another body, and a body that names no leg, are stored every time.
    let other = store.append(notification(&leg("b"))).await.unwrap();
    assert!(!other.duplicate);
    let plain = store.append(notification("{\"n\":1}")).await.unwrap();
    let plain_again = store.append(notification("{\"n\":1}")).await.unwrap();
    assert_ne!(plain.id, plain_again.id);
    assert_eq!(
        store.horizon().await.unwrap().last_id,
        plain_again.id,
        "a merged repeat takes no id"
    );
}

on_both_stores!(concurrent_appends_all_get_distinct_ids_announced_in_order);
async fn concurrent_appends_all_get_distinct_ids_announced_in_order(backend: Backend) {
    let recorder = Arc::new(Recorder::default());
    let store = backend.open(recorder.clone()).await;
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
    assert_eq!(recorder.ids_once(200).await, (1..=200).collect::<Vec<_>>());
}

on_both_stores!(pruning_moves_the_horizon_and_ids_are_never_reused);
async fn pruning_moves_the_horizon_and_ids_are_never_reused(backend: Backend) {
    let store = backend.open(Arc::new(NoSink)).await;
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

on_both_stores!(events_and_the_epoch_survive_reopening);
async fn events_and_the_epoch_survive_reopening(backend: Backend) {
    let store = backend.open(Arc::new(NoSink)).await;
    let epoch = store.epoch();
    store.append(notification("{\"kept\":true}")).await.unwrap();
    drop(store);
    let reopened = backend.open(Arc::new(NoSink)).await;
    assert_eq!(reopened.epoch(), epoch);
    let events = reopened
        .events_after(EventId::START, 10)
        .await
        .unwrap()
        .events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].body.get(), "{\"kept\":true}");
    assert_eq!(
        reopened.append(notification("{\"n\":2}")).await.unwrap().id,
        EventId(2)
    );
}

on_both_stores!(client_keys_are_added_listed_revoked_and_move_the_generation);
async fn client_keys_are_added_listed_revoked_and_move_the_generation(backend: Backend) {
    let store = backend.open(Arc::new(NoSink)).await;
    let before = store.keys_generation().await.unwrap();
    store.add_client_key("anna".into(), [1; 32]).await.unwrap();
    let after_add = store.keys_generation().await.unwrap();
    assert_ne!(after_add, before);
    assert!(matches!(
        store.add_client_key("anna".into(), [2; 32]).await,
        Err(RelayError::KeyLabelTaken(label)) if label == "anna"
    ));
    store.revoke_client_key("anna".into()).await.unwrap();
    assert_ne!(store.keys_generation().await.unwrap(), after_add);
    assert!(matches!(
        store.revoke_client_key("anna".into()).await,
        Err(RelayError::KeyNotFound(label)) if label == "anna"
    ));
    // The label is free again once its key is revoked.
    store.add_client_key("anna".into(), [3; 32]).await.unwrap();
    let keys = store.client_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].key_hash, [1; 32]);
    assert!(keys[0].revoked_at.is_some());
    assert_eq!(keys[1].key_hash, [3; 32]);
    assert!(keys[1].revoked_at.is_none());
}

/// Three instances on one database, appending at once: every id is handed out once, each
/// instance's sink sees every event of all three exactly once and in id order, and they share
/// one epoch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_instances_on_one_database_share_one_order_of_ids() {
    let url = pg_cluster::database().await;
    let mut stores = Vec::new();
    let mut recorders = Vec::new();
    for _ in 0..3 {
        let recorder = Arc::new(Recorder::default());
        let store: Arc<dyn EventStore> = Arc::new(
            PostgresStore::connect(&url, PostgresOptions::default(), recorder.clone())
                .await
                .unwrap(),
        );
        stores.push(store);
        recorders.push(recorder);
    }
    assert!(
        stores
            .iter()
            .all(|store| store.epoch() == stores[0].epoch())
    );
    let mut tasks = Vec::new();
    for n in 0..300 {
        let store = Arc::clone(&stores[n % 3]);
        tasks.push(tokio::spawn(async move {
            store
                .append(notification(&format!("{{\"n\":{n}}}")))
                .await
                .unwrap()
                .id
                .0
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    ids.sort_unstable();
    assert_eq!(ids, (1..=300).collect::<Vec<_>>());
    for recorder in &recorders {
        assert_eq!(recorder.ids_once(300).await, (1..=300).collect::<Vec<_>>());
    }
    // A call leg's repeat sent to another instance is still recognised.
    let first = stores[0].append(notification(&leg("x"))).await.unwrap();
    let repeat = stores[1].append(notification(&leg("x"))).await.unwrap();
    assert_eq!((repeat.id, repeat.duplicate), (first.id, true));
    // The same leg's notification reaching all three at the same moment (the PBX repeating
    // a webhook the balancer spread): stored once, the other two answered with its id,
    // however the instances' staged rows were moved together.
    for round in 0..20 {
        let body = leg(&format!("same-{round}"));
        let answers: Vec<_> =
            futures::future::join_all(stores.iter().map(|store| store.append(notification(&body))))
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
        assert_eq!(
            answers.iter().filter(|answer| !answer.duplicate).count(),
            1,
            "{answers:?}"
        );
        assert!(answers.iter().all(|answer| answer.id == answers[0].id));
    }
}

/// A store whose database is not there says which and why, instead of hanging.
#[tokio::test]
async fn postgres_that_cannot_be_reached_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://trubka@127.0.0.1:{port}/nothing");
    let err = PostgresStore::connect(&url, PostgresOptions::default(), Arc::new(NoSink))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("postgres store: connecting"),
        "{err}"
    );
    let err = PostgresStore::connect("mysql://x", PostgresOptions::default(), Arc::new(NoSink))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("database"), "{err}");
}
