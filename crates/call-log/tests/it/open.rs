//! Opening files: fresh, empty, earlier schemas, and files that must be refused untouched.

use call_log::{CallLog, CallLogConfig, CallLogError, schema_version};

use crate::harness::{TestLog, document_examples, numbered};

#[tokio::test]
async fn a_new_file_is_created_and_reopens_with_its_data() {
    let t = TestLog::new();
    let path = t.log.path().to_owned();
    t.log
        .apply(numbered(1, &document_examples()))
        .await
        .unwrap();
    t.log.close().await.unwrap();
    assert!(matches!(t.log.cursor().await, Err(CallLogError::Closed)));
    let again = CallLog::open(&path, CallLogConfig::default()).unwrap();
    assert_eq!(again.cursor().await.unwrap(), Some(6));
}

#[tokio::test]
async fn an_empty_file_becomes_a_call_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.sqlite3");
    std::fs::write(&path, b"").unwrap();
    let log = CallLog::open(&path, CallLogConfig::default()).unwrap();
    assert_eq!(log.cursor().await.unwrap(), None);
}

#[tokio::test]
async fn a_plain_sqlite_file_without_our_schema_is_migrated() {
    // Every earlier version of our own schema is covered by a unit test in `schema`, which can
    // build each version with the private migration list.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE unrelated (x INTEGER); INSERT INTO unrelated VALUES (1);")
            .unwrap();
    }
    let log = CallLog::open(&path, CallLogConfig::default()).unwrap();
    let report = log.apply(numbered(1, &document_examples())).await.unwrap();
    assert_eq!(report.applied, 6);
    log.close().await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(usize::try_from(version).unwrap(), schema_version());
    let kept: i64 = conn
        .query_row("SELECT x FROM unrelated", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 1);
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let content = b"these are my notes, not a database\n".repeat(200);
    std::fs::write(&path, &content).unwrap();
    let err = CallLog::open(&path, CallLogConfig::default()).unwrap_err();
    assert!(matches!(err, CallLogError::NotADatabase { .. }), "{err:?}");
    assert!(err.to_string().contains("notes.txt"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), content);
    assert!(!dir.path().join("notes.txt-wal").exists());
}

#[tokio::test]
async fn a_damaged_database_is_reported_as_damaged() {
    let t = TestLog::new();
    let path = t.log.path().to_owned();
    t.log
        .apply(numbered(1, &document_examples()))
        .await
        .unwrap();
    t.log.close().await.unwrap();
    assert!(
        !path.with_extension("sqlite3-wal").exists(),
        "close checkpoints the WAL"
    );
    // Keep the header but overwrite the schema page and everything after it.
    let mut bytes = std::fs::read(&path).unwrap();
    for b in bytes.iter_mut().skip(100) {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = CallLog::open(&path, CallLogConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            CallLogError::Corrupt { .. } | CallLogError::NotADatabase { .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("calls.sqlite3"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[tokio::test]
async fn a_database_from_a_newer_trubka_is_refused() {
    let t = TestLog::new();
    let path = t.log.path().to_owned();
    t.log.close().await.unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {};", schema_version() + 5))
            .unwrap();
    }
    let err = CallLog::open(&path, CallLogConfig::default()).unwrap_err();
    assert!(matches!(err, CallLogError::TooNew { .. }), "{err:?}");
}
