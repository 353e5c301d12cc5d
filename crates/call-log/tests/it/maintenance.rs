//! Backup, retention and the history export.

use call_log::{CallLog, CallLogConfig, HistoryFilter, PruneCutoffs};
use mtt_api::notification::CallState;

use crate::harness::{TestLog, at, call, document_examples, numbered};

#[tokio::test]
async fn a_backup_is_a_complete_database_and_never_overwrites() {
    let t = TestLog::new();
    t.log
        .apply(numbered(1, &document_examples()))
        .await
        .unwrap();
    let target = t.dir.path().join("backup.sqlite3");
    t.log.backup_to(&target).await.unwrap();
    let copy = CallLog::open(&target, CallLogConfig::default()).unwrap();
    assert_eq!(copy.cursor().await.unwrap(), Some(6));
    assert_eq!(copy.integrity_check().await.unwrap(), ["ok"]);
    let again = t.log.backup_to(&target).await.unwrap_err();
    assert!(again.to_string().contains("backup.sqlite3"), "{again}");
}

#[tokio::test]
async fn prune_removes_old_calls_with_their_events_and_keeps_the_rest() {
    let t = TestLog::new();
    t.log
        .apply(call(
            1,
            0,
            "old",
            "incoming",
            "79219462761",
            "74996497803",
            &["trying", "finished"],
        ))
        .await
        .unwrap();
    t.log
        .apply(call(
            10,
            1_000,
            "new",
            "incoming",
            "79219462761",
            "74996497803",
            &["trying", "finished"],
        ))
        .await
        .unwrap();
    let report = t.log.prune(at(500)).await.unwrap();
    assert_eq!((report.calls, report.events), (1, 2));
    assert!(t.log.call("old").await.unwrap().is_none());
    assert!(t.log.call("new").await.unwrap().is_some());
    let found = t
        .log
        .history(
            HistoryFilter {
                search: Some("9462".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(found.calls.len(), 1);
    assert_eq!(t.log.integrity_check().await.unwrap(), ["ok"]);
    // The cursor survives: the relay must not resend what was pruned.
    assert_eq!(t.log.cursor().await.unwrap(), Some(11));
}

#[tokio::test]
async fn raw_events_go_by_their_own_cutoff_while_their_call_stays() {
    let t = TestLog::new();
    for (first_id, start, leg) in [(1, 0, "old"), (10, 1_000, "new")] {
        t.log
            .apply(call(
                first_id,
                start,
                leg,
                "incoming",
                "79219462761",
                "74996497803",
                &["trying", "finished"],
            ))
            .await
            .unwrap();
    }
    let before = t.log.call("old").await.unwrap().unwrap();
    let report = t
        .log
        .prune_to(PruneCutoffs {
            calls: None,
            events: Some(at(500)),
        })
        .await
        .unwrap();
    assert_eq!((report.calls, report.events), (0, 2), "{report:?}");
    // The call's row is all the screens need: it stays as it was.
    let after = t.log.call("old").await.unwrap().unwrap();
    assert_eq!(after.state, CallState::Finished);
    assert_eq!(after, before);
    assert!(t.log.call("new").await.unwrap().is_some());
    // The newer call's events were kept: a second pass finds nothing more to remove.
    let again = t
        .log
        .prune_to(PruneCutoffs {
            calls: None,
            events: Some(at(500)),
        })
        .await
        .unwrap();
    assert_eq!((again.calls, again.events), (0, 0));
    // Calls kept for ever and events kept for ever: nothing goes.
    let nothing = t.log.prune_to(PruneCutoffs::default()).await.unwrap();
    assert_eq!((nothing.calls, nothing.events), (0, 0));
    // The calls' own cutoff still takes a call with its remaining events.
    let calls = t
        .log
        .prune_to(PruneCutoffs {
            calls: Some(at(2_000)),
            events: None,
        })
        .await
        .unwrap();
    assert_eq!((calls.calls, calls.events), (2, 2), "{calls:?}");
    assert_eq!(t.log.integrity_check().await.unwrap(), ["ok"]);
    assert_eq!(t.log.cursor().await.unwrap(), Some(11));
}

#[tokio::test]
async fn the_history_exports_as_csv() {
    let t = TestLog::new();
    t.log
        .apply(numbered(1, &document_examples()))
        .await
        .unwrap();
    let file = t.dir.path().join("history.csv");
    let written = t
        .log
        .export_history_csv(&file, HistoryFilter::default())
        .await
        .unwrap();
    assert_eq!(written, 3);
    let mut reader = csv::Reader::from_path(&file).unwrap();
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "started_at");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let peer = headers.iter().position(|h| h == "peer_number").unwrap();
    assert!(rows.iter().any(|r| &r[peer] == "+79219462761"));
}

/// An export goes only into a new file: never over an existing one, and never through a link
/// (a dangling one would otherwise create a file wherever it points).
#[cfg(unix)]
#[tokio::test]
async fn an_export_never_overwrites_a_file_nor_follows_a_link() {
    let t = TestLog::new();
    t.log
        .apply(numbered(1, &document_examples()))
        .await
        .unwrap();
    let existing = t.dir.path().join("kept.csv");
    std::fs::write(&existing, "the operator's own file").unwrap();
    let refused = t
        .log
        .export_history_csv(&existing, HistoryFilter::default())
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("kept.csv"), "{refused}");
    assert_eq!(
        std::fs::read_to_string(&existing).unwrap(),
        "the operator's own file"
    );

    let elsewhere = t.dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let target = elsewhere.join("planted.csv");
    let link = t.dir.path().join("contacts.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    t.log.export_contacts_csv(&link).await.unwrap_err();
    assert!(!target.exists(), "the export followed a dangling link");
}

/// A cell a spreadsheet would run as a formula: what a caller named `=HYPERLINK(…)` could plant.
/// A bare telephone number (`+79219462761`) cannot call a function or name a cell.
fn is_formula(cell: &str) -> bool {
    let number = cell
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !number
}

#[tokio::test]
async fn the_history_export_never_writes_a_cell_a_spreadsheet_would_run() {
    let t = TestLog::new();
    let mut body: serde_json::Value = serde_json::from_str(&crate::harness::call_body(
        "leg-1",
        "finished",
        "incoming",
        "+79219462761",
        "883140777716581",
    ))
    .unwrap();
    let info = &mut body["result"]["callInfo"];
    info["caller"]["displayName"] = "=HYPERLINK(\"http://evil.example\",\"Ivan\")".into();
    info["callee"]["displayName"] = "@SUM(1+1)*cmd|' /C calc'!A0".into();
    info["reason"] = "-2+3+cmd|' /C calc'!A0".into();
    t.log
        .apply(vec![crate::harness::event(1, 0, &body.to_string())])
        .await
        .unwrap();
    let file = t.dir.path().join("history.csv");
    t.log
        .export_history_csv(&file, HistoryFilter::default())
        .await
        .unwrap();
    let mut reader = csv::Reader::from_path(&file).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(
        &row[column("caller_name")],
        "'=HYPERLINK(\"http://evil.example\",\"Ivan\")"
    );
    assert_eq!(&row[column("callee_name")], "'@SUM(1+1)*cmd|' /C calc'!A0");
    assert_eq!(&row[column("end_reason")], "'-2+3+cmd|' /C calc'!A0");
    // A telephone number stays usable: digits and `+ -()` cannot call a function or name a cell.
    assert_eq!(&row[column("caller_number")], "+79219462761");
    for cell in row.iter() {
        assert!(!is_formula(cell), "{cell:?} in {row:?}");
    }
}

#[tokio::test]
async fn forget_since_removes_the_calls_and_contacts_that_came_after_and_keeps_the_rest() {
    let t = TestLog::new();
    for (first, offset, leg) in [(1, 0, "before"), (10, 1_000, "after")] {
        t.log
            .apply(call(
                first,
                offset,
                leg,
                "incoming",
                "79219462761",
                "74996497803",
                &["trying", "finished"],
            ))
            .await
            .unwrap();
    }
    t.log
        .add_contact(call_log::NewContact {
            name: "Added in the team".into(),
            numbers: vec!["79219462761".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    // A moment after everything: nothing goes.
    let none = t
        .log
        .forget_since(chrono::Utc::now() + chrono::TimeDelta::hours(1))
        .await
        .unwrap();
    assert_eq!((none.calls, none.events, none.contacts), (0, 0, 0));
    let report = t.log.forget_since(at(500)).await.unwrap();
    assert_eq!((report.calls, report.events, report.contacts), (1, 2, 1));
    assert!(t.log.call("before").await.unwrap().is_some());
    assert!(t.log.call("after").await.unwrap().is_none());
    assert!(t.log.contacts(None, 10).await.unwrap().is_empty());
    let found = t
        .log
        .history(
            HistoryFilter {
                search: Some("9462".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(found.calls.len(), 1);
    assert_eq!(t.log.integrity_check().await.unwrap(), ["ok"]);
    assert_eq!(t.log.cursor().await.unwrap(), Some(11));
}
