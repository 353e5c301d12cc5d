//! The merge and the batch against the document's examples, in every order.

use chrono::TimeZone;
use mtt_api::notification::CallEvent;
use serde_json::Value;

use super::*;

/// The document's six complete notification examples, in its order.
const DOCUMENT_EXAMPLES: [&str; 6] = [
    include_str!("../../tests/fixtures/01_incoming_trying.json"),
    include_str!("../../tests/fixtures/02_outgoing_trying.json"),
    include_str!("../../tests/fixtures/03_recorded.json"),
    include_str!("../../tests/fixtures/04_showing.json"),
    include_str!("../../tests/fixtures/05_connected.json"),
    include_str!("../../tests/fixtures/06_finished.json"),
];
const DERIVED_RECORDED: &str = include_str!("../../tests/fixtures/07_recorded_outgoing_leg.json");

fn events(bodies: &[&str]) -> Vec<LoggedEvent> {
    let t0 = Utc.with_ymd_and_hms(2020, 6, 24, 12, 1, 45).unwrap();
    bodies
        .iter()
        .enumerate()
        .map(|(i, body)| LoggedEvent {
            relay_id: i64::try_from(i).unwrap() + 1,
            received_at: t0 + chrono::Duration::seconds(i64::try_from(i).unwrap() * 3),
            body: EventBody::parse(body.as_bytes()),
        })
        .collect()
}

/// Every permutation of `0..n` (Heap's algorithm).
fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn heap(k: usize, a: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if k <= 1 {
            out.push(a.clone());
            return;
        }
        heap(k - 1, a, out);
        for i in 0..k - 1 {
            if k.is_multiple_of(2) {
                a.swap(i, k - 1);
            } else {
                a.swap(0, k - 1);
            }
            heap(k - 1, a, out);
        }
    }
    let mut out = Vec::new();
    heap(n, &mut (0..n).collect(), &mut out);
    out
}

type Snapshot = (
    Vec<CallRow>,
    Vec<(String, String)>,
    Vec<(i64, String)>,
    Option<i64>,
    i64,
);

