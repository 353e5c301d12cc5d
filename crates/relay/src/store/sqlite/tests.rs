//! The SQLite store against real files in a temporary folder: what only SQLite has (its
//! write-ahead log, backups and restore, damaged rows, migrations). What every store promises is
//! tested on SQLite and Postgres alike in `tests/it/store_events.rs` and `store_team.rs`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{TimeDelta, Utc};

use super::{SqliteOptions, SqliteStore};
use crate::error::RelayError;
use crate::store::{
    Appended, CommitSink, EventId, EventStore, IncomingNotification, NoSink, StoredEvent,
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

/// A call leg's notification: the only kind a repeat of which is merged.
fn leg(id: &str) -> String {
    format!(
        r#"{{"event":"callNotifications","result":{{"callInfo":{{"call":{{"id":"{id}"}},"state":"trying"}}}}}}"#
    )
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
async fn the_same_body_within_the_window_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let store = open(&dir, recorder.clone());
    let first = store.append(notification(&leg("a"))).await.unwrap();
    let again = store.append(notification(&leg("a"))).await.unwrap();
    assert_eq!(
        again,
        Appended {
            id: first.id,
            duplicate: true
        }
    );
    assert_eq!(
        store.events_after(EventId::START, 10).await.unwrap().rows(),
        1
    );
    assert_eq!(*lock_ids(&recorder.0), vec![1]);
}

#[tokio::test]
async fn only_a_call_legs_notification_is_merged_with_its_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let store = open(&dir, recorder.clone());
    let directory = IncomingNotification::new(
        "vpbxNotifications".into(),
        r#"{"event":"vpbxNotifications","result":{"eventType":"numbersChanged"}}"#.into(),
    )
    .unwrap();
    // The same body as a leg's, but under another kind: not a call notification.
    let other_kind = IncomingNotification::new("unknown".into(), leg("a")).unwrap();
    for body in [
        directory,
        other_kind,
        notification(r#"{"event":"callNotifications","result":{}}"#),
        notification(r#"{"event":"callNotifications","result":{"callInfo":{"call":{"id":""}}}}"#),
        notification(r#"{"event":"callNotifications","result":{"callInfo":{"call":{"id":7}}}}"#),
    ] {
        assert!(!body.mergeable(), "{}", body.body());
        let first = store.append(body.clone()).await.unwrap();
        let again = store.append(body).await.unwrap();
        assert!(!first.duplicate && !again.duplicate);
        assert_ne!(first.id, again.id);
    }
    assert!(notification(&leg("a")).mergeable());
    assert_eq!(*lock_ids(&recorder.0), (1..=10).collect::<Vec<_>>());
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
    store.append(notification(&leg("a"))).await.unwrap();
    // The window starts "now", so an event stamped in an earlier millisecond falls out of it.
    tokio::time::sleep(Duration::from_millis(3)).await;
    let again = store.append(notification(&leg("a"))).await.unwrap();
    assert!(!again.duplicate);
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
    let events = store.events_after(EventId::START, 10).await.unwrap().events;
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
            .rows(),
        32 * 50
    );
}

/// Overwrites a stored event's columns behind the store's back, as a hand edit or a damaged
/// disk would.
fn damage(path: &std::path::Path, id: i64, column: &str, value: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let sql = format!("UPDATE events SET {column} = {value} WHERE id = ?1");
    assert_eq!(conn.execute(&sql, [id]).unwrap(), 1);
}

#[tokio::test]
async fn a_row_that_is_not_an_event_is_reported_apart_and_the_read_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite3");
    let store = SqliteStore::open(&path, SqliteOptions::default(), Arc::new(NoSink)).unwrap();
    for n in 1..=6 {
        store
            .append(notification(&leg(&format!("leg-{n}"))))
            .await
            .unwrap();
    }
    damage(&path, 2, "body", "'not json'");
    damage(&path, 3, "body", "x'ff00'");
    damage(&path, 4, "received_at", "'yesterday'");
    damage(&path, 5, "body", "CAST(x'ff' AS TEXT)");
    let page = store.events_after(EventId::START, 10).await.unwrap();
    let ids: Vec<i64> = page.events.iter().map(|event| event.id.0).collect();
    assert_eq!(ids, vec![1, 6]);
    let unreadable: Vec<i64> = page.unreadable.iter().map(|row| row.id.0).collect();
    assert_eq!(unreadable, vec![2, 3, 4, 5]);
    assert!(page.unreadable[0].reason.contains("not valid JSON"));
    assert!(page.unreadable[1].reason.contains("Blob"));
    assert!(page.unreadable[2].reason.contains("yesterday"));
    assert!(page.unreadable[3].reason.contains("UTF-8"));
    assert_eq!((page.rows(), page.last_id()), (6, Some(EventId(6))));
    // The limit counts rows, readable or not, so a page of damaged rows still moves on.
    let page = store.events_after(EventId(1), 2).await.unwrap();
    assert!(page.events.is_empty());
    assert_eq!(page.last_id(), Some(EventId(3)));
}

/// The `data:` ids of the SSE frames in `text`, in order.
fn streamed_ids(text: &str) -> Vec<i64> {
    text.split("\n\n")
        .filter_map(|frame| {
            frame
                .lines()
                .find_map(|line| line.strip_prefix("id: "))
                .and_then(|id| id.rsplit(':').next())
                .and_then(|id| id.parse().ok())
        })
        .collect()
}

#[tokio::test]
async fn a_stream_skips_a_stored_event_that_is_not_json_and_goes_on() {
    use futures::StreamExt as _;

    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("events.sqlite3");
    let config = crate::RelayConfig::new(crate::HookPath::generate(), database.clone());
    let relay = crate::Relay::start(config).await.unwrap();
    let state = relay.state().clone();
    let key = crate::ClientKey::generate();
    state
        .store
        .add_client_key("seat-1".into(), key.hash())
        .await
        .unwrap();
    for n in 1..=3 {
        state
            .store
            .append(notification(&leg(&format!("leg-{n}"))))
            .await
            .unwrap();
    }
    damage(&database, 2, "body", "'{\"event\":\"callNotif'");

    let base = format!("http://{}", relay.local_addr());
    let http = reqwest::Client::new();
    let response = http
        .get(format!("{base}/events/stream"))
        .bearer_auth(key.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let wanted = [1, 3, 4];
    let mut posted_live = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while streamed_ids(&text) != wanted {
        if !posted_live && streamed_ids(&text) == [1, 3] {
            // The stream still lives: a new event arrives after the damaged one.
            state
                .store
                .append(notification(&leg("leg-4")))
                .await
                .unwrap();
            posted_live = true;
        }
        match tokio::time::timeout_at(deadline, body.next()).await {
            Ok(Some(Ok(chunk))) => text.push_str(std::str::from_utf8(&chunk).unwrap()),
            other => panic!(
                "the stream ended or stalled ({}) after {:?}",
                if other.is_err() { "timeout" } else { "end" },
                streamed_ids(&text)
            ),
        }
    }
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("trubka_relay_events_skipped_total 1\n"),
        "{metrics}"
    );
    drop(body);
    relay.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_new_store_gets_an_epoch_of_its_own_that_stays_when_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(&dir, Arc::new(NoSink)).epoch();
    assert_eq!(open(&dir, Arc::new(NoSink)).epoch(), first);
    let other = tempfile::tempdir().unwrap();
    assert_ne!(open(&other, Arc::new(NoSink)).epoch(), first);
    assert_eq!(first.to_string().len(), 16);
    assert_eq!(crate::store::Epoch::parse(&first.to_string()), Some(first));
}

/// The files in `dir`, leaving out a database's `-wal` and `-shm`, which come and go with its
/// connections (a dropped store's threads close theirs a moment later).
fn files_in(dir: &tempfile::TempDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with("-wal") && !name.ends_with("-shm"))
        .collect();
    names.sort();
    names
}

