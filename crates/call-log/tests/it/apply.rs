//! Applying through the public API: batches, order, replays, concurrency.

use call_log::{EventBody, HistoryFilter, LoggedEvent};
use mtt_api::notification::CallState;

use crate::harness::{TestLog, derived_recorded, document_examples, numbered};

const OUTGOING_LEG: &str = "SDfe2n901-b510751695c9e53584301f0c0e8d98c9200@127.0.0.1";

async fn final_rows(events: Vec<Vec<LoggedEvent>>) -> Vec<call_log::CallRecord> {
    let t = TestLog::new();
    for batch in events {
        t.log.apply(batch).await.unwrap();
    }
    let mut calls = t
        .log
        .history(HistoryFilter::default(), None, 100)
        .await
        .unwrap()
        .calls;
    calls.sort_by(|a, b| a.leg.cmp(&b.leg));
    for c in &mut calls {
        // Row ids follow the order legs were first seen; everything else must not.
        c.id = 0;
    }
    calls
}

#[tokio::test]
async fn batches_orders_and_replays_give_the_same_rows() {
    let mut bodies = document_examples();
    bodies.push(derived_recorded());
    let events = numbered(1, &bodies);
    let forward = final_rows(vec![events.clone()]).await;
    let mut reversed = events.clone();
    reversed.reverse();
    let one_by_one_reversed: Vec<Vec<LoggedEvent>> =
        reversed.iter().map(|e| vec![e.clone()]).collect();
    assert_eq!(final_rows(one_by_one_reversed).await, forward);
    let halves = vec![events[4..].to_vec(), events[..4].to_vec(), events.clone()];
    assert_eq!(final_rows(halves).await, forward);

    assert_eq!(forward.len(), 3);
    let outgoing = forward.iter().find(|c| c.leg == OUTGOING_LEG).unwrap();
    assert_eq!(outgoing.state, CallState::Recorded);
    assert_eq!(outgoing.callee_number.as_deref(), Some("+79219462761"));
    assert_eq!(outgoing.caller_number.as_deref(), Some("78005560251"));
    assert!(outgoing.recording_url.is_some());
    assert_eq!(outgoing.duration_secs, Some(3));
    assert_eq!(
        outgoing.pbx_start_raw.as_deref(),
        Some("2020-06-24 15:01:45")
    );
    assert_eq!(
        outgoing.pbx_start.map(|t| t.to_rfc3339()),
        Some("2020-06-24T12:01:45+00:00".to_owned())
    );
}

#[tokio::test]
async fn a_replayed_event_changes_nothing_and_the_cursor_only_moves_forward() {
    let t = TestLog::new();
    let events = numbered(10, &document_examples());
    let first = t.log.apply(events.clone()).await.unwrap();
    assert_eq!(
        (first.applied, first.duplicates, first.cursor),
        (6, 0, Some(15))
    );
    let before = t.log.call(OUTGOING_LEG).await.unwrap();
    let again = t.log.apply(events[..2].to_vec()).await.unwrap();
    assert_eq!(
        (again.applied, again.duplicates, again.calls_changed),
        (0, 2, 0)
    );
    assert_eq!(again.cursor, Some(15));
    assert_eq!(t.log.call(OUTGOING_LEG).await.unwrap(), before);
    // A late, lower relay id is still stored, but the cursor stays at the highest.
    let late = numbered(
        3,
        &[r#"{"event":"vpbxNotifications","result":{"eventType":"numbersChanged"}}"#],
    );
    let report = t.log.apply(late).await.unwrap();
    assert_eq!(
        (report.applied, report.not_call_events, report.cursor),
        (1, 1, Some(15))
    );
}

#[tokio::test]
async fn malformed_bodies_are_kept_and_the_rest_of_the_batch_applies() {
    let t = TestLog::new();
    let mut events = numbered(1, &document_examples());
    events.insert(
        2,
        LoggedEvent {
            relay_id: 100,
            received_at: crate::harness::at(0),
            body: EventBody::parse(b"\xff\xfe not json"),
        },
    );
    let report = t.log.apply(events).await.unwrap();
    assert_eq!((report.applied, report.not_call_events), (7, 1));
    assert_eq!(report.cursor, Some(100));
    assert!(t.log.call(OUTGOING_LEG).await.unwrap().is_some());
}

#[tokio::test]
async fn clones_apply_concurrently_and_every_event_lands_once() {
    let t = TestLog::new();
    let mut tasks = Vec::new();
    for worker in 0..4_i64 {
        let log = t.log.clone();
        tasks.push(tokio::spawn(async move {
            for batch in 0..10_i64 {
                let base = worker * 1_000 + batch * 10;
                let bodies: Vec<String> = (0..10)
                    .map(|i| {
                        crate::harness::call_body(
                            &format!("leg-{worker}-{batch}-{i}"),
                            "trying",
                            "incoming",
                            "79219462761",
                            "74996497803",
                        )
                    })
                    .collect();
                let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
                log.apply(numbered(base, &refs)).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let pop = t.log.screen_pop("+7 921 946 27 61", None).await.unwrap();
    assert_eq!(pop.earlier_calls, 400);
}

#[tokio::test]
async fn calls_new_in_one_batch_take_ids_in_order_of_their_start() {
    let t = TestLog::new();
    let bodies: Vec<String> = (0..50)
        .map(|i| {
            crate::harness::call_body(
                &format!("leg-{i:02}"),
                "trying",
                "incoming",
                "79219462761",
                "101",
            )
        })
        .collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let mut events = numbered(1, &refs);
    events.reverse();
    t.log.apply(events).await.unwrap();
    let page = t
        .log
        .history(HistoryFilter::default(), None, 100)
        .await
        .unwrap();
    let ids: Vec<i64> = page.calls.iter().map(|c| c.id).collect();
    let mut descending = ids.clone();
    descending.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, descending, "newest start must have the highest id");
}
