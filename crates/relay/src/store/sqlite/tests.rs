//! The SQLite store against real files in a temporary folder.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{TimeDelta, Utc};

use super::{SqliteOptions, SqliteStore};
use crate::error::RelayError;
use crate::store::{
    Appended, CommitSink, EventId, EventStore, Horizon, IncomingNotification, NoSink, StoredEvent,
};

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

fn wal_bytes(path: &std::path::Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map_or(0, |meta| meta.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bursts_write_ahead_log_comes_back_under_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite3");
    let limit = 256 * 1024;
    let options = SqliteOptions {
        checkpoint_interval: Duration::from_millis(20),
        wal_limit: limit,
        ..SqliteOptions::default()
    };
    let store = Arc::new(SqliteStore::open(&path, options, Arc::new(NoSink)).unwrap());

    // A reader holding one snapshot through the burst (a long backlog read, a backup) keeps any
    // checkpoint from finishing, so the burst must grow the log far past the limit.
    let pin = rusqlite::Connection::open(&path).unwrap();
    pin.execute_batch("BEGIN").unwrap();
    let _: i64 = pin
        .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .unwrap();
    let pad = "x".repeat(1000);
    let mut senders = Vec::new();
    for sender in 0..32 {
        let (store, pad) = (Arc::clone(&store), pad.clone());
        senders.push(tokio::spawn(async move {
            for n in 0..50 {
                store
                    .append(notification(&format!(
                        "{{\"sender\":{sender},\"n\":{n},\"pad\":\"{pad}\"}}"
                    )))
                    .await
                    .unwrap();
            }
        }));
    }
    for sender in senders {
        sender.await.unwrap();
    }
    let peak = wal_bytes(&path);
    assert!(peak > 4 * limit, "the burst left only {peak} bytes of log");
    pin.execute_batch("COMMIT").unwrap();
    drop(pin);

    // The burst is over: the log is copied and cut back, without any further write.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while wal_bytes(&path) > limit {
        assert!(
            std::time::Instant::now() < deadline,
            "the log stayed at {} bytes after the burst (limit {limit}, peak {peak})",
            wal_bytes(&path)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        store
            .events_after(EventId::START, 10_000)
            .await
            .unwrap()
            .len(),
        32 * 50
    );
}

#[tokio::test]
async fn the_keys_generation_moves_with_every_change_from_any_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, Arc::new(NoSink));
    let other = open(&dir, Arc::new(NoSink));
    let start = store.keys_generation().await.unwrap();
    other
        .add_client_key("seat-1".into(), [7; 32])
        .await
        .unwrap();
    let added = store.keys_generation().await.unwrap();
    assert_ne!(added, start);
    // A refused change changes nothing.
    assert!(
        other
            .add_client_key("seat-1".into(), [8; 32])
            .await
            .is_err()
    );
    assert!(other.revoke_client_key("nobody".into()).await.is_err());
    assert_eq!(store.keys_generation().await.unwrap(), added);
    other.revoke_client_key("seat-1".into()).await.unwrap();
    assert_ne!(store.keys_generation().await.unwrap(), added);
    // Appending events leaves it alone.
    let revoked = store.keys_generation().await.unwrap();
    store.append(notification("{\"a\":1}")).await.unwrap();
    assert_eq!(store.keys_generation().await.unwrap(), revoked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_write_ahead_log_comes_back_under_the_limit_while_writes_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite3");
    let limit = 256 * 1024;
    let options = SqliteOptions {
        checkpoint_interval: Duration::from_millis(20),
        wal_limit: limit,
        ..SqliteOptions::default()
    };
    let store = Arc::new(SqliteStore::open(&path, options, Arc::new(NoSink)).unwrap());
    let pin = rusqlite::Connection::open(&path).unwrap();
    pin.execute_batch("BEGIN").unwrap();
    let _: i64 = pin
        .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .unwrap();

    // Senders that never stop, so that the writer is never idle for a whole round.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut senders = Vec::new();
    for sender in 0..8 {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        senders.push(tokio::spawn(async move {
            let pad = "y".repeat(1000);
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                store
                    .append(notification(&format!(
                        "{{\"sender\":{sender},\"n\":{n},\"pad\":\"{pad}\"}}"
                    )))
                    .await
                    .unwrap();
            }
            n
        }));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while wal_bytes(&path) <= 4 * limit {
        assert!(
            std::time::Instant::now() < deadline,
            "the writes never grew the log"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    pin.execute_batch("COMMIT").unwrap();
    drop(pin);

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while wal_bytes(&path) > limit {
        // Unbounded growth fails early rather than filling the disk for the whole ceiling.
        assert!(
            std::time::Instant::now() < deadline && wal_bytes(&path) < 1024 * limit,
            "the log stayed at {} bytes while writes went on (limit {limit})",
            wal_bytes(&path)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut written = 0;
    for sender in senders {
        written += sender.await.unwrap();
    }
    assert_eq!(
        store
            .events_after(EventId::START, 1_000_000)
            .await
            .unwrap()
            .len(),
        usize::try_from(written).unwrap()
    );
}