/// Restores as soon as the dropped store's threads have closed their connections.
fn restore_once_closed(saved: &std::path::Path, path: &std::path::Path) -> super::Restored {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match super::restore(saved, path) {
            Err(RelayError::StoreInUse(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other.unwrap(),
        }
    }
}

#[tokio::test]
async fn restoring_renews_the_epoch_and_keeps_the_replaced_stores_keys_and_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite3");
    let saved = dir.path().join("saved.sqlite3");
    let old_epoch = {
        let store = open(&dir, Arc::new(NoSink));
        store
            .add_client_key("seat-1".into(), [1; 32])
            .await
            .unwrap();
        for n in 1..=5 {
            store
                .append(notification(&leg(&format!("leg-{n}"))))
                .await
                .unwrap();
        }
        super::backup(&path, &saved).unwrap();
        assert!(matches!(
            super::backup(&path, &saved),
            Err(RelayError::Backup { .. })
        ));
        for n in 6..=10 {
            store
                .append(notification(&leg(&format!("leg-{n}"))))
                .await
                .unwrap();
        }
        store.revoke_client_key("seat-1".into()).await.unwrap();
        store
            .add_client_key("seat-2".into(), [2; 32])
            .await
            .unwrap();
        // Refused while the store is open, and nothing is touched.
        assert!(matches!(
            super::restore(&saved, &path),
            Err(RelayError::StoreInUse(_))
        ));
        assert_eq!(
            store
                .events_after(EventId::START, 100)
                .await
                .unwrap()
                .rows(),
            10
        );
        store.epoch()
    };
    assert_eq!(files_in(&dir), ["events.sqlite3", "saved.sqlite3"]);

    let restored = restore_once_closed(&saved, &path);
    assert_ne!(restored.epoch, old_epoch);
    assert_eq!(restored.events, 5);
    assert_eq!(restored.last_id, EventId(10));
    assert_eq!(restored.keys, super::KeysFrom::Replaced);
    let replaced = restored.replaced.clone().unwrap();

    let store = open(&dir, Arc::new(NoSink));
    assert_eq!(store.epoch(), restored.epoch);
    let ids: Vec<i64> = store
        .events_after(EventId::START, 100)
        .await
        .unwrap()
        .events
        .iter()
        .map(|event| event.id.0)
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    // New ids continue after every id the replaced store gave out.
    let next = store.append(notification(&leg("leg-11"))).await.unwrap();
    assert_eq!(next.id, EventId(11));
    // A key revoked since the backup stays revoked; one added since is kept.
    let keys = store.client_keys().await.unwrap();
    let active: Vec<&str> = keys
        .iter()
        .filter(|key| key.revoked_at.is_none())
        .map(|key| key.label.as_str())
        .collect();
    assert_eq!(active, ["seat-2"]);
    drop(store);

    // The replaced store was moved aside whole, never deleted.
    let aside = SqliteStore::open(&replaced, SqliteOptions::default(), Arc::new(NoSink)).unwrap();
    assert_eq!(aside.epoch(), old_epoch);
    assert_eq!(
        aside
            .events_after(EventId::START, 100)
            .await
            .unwrap()
            .rows(),
        10
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
            .rows(),
        usize::try_from(written).unwrap()
    );
}

