//! A writer killed with SIGKILL in the middle of a burst leaves a healthy database.
//!
//! The test re-runs this very test binary as a child, selecting the ignored `burst_writer`
//! test, which applies batches as fast as it can until it is killed. No extra binary is needed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use call_log::{CallLog, CallLogConfig};

use crate::harness::{call_body, numbered};

const DB_ENV: &str = "CALL_LOG_BURST_DB";
const BATCH: i64 = 200;

/// Applies batches of call events to the database named by `CALL_LOG_BURST_DB` (or to a
/// temporary one, for a bounded number of batches, when run by hand), printing `ready` after the
/// first commit.
#[tokio::test]
#[ignore = "the child process of `sigkill_during_a_burst_leaves_a_healthy_database`"]
async fn burst_writer() {
    let scratch = tempfile::tempdir().unwrap();
    let (path, batches) = match std::env::var_os(DB_ENV) {
        Some(path) => (std::path::PathBuf::from(path), i64::MAX),
        None => (scratch.path().join("burst.sqlite3"), 20),
    };
    let log = CallLog::open(&path, CallLogConfig::default()).unwrap();
    let start = log.cursor().await.unwrap().unwrap_or(0) + 1;
    // A child whose parent died before killing it stops by itself rather than writing forever.
    let give_up = std::time::Instant::now() + Duration::from_secs(30);
    for batch in 0..batches {
        if std::time::Instant::now() > give_up {
            break;
        }
        let first = start + batch * BATCH;
        let bodies: Vec<String> = (first..first + BATCH)
            .map(|id| {
                let state = ["trying", "showing", "connected", "finished"]
                    [usize::try_from(id % 4).unwrap()];
                call_body(
                    &format!("burst-{}", id / 4),
                    state,
                    "incoming",
                    "79219462761",
                    "883140777716581",
                )
            })
            .collect();
        let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
        let report = log.apply(numbered(first, &refs)).await.unwrap();
        assert_eq!(report.applied, usize::try_from(BATCH).unwrap());
        if batch == 0 {
            println!("ready");
        }
    }
}

#[tokio::test]
async fn sigkill_during_a_burst_leaves_a_healthy_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.sqlite3");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "crash::burst_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DB_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("ready"));
    assert!(ready, "the child never committed its first batch");
    // Let it get well into the burst, then kill it without warning (SIGKILL on Unix).
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());

    let log = CallLog::open(&path, CallLogConfig::default()).unwrap();
    assert_eq!(log.integrity_check().await.unwrap(), ["ok"]);
    let cursor = log.cursor().await.unwrap().unwrap();
    // Batches are atomic: the cursor sits on a batch boundary and every event up to it is there.
    assert_eq!(cursor % BATCH, 0, "cursor {cursor}");
    let check = rusqlite::Connection::open(&path).unwrap();
    let stored: i64 = check
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, cursor);
    drop(check);
    // And it takes new events.
    let next = numbered(
        cursor + 1,
        &[&call_body("after", "trying", "incoming", "101", "102")],
    );
    assert_eq!(log.apply(next).await.unwrap().cursor, Some(cursor + 1));
}