fn snapshot(conn: &Connection) -> Snapshot {
    let rows = conn
        .prepare(&format!(
            "SELECT {} FROM calls ORDER BY leg",
            *calls_table::SELECTED
        ))
        .unwrap()
        .query_map([], |r| Ok(calls_table::read(r)?.row))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    let workplaces = conn
        .prepare(
            "SELECT c.leg, w.sip_id FROM call_workplaces w JOIN calls c ON c.id = w.call_id \
             ORDER BY 1, 2",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    let events = conn
        .prepare("SELECT relay_id, raw FROM events ORDER BY relay_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    let found: i64 = conn
        .query_row(
            "SELECT count(*) FROM calls_search WHERE calls_search MATCH '\"9462761\"'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (rows, workplaces, events, read_cursor(conn).unwrap(), found)
}

#[test]
fn the_document_examples_give_one_final_state_in_every_order_applied_twice() {
    let mut conn = Connection::open_in_memory().unwrap();
    crate::schema::migrations().to_latest(&mut conn).unwrap();
    let events = events(&DOCUMENT_EXAMPLES);
    let mut expected: Option<Snapshot> = None;
    let orders = permutations(events.len());
    assert_eq!(orders.len(), 720);
    for order in orders {
        let tx = conn.transaction().unwrap();
        for &i in &order {
            let report = apply_batch(&tx, chrono_tz::Europe::Moscow, &events[i..=i]).unwrap();
            assert_eq!(report.applied, 1);
        }
        // The whole set again, as one batch in this order: nothing changes.
        let again: Vec<LoggedEvent> = order.iter().map(|&i| events[i].clone()).collect();
        let report = apply_batch(&tx, chrono_tz::Europe::Moscow, &again).unwrap();
        assert_eq!(
            (report.applied, report.duplicates, report.calls_changed),
            (0, 6, 0)
        );
        let got = snapshot(&tx);
        match &expected {
            None => expected = Some(got),
            Some(first) => assert_eq!(&got, first, "order {order:?}"),
        }
        tx.rollback().unwrap();
    }
    let (rows, workplaces, stored, cursor, found) = expected.unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(stored.len(), 6);
    assert_eq!(cursor, Some(6));
    assert_eq!(found, 1);
    let outgoing = rows
        .iter()
        .find(|r| r.leg.starts_with("SDfe2n901"))
        .unwrap();
    assert_eq!(outgoing.state, "finished");
    assert_eq!(outgoing.direction.as_deref(), Some("outgoing"));
    assert_eq!(outgoing.callee_number.as_deref(), Some("+79219462761"));
    assert_eq!(outgoing.peer_key.as_deref(), Some("79219462761"));
    assert_eq!(outgoing.line_number.as_deref(), Some("78005560251"));
    assert_eq!(
        outgoing.pbx_start_raw.as_deref(),
        Some("2020-06-24 15:01:45")
    );
    assert_eq!(outgoing.duration, Some(3));
    assert_eq!(
        outgoing.end_reason.as_deref(),
        Some("Originate leg disconnected")
    );
    assert_eq!(outgoing.answered_by.as_deref(), Some("883140582526566"));
    assert!(outgoing.answered_at.is_some() && !outgoing.missed);
    let incoming = rows.iter().find(|r| r.leg.starts_with("c166e238")).unwrap();
    assert_eq!(
        (incoming.state.as_str(), incoming.missed),
        ("trying", false)
    );
    assert_eq!(incoming.peer_key.as_deref(), Some("78124241500"));
    let recorded = rows
        .iter()
        .find(|r| r.leg.starts_with("SDvapac01"))
        .unwrap();
    assert_eq!(
        recorded.recording_url.as_deref(),
        Some("https://<serverhost>/<path>/<filename>.mp3")
    );
    assert_eq!(recorded.caller_number, None);
    assert!(workplaces.contains(&(recorded.leg.clone(), "883140777446532".into())));
    assert!(workplaces.contains(&(outgoing.leg.clone(), "883140582526566".into())));
}

#[test]
fn a_whole_leg_merges_to_one_row_in_every_order_and_recorded_keeps_the_parties() {
    let bodies = [
        DOCUMENT_EXAMPLES[1],
        DOCUMENT_EXAMPLES[3],
        DOCUMENT_EXAMPLES[4],
        DOCUMENT_EXAMPLES[5],
        DERIVED_RECORDED,
    ];
    let events = events(&bodies);
    let calls: Vec<(i64, i64, CallEvent)> = events
        .iter()
        .map(|e| match &e.body {
            EventBody::Notification(Notification::Call(c)) => {
                (e.relay_id, e.received_at.timestamp_micros(), c.clone())
            }
            other => panic!("not a call event: {other:?}"),
        })
        .collect();
    let mut first: Option<CallRow> = None;
    for order in permutations(calls.len()) {
        let (_, at0, c0) = &calls[order[0]];
        let mut row = CallRow::empty(c0.leg.as_str(), *at0);
        // Each event twice, the second time after all the others.
        for &i in order.iter().chain(order.iter()) {
            let (relay, at, call) = &calls[i];
            row.merge(*relay, *at, call, chrono_tz::Europe::Moscow);
        }
        match &first {
            None => first = Some(row),
            Some(expected) => assert_eq!(&row, expected, "order {order:?}"),
        }
    }
    let row = first.unwrap();
    assert_eq!(row.state, "recorded");
    assert_eq!(row.caller_number.as_deref(), Some("78005560251"));
    assert_eq!(row.callee_number.as_deref(), Some("+79219462761"));
    assert_eq!(
        row.recording_url.as_deref(),
        Some("https://<serverhost>/<path>/<filename>.mp3")
    );
    assert_eq!(row.duration, Some(3));
    assert!(row.answered_at.is_some());
}

#[test]
fn an_incoming_leg_that_ends_unanswered_is_missed_unless_routed() {
    let body = |state: &str| {
        format!(
            r#"{{"event":"callNotifications","result":{{"callInfo":{{"call":{{"id":"in-1"}},
            "state":"{state}","type":"Incoming","caller":{{"id":"79219462761"}},
            "callee":{{"id":"883140777716581"}}}}}}}}"#
        )
    };
    let bodies = [
        body("trying"),
        body("showing"),
        body("hiding"),
        body("finished"),
    ];
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let evs = events(&refs);
    let mut row = CallRow::empty("in-1", 0);
    for e in &evs {
        let EventBody::Notification(Notification::Call(c)) = &e.body else {
            panic!()
        };
        row.merge(
            e.relay_id,
            e.received_at.timestamp_micros(),
            c,
            chrono_tz::Europe::Moscow,
        );
    }
    assert!(row.missed);
    row.routed = true;
    row.derive_missed();
    assert!(!row.missed);
}