#[tokio::test]
async fn restoring_without_a_readable_store_to_replace_takes_everything_from_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite3");
    let saved = dir.path().join("saved.sqlite3");
    let backup_epoch = {
        let store = open(&dir, Arc::new(NoSink));
        store
            .add_client_key("seat-1".into(), [1; 32])
            .await
            .unwrap();
        store.append(notification(&leg("leg-1"))).await.unwrap();
        super::backup(&path, &saved).unwrap();
        store.epoch()
    };
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let restored = restore_once_closed(&saved, &path);
    assert_eq!(restored.keys, super::KeysFrom::Backup(None));
    assert_eq!(restored.replaced, None);
    assert_ne!(restored.epoch, backup_epoch);

    // A damaged store in its place: moved aside, and the keys come from the backup.
    drop(open(&dir, Arc::new(NoSink)));
    // The last connection to close removes the log: then nothing writes to the file any more.
    // The writer's thread closes it after the store is dropped; a loaded machine once took over
    // 10 s to get there, so the ceiling is generous.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::path::Path::new(&format!("{}-wal", path.display())).exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the store never closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let restored = restore_once_closed(&saved, &path);
    assert!(matches!(restored.keys, super::KeysFrom::Backup(Some(_))));
    assert!(restored.replaced.unwrap().exists());
    let store = open(&dir, Arc::new(NoSink));
    assert_eq!(store.client_keys().await.unwrap().len(), 1);
    assert_eq!(
        store.events_after(EventId::START, 10).await.unwrap().rows(),
        1
    );
}

#[tokio::test]
async fn a_backup_that_is_not_a_sound_store_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite3");
    let epoch = {
        let store = open(&dir, Arc::new(NoSink));
        store.append(notification(&leg("leg-1"))).await.unwrap();
        store.epoch()
    };
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database").unwrap();
    let other = dir.path().join("other.sqlite3");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let before = files_in(&dir);
    for (file, words) in [
        (&text, "not a trubka-relay event store"),
        (&other, "not a trubka-relay event store"),
        (&dir.path().join("absent.sqlite3"), "cannot be opened"),
        (&path, "is the database itself"),
    ] {
        let err = super::restore(file, &path).unwrap_err().to_string();
        assert!(err.contains(words), "{err}");
    }
    assert_eq!(files_in(&dir), before);
    assert_eq!(open(&dir, Arc::new(NoSink)).epoch(), epoch);
}

