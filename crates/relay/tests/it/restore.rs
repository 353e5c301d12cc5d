//! Restoring a backup: the store gets a new epoch, and a client that was ahead of the backup
//! is resynced instead of silently resuming after ids the restored store gives out again.

use std::time::Duration;

use crate::durability::{Running, run, serve};
use crate::util::SseReader;

pub const WAIT: Duration = Duration::from_secs(10);

fn leg(n: usize) -> String {
    format!(
        r#"{{"event":"callNotifications","result":{{"callInfo":{{"call":{{"id":"leg-{n}"}},"state":"trying"}}}}}}"#
    )
}

pub async fn post(http: &reqwest::Client, relay: &Running, n: usize) -> i64 {
    let answer: serde_json::Value = http
        .post(&relay.events_url)
        .body(leg(n))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["duplicate"], false);
    answer["id"].as_i64().unwrap()
}

pub async fn stop(mut relay: Running) {
    relay.child.start_kill().unwrap();
    relay.child.wait().await.unwrap();
}

pub async fn stream(http: &reqwest::Client, relay: &Running, key: &str, last: &str) -> SseReader {
    let response = http
        .get(format!("{}/events/stream", relay.base))
        .bearer_auth(key)
        .header("last-event-id", last)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    SseReader::new(response)
}

/// The legs the next `count` events name.
pub async fn legs(reader: &mut SseReader, count: usize) -> Vec<String> {
    let mut legs = Vec::new();
    for _ in 0..count {
        let frame = reader.next_event(WAIT).await.unwrap();
        assert_eq!(
            frame.event.as_deref(),
            Some("callNotifications"),
            "{frame:?}"
        );
        let data = frame.json();
        legs.push(
            data["body"]["result"]["callInfo"]["call"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    legs
}

pub fn names(range: std::ops::RangeInclusive<usize>) -> Vec<String> {
    range.map(|n| format!("leg-{n}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_ahead_of_a_restored_backup_is_resynced_and_gets_every_new_event() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    let backup = dir.path().join("backup.sqlite3");
    let backup_arg = backup.to_str().unwrap();
    run(&config, &["init", "--listen", "127.0.0.1:0"]);
    let key = run(&config, &["keys", "add", "seat-1"]).trim().to_owned();
    let http = reqwest::Client::new();

    let relay = serve(&config).await;
    for n in 1..=5 {
        post(&http, &relay, n).await;
    }
    // A backup while the relay runs.
    run(&config, &["backup", backup_arg]);
    for n in 6..=10 {
        assert_eq!(post(&http, &relay, n).await, i64::try_from(n).unwrap());
    }
    // The client applied everything up to id 10; it keeps the id as the stream wrote it.
    let mut reader = stream(&http, &relay, &key, "0").await;
    assert_eq!(legs(&mut reader, 10).await, names(1..=10));
    let old_epoch = reader.epoch.clone().unwrap();
    let cursor = format!("{old_epoch}:10");
    drop(reader);

    // Restoring is refused while the relay runs; then the store is put back to the backup.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_trubka-relay"))
        .arg("--config")
        .arg(&config)
        .args(["restore", backup_arg])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("stop the relay first"));
    stop(relay).await;
    let said = run(&config, &["restore", backup_arg]);
    assert!(said.contains("new epoch"), "{said}");
    let relay = serve(&config).await;
    for n in 11..=17 {
        post(&http, &relay, n).await;
    }

    // With its epoch: a resync (the history it knew is gone), then everything kept, among it
    // all 7 new events.
    let mut reader = stream(&http, &relay, &key, &cursor).await;
    let resync = reader.next_event(WAIT).await.unwrap();
    assert_eq!(resync.event.as_deref(), Some("resync"), "{resync:?}");
    let notice = resync.json();
    assert_eq!(notice["reason"], "unknown");
    assert_eq!(notice["requestedEpoch"], old_epoch.as_str());
    let new_epoch = reader.epoch.clone().unwrap();
    assert_ne!(new_epoch, old_epoch);
    assert_eq!(notice["epoch"], new_epoch.as_str());
    let mut expected = names(1..=5);
    expected.extend(names(11..=17));
    assert_eq!(legs(&mut reader, 12).await, expected);

    // A client that resumes by the bare id (as today's apps do) misses none of the 7 either:
    // the restored store's ids continue after every id the replaced one gave out.
    let mut reader = stream(&http, &relay, &key, "10").await;
    let first = reader.next_event(WAIT).await.unwrap();
    assert_eq!(first.epoch(), new_epoch);
    assert_eq!(first.id(), 11);
    let rest = legs(&mut reader, 6).await;
    let data = first.json();
    let mut all = vec![
        data["body"]["result"]["callInfo"]["call"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
    ];
    all.extend(rest);
    assert_eq!(all, names(11..=17));
    stop(relay).await;
}
