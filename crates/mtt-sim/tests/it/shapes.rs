//! Notifications compared with the document's examples, field by field.
//!
//! With a manual clock set to the examples' times and the examples' parties, the simulator's
//! notifications must equal the document's except for the randomly drawn leg id, tag and
//! transport id.

use std::sync::Arc;
use std::time::Duration;

use mtt_sim::{ManualClock, Sim, SimConfig};
use serde_json::{Value, json};

use crate::util::*;

/// One of the document's examples, from the verbatim copies in `mtt-api`'s test fixtures (the
/// one copy of them in the repository; reading the document's text is not sharing the client's
/// wire types).
fn example(name: &str) -> String {
    let path = format!(
        "{}/../mtt-api/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Our notification with the example's leg id, tag, transport id (and, where the example has
/// a placeholder, URL) put in, so the rest can be compared exactly.
fn with_examples_ids(ours: &Value, example: &Value) -> Value {
    let mut ours = ours.clone();
    let info = &mut ours["result"]["callInfo"];
    let ex = &example["result"]["callInfo"];
    info["call"] = ex["call"].clone();
    if ex.get("transportId").is_some() {
        info["transportId"] = ex["transportId"].clone();
    }
    if ex.get("urlRecord").is_some() {
        info["urlRecord"] = ex["urlRecord"].clone();
    }
    ours
}

fn assert_like(ours: &Value, example: &str) {
    let example: Value = serde_json::from_str(example).unwrap();
    assert_eq!(
        with_examples_ids(ours, &example),
        example,
        "\nours:    {ours}\nexample: {example}"
    );
}

async fn settle(clock: &ManualClock, seconds: u64) {
    for _ in 0..seconds {
        clock.advance(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn outgoing_notifications_equal_the_documents_examples() {
    let hooks = Receiver::start().await;
    let mut config = fast_config(&hooks);
    config.timings.operator_answer_ms = Some(4_000);
    config.timings.callee_answer_ms = Some(6_000);
    config.timings.operator_no_answer_ms = 60_000;
    config.timings.ring_timeout_ms = 30_000;
    let clock = ManualClock::new(
        chrono::DateTime::parse_from_rfc3339("2020-06-24T12:01:45Z")
            .unwrap()
            .to_utc(),
    );
    let sim = Sim::start_with_clock(config, Arc::new(clock.clone()))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/tokens", sim.control_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .post(format!("{}/makeCall", sim.api_url()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({"params": {"calleeId": "89219462761", "callerId": "883140582526566"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ns = hooks.wait_until("trying", |b| !b.is_empty()).await;
    assert_like(&ns[0], &example("call_outgoing_trying.json"));
    settle(&clock, 10).await;
    let ns = hooks.wait_until("connected", |b| b.len() >= 3).await;
    // `showing` (the operator picked up; the number is being called) repeats the trying example
    // with another state.
    assert_like(
        &ns[1],
        &example("call_outgoing_trying.json").replace("\"trying\"", "\"showing\""),
    );
    assert_like(&ns[2], &example("call_connected.json"));
    settle(&clock, 3).await;
    let leg_id = leg(&ns[0]).to_owned();
    let r = http
        .post(format!("{}/hangup", sim.control_url()))
        .json(&json!({"call": leg_id, "by": "caller"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ns = hooks.wait_until("finished", |b| b.len() >= 4).await;
    assert_like(&ns[3], &example("call_finished.json"));
    clock.advance(Duration::from_secs(1));
    let ns = hooks.wait_until("recorded", |b| b.len() >= 5).await;
    // The document's recorded example is for another workplace; ours names the operator.
    assert_like(
        &ns[4],
        &example("call_recorded.json").replace("883140777446532", "883140582526566"),
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn incoming_trying_equals_the_documents_example() {
    let hooks = Receiver::start().await;
    let mut config = fast_config(&hooks);
    config.account.centrex_id = "67821426".to_owned();
    let clock = ManualClock::new(
        chrono::DateTime::parse_from_rfc3339("2020-06-02T08:18:16Z")
            .unwrap()
            .to_utc(),
    );
    let sim = Sim::start_with_clock(config, Arc::new(clock))
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/incoming", sim.control_url()))
        .json(&json!({"from": "78124241500", "to": "74996497803"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ns = hooks.wait_until("trying", |b| !b.is_empty()).await;
    assert_like(&ns[0], &example("call_incoming_trying.json"));
    sim.shutdown().await;
}

#[tokio::test]
async fn parking_legs_and_settings_notifications_have_the_documents_shapes() {
    let h = Harness::start().await;
    h.api_post(
        "setParkingNumbers",
        json!({"params": {"numbers": ["74996497803"], "isParking": true}}),
    )
    .await;
    let call = h.incoming("78124241500", "74996497803", json!({})).await;
    let parking = call["parking_leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&parking, "trying").await;
    // The incoming example describes a parked call: same shape, apart from the clock, the
    // ids and the account's centrexId.
    let mut ours = ns[0].clone();
    let incoming: Value = serde_json::from_str(&example("call_incoming_trying.json")).unwrap();
    ours["result"]["callInfo"]["startTime"] = incoming["result"]["callInfo"]["startTime"].clone();
    ours["result"]["callInfo"]["callee"]["centrexId"] = json!("67821426");
    assert_like(&ours, &example("call_incoming_trying.json"));
    let start = ns[0]["result"]["callInfo"]["startTime"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(start, "%Y-%m-%d %H:%M:%S").is_ok(),
        "{start}"
    );

    h.control_post("/workplaces", json!({"workplace": "883140777999001"}))
        .await;
    h.control(reqwest::Method::DELETE, "/numbers/78123334455", None)
        .await;
    let all = h
        .hooks
        .wait_until("settings", |b| {
            b.iter()
                .filter(|n| n["event"] == "vpbxNotifications")
                .count()
                >= 2
        })
        .await;
    let settings: Vec<&Value> = all
        .iter()
        .filter(|n| n["event"] == "vpbxNotifications")
        .collect();
    assert_eq!(
        *settings[0],
        serde_json::from_str::<Value>(&example("vpbx_workplaces_changed.json")).unwrap()
    );
    assert_eq!(
        *settings[1],
        serde_json::from_str::<Value>(&example("vpbx_numbers_changed.json")).unwrap()
    );
}

#[tokio::test]
async fn every_state_has_the_keys_of_its_example() {
    // Keys of callInfo per state, from the document (hiding: the truncated example is taken
    // to have showing's keys).
    let with_start = [
        "call",
        "callee",
        "caller",
        "startTime",
        "state",
        "transportId",
        "type",
    ];
    let finished = [
        "call",
        "callee",
        "caller",
        "duration",
        "reason",
        "reasonCode",
        "state",
        "transportId",
        "type",
    ];
    let recorded = ["accountId", "call", "state", "urlRecord"];
    let h = Harness::with(|c: &mut SimConfig| {
        c.traffic = None;
        c.timings.incoming_answer_ms = Some(10);
        c.timings.talk_ms = Some(10);
    })
    .await;
    let call = h.incoming(CALLER, MAIN_NUMBER, json!({})).await;
    let main = call["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&main, "recorded").await;
    let mut seen = std::collections::BTreeSet::new();
    for n in &ns {
        let state = state_of(n).to_owned();
        let mut keys: Vec<&str> = info(n)
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let expected: &[&str] = match state.as_str() {
            "finished" => &finished,
            "recorded" => &recorded,
            _ => &with_start,
        };
        assert_eq!(keys, expected, "{state}: {n}");
        if state != "recorded" {
            assert_eq!(info(n)["type"], "incoming");
            assert!(info(n)["call"]["tag"].is_string());
        } else {
            let call_keys: Vec<&String> = info(n)["call"].as_object().unwrap().keys().collect();
            assert_eq!(call_keys, ["id"]);
        }
        seen.insert(state);
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            "connected",
            "finished",
            "hiding",
            "recorded",
            "showing",
            "trying"
        ]
    );
}
