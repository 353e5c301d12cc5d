//! The traffic generator's mix, and every notification it produces read back by the client
//! crate's parser (`mtt-api`), which was written separately from the same document.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use mtt_api::notification::{CallState, Direction, Notification};
use mtt_sim::wire;
use serde_json::{Value, json};

use crate::util::*;

/// Compares one party as the client parsed it with the simulator's own view of it.
fn same_party(theirs: Option<&mtt_api::notification::Party>, ours: Option<&wire::Party>) {
    match (theirs, ours) {
        (None, None) => {}
        (Some(t), Some(o)) => {
            assert_eq!(t.account_id, o.account_id);
            assert_eq!(t.centrex_id, o.centrex_id);
            assert_eq!(t.display_id.as_deref(), Some(o.display_id.as_str()));
            assert_eq!(t.display_name, o.display_name);
            assert_eq!(t.forwarder_list, o.forwarder_list);
            assert_eq!(t.id.as_deref(), Some(o.id.as_str()));
        }
        (t, o) => panic!("party parsed as {t:?}, sent as {o:?}"),
    }
}

fn check_with_client_parser(body: &Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let ours: wire::Notification = serde_json::from_value(body.clone()).unwrap();
    let theirs = Notification::parse(&bytes).unwrap();
    match (&theirs, &ours) {
        (Notification::Call(c), wire::Notification::Call(o)) => {
            let o = &o.call_info;
            assert_eq!(c.leg.as_str(), o.call.id);
            assert_eq!(c.tag, o.call.tag);
            assert_eq!(c.state.as_wire(), o.state.as_str());
            let direction = o.direction.map(|d| match d {
                wire::Direction::Incoming => Direction::Incoming,
                wire::Direction::Outgoing => Direction::Outgoing,
            });
            assert_eq!(c.direction, direction);
            same_party(c.caller.as_ref(), o.caller.as_ref());
            same_party(c.callee.as_ref(), o.callee.as_ref());
            assert_eq!(c.start_time.as_ref().map(|t| t.raw.clone()), o.start_time);
            if let Some(t) = &c.start_time {
                assert!(t.local.is_some(), "startTime {:?} did not parse", t.raw);
            }
            assert_eq!(c.transport_id, o.transport_id);
            assert_eq!(c.duration, o.duration);
            assert_eq!(c.reason, o.reason);
            assert_eq!(c.reason_code, o.reason_code.flatten().map(|v| json!(v)));
            assert_eq!(c.url_record, o.url_record);
            assert_eq!(c.account_id, o.account_id);
            assert_eq!(&c.raw, body);
        }
        (Notification::Pbx(p), wire::Notification::Pbx(o)) => {
            let expected = match o.event_type {
                wire::PbxEventType::NumbersChanged => "NumbersChanged",
                wire::PbxEventType::WorkplacesChanged => "WorkplacesChanged",
            };
            assert_eq!(format!("{:?}", p.kind), expected);
        }
        (theirs, _) => panic!("the client read {body} as {theirs:?}"),
    }
}

#[tokio::test]
async fn the_generated_mix_is_varied_and_every_notification_parses_with_the_client_crate() {
    // The parking window is shortened like every human delay (time scale 0.002), so parked
    // calls do time out instead of their callers giving up first.
    let h = Harness::with(|c| {
        c.timings.record_delay_ms = 1;
        c.timings.parking_window_ms = 10;
    })
    .await;
    // Settings changes and a parked call, so those shapes are in the sample too.
    h.api_post(
        "setParkingNumbers",
        json!({"params": {"numbers": ["74957775511"], "isParking": true}}),
    )
    .await;
    h.control_post(
        "/workplaces",
        json!({"workplace": "883140777999001", "name": ""}),
    )
    .await;
    h.control_post("/numbers", json!({"number": "74951112233"}))
        .await;
    h.control_post(
        "/traffic",
        json!({"calls_per_second": 250.0, "time_scale": 0.002}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, _) = h.control(reqwest::Method::DELETE, "/traffic", None).await;
    assert_eq!(status, 200);
    // Let the calls in flight end (the longest generated call lasts well under a second here,
    // a parked one the parking window more).
    let all = h
        .hooks
        .wait_until("the calls in flight to end", |b| {
            let mut open: BTreeMap<&str, bool> = BTreeMap::new();
            for n in b.iter().filter(|n| n["event"] == "callNotifications") {
                let s = state_of(n);
                open.insert(leg(n), !matches!(s, "finished" | "recorded"));
            }
            b.len() > 200 && open.values().all(|still| !still)
        })
        .await;

    for body in &all {
        check_with_client_parser(body);
    }

    let calls: Vec<&Value> = all
        .iter()
        .filter(|n| n["event"] == "callNotifications")
        .collect();
    let directions: BTreeSet<&str> = calls
        .iter()
        .filter_map(|n| info(n)["type"].as_str())
        .collect();
    assert_eq!(directions, BTreeSet::from(["incoming", "outgoing"]));
    let named = calls
        .iter()
        .filter(|n| info(n)["type"] == "incoming" && info(n)["caller"]["displayName"].is_string())
        .count();
    let unnamed = calls
        .iter()
        .filter(|n| info(n)["type"] == "incoming" && info(n)["caller"].get("displayName").is_none())
        .count();
    assert!(named > 0 && unnamed > 0, "named {named}, unnamed {unnamed}");
    let reasons: BTreeSet<&str> = calls
        .iter()
        .filter(|n| state_of(n) == "finished")
        .filter_map(|n| info(n)["reason"].as_str())
        .collect();
    for expected in [
        "Caller hung up",
        "Originate leg disconnected",
        "Terminate leg disconnected",
        "Parking timeout",
    ] {
        assert!(
            reasons.contains(expected),
            "no {expected:?} among {reasons:?}"
        );
    }
    assert!(calls.iter().any(|n| state_of(n) == "recorded"));
    // A transfer shows as the connected workplace hiding and another being shown afterwards.
    let transferred = calls.iter().any(|n| {
        state_of(n) == "hiding"
            && calls.iter().any(|m| {
                leg(m) == leg(n)
                    && state_of(m) == "connected"
                    && m["result"]["callInfo"]["callee"]["id"] == info(n)["callee"]["id"]
            })
    });
    assert!(transferred, "no transferred call in the sample");
    let kinds: BTreeSet<&str> = all
        .iter()
        .filter_map(|n| n["result"]["eventType"].as_str())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["numbersChanged", "workplacesChanged"])
    );
    let states: BTreeSet<String> = calls
        .iter()
        .filter_map(
            |n| match Notification::parse(&serde_json::to_vec(n).unwrap()).unwrap() {
                Notification::Call(c) => Some(c.state),
                _ => None,
            },
        )
        .map(|s: CallState| s.as_wire().to_owned())
        .collect();
    assert_eq!(states.len(), 6, "{states:?}");
}