#[tokio::test(flavor = "multi_thread")]
async fn restoring_keeps_the_replaced_stores_team_so_a_seat_revoked_since_stays_revoked() {
    use crate::store::team::{NewSeat, SeatRef, TeamStore as _};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite3");
    let saved = dir.path().join("saved.sqlite3");
    let team_id = {
        let store = open(&dir, Arc::new(NoSink));
        let seat = store
            .add_seat(NewSeat {
                name: "Alice".into(),
                workplace: "883140582526566".into(),
                role: team_api::Role::Operator,
            })
            .await
            .unwrap();
        store
            .add_invite(
                SeatRef::Id(seat.profile.id),
                [7; 32],
                Utc::now() + chrono::TimeDelta::hours(1),
            )
            .await
            .unwrap();
        let joined = store
            .redeem_invite([7; 32], [8; 32], Utc::now())
            .await
            .unwrap();
        assert!(matches!(joined, crate::store::team::Redeemed::Joined(_)));
        let team_id = store.team_id().await.unwrap();
        super::backup(&path, &saved).unwrap();
        store
            .revoke_seat(SeatRef::Id(seat.profile.id))
            .await
            .unwrap();
        team_id
    };
    restore_once_closed(&saved, &path);
    let store = open(&dir, Arc::new(NoSink));
    let seats = store.seats().await.unwrap();
    assert!(seats[0].revoked_at.is_some(), "the revoked seat came back");
    let snapshot = store.access_snapshot().await.unwrap();
    assert!(snapshot.credentials.iter().all(|c| c.seat_revoked));
    assert_eq!(store.team_id().await.unwrap(), team_id);
}

#[tokio::test]
async fn audit_entries_are_kept_filtered_and_pruned_by_age() {
    use crate::store::audit::{AuditQuery, AuditStore as _, NewAuditEntry, Outcome};
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, Arc::new(NoSink));
    let entry = |seat_id, days_ago| NewAuditEntry {
        at: Utc::now() - TimeDelta::days(days_ago),
        seat_id,
        seat_name: format!("seat {seat_id}"),
        action: "hangup".into(),
        target: "leg x".into(),
        outcome: Outcome::Refused,
        code: Some("not_your_call".into()),
        detail: "refused".into(),
    };
    let old = store.record(entry(1, 400)).await.unwrap();
    let recent = store.record(entry(2, 1)).await.unwrap();
    assert!(recent > old);
    let seat_two = store
        .entries(AuditQuery {
            since: None,
            seat_id: Some(2),
        })
        .await
        .unwrap();
    assert_eq!(seat_two.len(), 1);
    assert_eq!(seat_two[0].entry.code.as_deref(), Some("not_your_call"));
    let removed = store
        .prune_audit_before(Utc::now() - TimeDelta::days(365))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let left = store.entries(AuditQuery::default()).await.unwrap();
    assert_eq!(left.iter().map(|e| e.id).collect::<Vec<_>>(), [recent]);
}

#[tokio::test]
async fn a_schema_4_store_migrates_to_the_team_phonebook_and_keeps_its_events() {
    use crate::store::phonebook::PhonebookStore as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.sqlite3");
    {
        let store = open(&dir, Arc::new(NoSink));
        store.append(notification("{\"n\":1}")).await.unwrap();
    }
    {
        // As a relay of schema 4 left it: no phonebook tables.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE team_contact_numbers; DROP TABLE team_contacts; PRAGMA user_version = 4;",
        )
        .unwrap();
    }
    let store = open(&dir, Arc::new(NoSink));
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, super::schema::SCHEMA_VERSION);
    assert_eq!(store.phonebook_version().await.unwrap(), 0);
    let contact = phonebook::NewContact {
        name: "Иван".into(),
        numbers: vec!["+79219462761".into()],
        ..Default::default()
    }
    .validate()
    .unwrap();
    let added = store.add_contact(contact).await.unwrap();
    assert_eq!((added.id, added.version), (1, 1));
    let events = store.events_after(EventId::START, 10).await.unwrap().events;
    assert_eq!(events.len(), 1);
}

#[tokio::test]
async fn routing_decisions_are_pruned_by_age_and_the_newer_ones_kept() {
    use crate::store::routing::RoutingStore as _;
    use call_routing::{JournalEntry, RoutingOutcome};
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir, Arc::new(NoSink));
    let entry = |leg: &str, days_ago| JournalEntry {
        leg: leg.into(),
        caller_number: Some("79161112233".into()),
        line_number: Some("74996497803".into()),
        rule: Some("unknown_caller".into()),
        target: None,
        outcome: RoutingOutcome::Released,
        detail: None,
        decided_at: Utc::now() - TimeDelta::days(days_ago),
        took_ms: 3,
        deadline_ms: 4000,
    };
    store.record_decision(entry("park-old", 400)).await.unwrap();
    let recent = store.record_decision(entry("park-new", 1)).await.unwrap();
    let removed = store
        .prune_decisions_before(Utc::now() - TimeDelta::days(365))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    let left = store.decisions(10).await.unwrap();
    assert_eq!(
        left.iter()
            .map(|d| (d.id, d.entry.leg.as_str()))
            .collect::<Vec<_>>(),
        [(recent, "park-new")]
    );
    // Nothing older is left: a second pass removes nothing.
    let again = store
        .prune_decisions_before(Utc::now() - TimeDelta::days(365))
        .await
        .unwrap();
    assert_eq!(again, 0);
}