#[test]
fn bodies_that_are_not_notifications_are_kept_raw_and_do_not_fail_the_batch() {
    let mut conn = Connection::open_in_memory().unwrap();
    crate::schema::migrations().to_latest(&mut conn).unwrap();
    let tx = conn.transaction().unwrap();
    let evs = events(&[
        "not json at all",
        "[1,2]",
        r#"{"event":"somethingElse"}"#,
        DOCUMENT_EXAMPLES[0],
    ]);
    let report = apply_batch(&tx, chrono_tz::Europe::Moscow, &evs).unwrap();
    assert_eq!(
        (report.applied, report.not_call_events, report.calls_changed),
        (4, 3, 1)
    );
    let kinds: Vec<String> = tx
        .prepare("SELECT kind || ':' || raw FROM events ORDER BY relay_id LIMIT 3")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        kinds,
        vec![
            "raw:not json at all".to_owned(),
            "raw:[1,2]".to_owned(),
            r#"unknown:{"event":"somethingElse"}"#.to_owned()
        ]
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// A call event for leg `p` with any mix of the fields the merge looks at.
    fn arbitrary_event() -> impl Strategy<Value = Value> {
        let state = prop::sample::select(vec![
            "trying",
            "showing",
            "connected",
            "hiding",
            "finished",
            "recorded",
            "weird",
            "",
        ]);
        let number = prop::option::of(prop::sample::select(vec![
            "79219462761",
            "+79219462761",
            "883140777716581",
            "883140777716582",
            "74996497803",
        ]));
        let name = prop::option::of(prop::sample::select(vec!["", "Иван", "Anna"]));
        let direction = prop::option::of(prop::sample::select(vec!["incoming", "Outgoing"]));
        let start = prop::option::of(prop::sample::select(vec![
            "2020-06-24 15:01:45",
            "2020-06-24 15:01:55",
            "garbage",
        ]));
        (
            state,
            number.clone(),
            name,
            number,
            direction,
            start,
            prop::option::of(0u64..100),
        )
            .prop_map(
                |(state, caller, name, callee, direction, start, duration)| {
                    let mut info = json!({"call": {"id": "p"}, "state": state});
                    if let Some(caller) = caller {
                        info["caller"] = json!({"id": caller, "displayName": name});
                    }
                    if let Some(callee) = callee {
                        info["callee"] = json!({"accountId": callee});
                    }
                    if let Some(direction) = direction {
                        info["type"] = json!(direction);
                    }
                    if let Some(start) = start {
                        info["startTime"] = json!(start);
                    }
                    if let Some(duration) = duration {
                        info["duration"] = json!(duration);
                        info["urlRecord"] = json!(format!("https://r/{duration}.mp3"));
                    }
                    json!({"event": "callNotifications", "result": {"callInfo": info}})
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Any set of events, in any order and with repeats, merges to the same row.
        #[test]
        fn merging_is_order_independent_and_idempotent(
            bodies in prop::collection::vec((arbitrary_event(), 0i64..5), 1..7),
            order in Just(()).prop_perturb(|_, mut rng| rng.random::<u64>()),
        ) {
            let events: Vec<(i64, i64, CallEvent)> = bodies
                .into_iter()
                .enumerate()
                .map(|(i, (body, at))| {
                    let Ok(Notification::Call(call)) = Notification::from_value(body) else {
                        panic!("not a call event")
                    };
                    (i64::try_from(i).unwrap() + 1, at * 1_000_000, call)
                })
                .collect();
            let merge = |sequence: &[usize]| {
                let first = &events[sequence[0]];
                let mut row = CallRow::empty("p", first.1);
                for &i in sequence {
                    let (relay, at, call) = &events[i];
                    row.merge(*relay, *at, call, chrono_tz::Europe::Moscow);
                }
                row
            };
            let forward: Vec<usize> = (0..events.len()).collect();
            // A pseudo-random shuffle with repeats, from the drawn seed.
            let mut shuffled = forward.clone();
            let mut seed = order;
            for i in (1..shuffled.len()).rev() {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let j = usize::try_from(seed >> 33).unwrap() % (i + 1);
                shuffled.swap(i, j);
            }
            shuffled.extend(forward.iter().rev());
            prop_assert_eq!(merge(&forward), merge(&shuffled));
        }
    }
}

/// The document's `recorded` example with another address.
fn recorded_at(url: &str) -> String {
    let mut body: Value = serde_json::from_str(DOCUMENT_EXAMPLES[2]).unwrap();
    body["result"]["callInfo"]["urlRecord"] = Value::String(url.to_owned());
    body.to_string()
}

#[test]
fn a_recording_address_that_is_not_https_is_kept_raw_but_never_becomes_the_link() {
    let script = recorded_at("javascript:alert(document.cookie)");
    let remote_http = recorded_at("http://records.example.com/leg.mp3");
    let valid = recorded_at("https://records.mtt.ru/leg.mp3");
    // The refused addresses come first and last, so that the valid one wins by neither order
    // nor id: a refused address counts as none.
    let bodies = [script.as_str(), valid.as_str(), remote_http.as_str()];
    let events = events(&bodies);
    let mut conn = Connection::open_in_memory().unwrap();
    crate::schema::migrations().to_latest(&mut conn).unwrap();
    let mut expected: Option<Snapshot> = None;
    for order in permutations(events.len()) {
        let tx = conn.transaction().unwrap();
        for &i in &order {
            apply_batch(&tx, chrono_tz::Europe::Moscow, &events[i..=i]).unwrap();
        }
        let got = snapshot(&tx);
        match &expected {
            None => expected = Some(got),
            Some(first) => assert_eq!(&got, first, "order {order:?}"),
        }
        tx.rollback().unwrap();
    }
    let (rows, _, stored, _, _) = expected.unwrap();
    let [row] = rows.as_slice() else {
        panic!("{rows:?}")
    };
    assert_eq!(
        row.recording_url.as_deref(),
        Some("https://records.mtt.ru/leg.mp3")
    );
    assert_eq!(row.recorded_relay, Some(2), "the valid event's");
    // Every event is kept as it came, the refused addresses included.
    assert_eq!(stored.len(), 3);
    assert!(stored[0].1.contains("javascript:alert(document.cookie)"));
    assert!(stored[2].1.contains("http://records.example.com/leg.mp3"));

    // Alone, a refused address leaves the call without a link, and the event still stored.
    let tx = conn.transaction().unwrap();
    let only = &events[..1];
    let report = apply_batch(&tx, chrono_tz::Europe::Moscow, only).unwrap();
    assert_eq!(report.applied, 1);
    let (rows, _, stored, _, _) = snapshot(&tx);
    assert_eq!(rows[0].recording_url, None);
    assert_eq!(rows[0].state, "recorded");
    assert_eq!(stored.len(), 1);
}

#[test]
fn a_refused_address_an_earlier_version_kept_is_taken_off_when_the_log_is_upgraded() {
    let mut conn = Connection::open_in_memory().unwrap();
    crate::schema::migrations()
        .to_version(&mut conn, 2)
        .unwrap();
    let script = recorded_at("javascript:alert(1)");
    let valid = recorded_at("https://records.mtt.ru/leg.mp3");
    let mut other: Value = serde_json::from_str(&recorded_at("javascript:alert(2)")).unwrap();
    other["result"]["callInfo"]["call"]["id"] = Value::String("other-leg".into());
    let other = other.to_string();
    let mut fine: Value =
        serde_json::from_str(&recorded_at("https://records.mtt.ru/fine.mp3")).unwrap();
    fine["result"]["callInfo"]["call"]["id"] = Value::String("fine-leg".into());
    let fine = fine.to_string();
    let events = events(&[
        script.as_str(),
        valid.as_str(),
        other.as_str(),
        fine.as_str(),
    ]);
    apply_batch(&conn, chrono_tz::Europe::Moscow, &events).unwrap();
    // As an earlier version left them: the first `recorded` won, whatever its address.
    conn.execute(
        "UPDATE calls SET recording_url = 'javascript:alert(1)', recorded_relay = 1, \
         recorded_at = ?1 WHERE recorded_relay = 2",
        [events[0].received_at.timestamp_micros()],
    )
    .unwrap();
    conn.execute(
        "UPDATE calls SET recording_url = 'javascript:alert(2)', recorded_relay = 3, \
         recorded_at = ?1 WHERE leg = 'other-leg'",
        [events[2].received_at.timestamp_micros()],
    )
    .unwrap();
    let (_, _, stored_before, _, _) = snapshot(&conn);

    crate::schema::migrations().to_latest(&mut conn).unwrap();
    let (rows, _, stored, _, _) = snapshot(&conn);
    let link = |leg: &str| {
        let row = rows.iter().find(|r| r.leg.starts_with(leg)).unwrap();
        (row.recording_url.clone(), row.recorded_relay)
    };
    let leg = rows
        .iter()
        .find(|r| r.recorded_relay == Some(2))
        .map(|r| r.leg.clone())
        .expect("the valid recording was picked again");
    assert_eq!(
        link(&leg),
        (Some("https://records.mtt.ru/leg.mp3".into()), Some(2))
    );
    assert_eq!(link("other-leg"), (None, None));
    assert_eq!(
        link("fine-leg"),
        (Some("https://records.mtt.ru/fine.mp3".into()), Some(4))
    );
    assert_eq!(stored, stored_before, "every raw event is kept");
}
