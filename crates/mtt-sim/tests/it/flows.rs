//! Every call flow end to end, with millisecond timings.

use std::sync::Arc;
use std::time::Duration;

use mtt_sim::{ManualClock, Sim};
use serde_json::json;

use crate::util::*;

#[tokio::test]
async fn make_call_rings_the_operator_then_the_callee_and_ends_with_a_recording() {
    let h = Harness::start().await;
    let (status, answer) = h
        .api_post(
            "makeCall",
            json!({"params": {"callerId": ANNA, "calleeId": "89219462761"}}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["success"], 1);
    let make_call_id = answer["result"]["call"]["id"].as_str().unwrap().to_owned();
    assert!(make_call_id.ends_with("@10.133.51.137"), "{make_call_id}");

    let first = h.hooks.wait_until("trying", |b| !b.is_empty()).await;
    let leg_id = leg(&first[0]).to_owned();
    assert!(
        leg_id.starts_with("SD") && leg_id.ends_with("@127.0.0.1"),
        "{leg_id}"
    );
    // The operator picks up (the leg shows the number being called), then the callee.
    h.control_post("/answer", json!({"call": make_call_id, "by": ANNA}))
        .await;
    h.hooks.wait_for_state(&leg_id, "showing").await;
    h.control_post("/answer", json!({"call": leg_id, "by": "callee"}))
        .await;
    h.hooks.wait_for_state(&leg_id, "connected").await;
    h.control_post("/hangup", json!({"call": leg_id, "by": "caller"}))
        .await;
    let ns = h.hooks.wait_for_state(&leg_id, "recorded").await;
    let states: Vec<&str> = ns.iter().map(state_of).collect();
    assert_eq!(
        states,
        ["trying", "showing", "connected", "finished", "recorded"]
    );
    let finished = info(&ns[3]);
    assert_eq!(finished["reason"], "Originate leg disconnected");
    assert!(finished["reasonCode"].is_null());
    assert_eq!(finished["duration"], 0);
    assert_eq!(finished["callee"]["id"], "79219462761");
    assert_eq!(info(&ns[0])["callee"]["id"], "+79219462761");
    assert_eq!(info(&ns[0])["caller"]["accountId"], ANNA);
    assert_eq!(info(&ns[4])["accountId"], ANNA);

    // The recording is a real MP3 on the simulator, and it can be fetched in pieces.
    let url = info(&ns[4])["urlRecord"].as_str().unwrap().to_owned();
    assert!(url.starts_with(h.sim.api_url()), "{url}");
    let whole = h.http.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "audio/mpeg");
    assert_eq!(whole.bytes().await.unwrap(), mtt_sim::RECORDING_MP3);
    let part = h
        .http
        .get(&url)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    let total = mtt_sim::RECORDING_MP3.len();
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{total}").as_str()
    );
    assert_eq!(
        part.bytes().await.unwrap(),
        &mtt_sim::RECORDING_MP3[100..200]
    );
}

#[tokio::test]
async fn an_operator_who_never_answers_ends_the_attempt_after_the_no_answer_window() {
    let h = Harness::start().await;
    let started = tokio::time::Instant::now();
    let (status, _) = h
        .api_post(
            "makeCall",
            json!({"params": {"callerId": PETROV, "calleeId": "79219462761"}}),
        )
        .await;
    assert_eq!(status, 200);
    let first = h.hooks.wait_until("trying", |b| !b.is_empty()).await;
    let leg_id = leg(&first[0]).to_owned();
    let ns = h.hooks.wait_for_state(&leg_id, "finished").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    let states: Vec<&str> = ns.iter().map(state_of).collect();
    assert_eq!(states, ["trying", "finished"]);
    assert_eq!(info(&ns[1])["reason"], "Originate leg no answer");
    assert_eq!(info(&ns[1])["duration"], 0);
    // Nothing was connected, so nothing is recorded.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(h.hooks.all().iter().all(|n| state_of(n) != "recorded"));
}

#[tokio::test]
async fn an_incoming_call_rings_the_group_and_the_others_hide_when_one_answers() {
    let h = Harness::start().await;
    let call = h
        .incoming(CALLER, MAIN_NUMBER, json!({"caller_name": "Соколов Игорь"}))
        .await;
    let leg_id = call["leg_id"].as_str().unwrap().to_owned();
    h.hooks.wait_until("three showings", |b| b.len() >= 4).await;
    h.control_post("/answer", json!({"call": leg_id, "by": PETROV}))
        .await;
    h.hooks.wait_for_state(&leg_id, "connected").await;
    h.control_post("/hangup", json!({"call": leg_id, "by": PETROV}))
        .await;
    let ns = h.hooks.wait_for_state(&leg_id, "recorded").await;
    assert_eq!(
        sequence(&ns),
        [
            "trying".to_owned(),
            format!("showing:{ANNA}"),
            format!("showing:{PETROV}"),
            format!("showing:{SMIRNOVA}"),
            format!("connected:{PETROV}"),
            format!("hiding:{ANNA}"),
            format!("hiding:{SMIRNOVA}"),
            "finished".to_owned(),
            "recorded".to_owned(),
        ]
    );
    assert_eq!(info(&ns[0])["caller"]["displayName"], "Соколов Игорь");
    assert_eq!(
        info(&ns[0])["caller"]["accountId"],
        format!("{CALLER}@pstn")
    );
    assert_eq!(info(&ns[4])["callee"]["displayName"], "Петров Сергей");
    assert_eq!(
        info(&ns[4])["callee"]["forwarderList"],
        json!([MAIN_NUMBER])
    );
    assert_eq!(info(&ns[7])["reason"], "Terminate leg disconnected");
    assert_eq!(info(&ns[7])["callee"]["id"], PETROV);
    assert_eq!(info(&ns[8])["accountId"], PETROV);
}

#[tokio::test]
async fn a_call_nobody_answers_walks_the_routing_and_is_missed() {
    let h = Harness::start().await;
    let call = h.incoming(CALLER, MAIN_NUMBER, json!({})).await;
    let leg_id = call["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&leg_id, "finished").await;
    assert_eq!(
        sequence(&ns),
        [
            "trying".to_owned(),
            format!("showing:{ANNA}"),
            format!("showing:{PETROV}"),
            format!("showing:{SMIRNOVA}"),
            format!("hiding:{ANNA}"),
            format!("hiding:{PETROV}"),
            format!("hiding:{SMIRNOVA}"),
            format!("showing:{RECEPTION}"),
            format!("hiding:{RECEPTION}"),
            "finished".to_owned(),
        ]
    );
    let finished = info(&ns[9]);
    assert_eq!(finished["reason"], "No answer");
    assert_eq!(finished["reasonCode"], 480);
    assert_eq!(finished["duration"], 0);
    assert_eq!(finished["callee"]["id"], MAIN_NUMBER);
}

#[tokio::test]
async fn a_caller_who_hangs_up_while_ringing_leaves_a_missed_call() {
    let h = Harness::start().await;
    let call = h
        .incoming(CALLER, MAIN_NUMBER, json!({"caller_gives_up_ms": 40}))
        .await;
    let leg_id = call["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&leg_id, "finished").await;
    let last = info(ns.last().unwrap());
    assert_eq!(last["reason"], "Caller hung up");
    assert_eq!(ns.iter().filter(|n| state_of(n) == "hiding").count(), 3);
}

async fn park(h: &Harness) {
    let (status, answer) = h
        .api_post(
            "setParkingNumbers",
            json!({"params": {"numbers": [MAIN_NUMBER], "isParking": true}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer, json!({"success": 1}));
}

#[tokio::test]
async fn a_parked_call_falls_back_to_routing_when_nobody_decides_within_the_window() {
    let h = Harness::start().await;
    park(&h).await;
    let started = tokio::time::Instant::now();
    let call = h.incoming(CALLER, MAIN_NUMBER, json!({})).await;
    let parking = call["parking_leg_id"].as_str().unwrap().to_owned();
    let main = call["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&parking, "finished").await;
    assert_eq!(
        ns.iter().map(state_of).collect::<Vec<_>>(),
        ["trying", "finished"]
    );
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "the window was not waited for"
    );
    assert_eq!(info(&ns[1])["reason"], "Parking timeout");
    assert!(parking.ends_with("~2o"), "{parking}");
    let ns = h.hooks.wait_for_state(&main, "showing").await;
    assert_eq!(state_of(&ns[0]), "trying");
    assert_eq!(info(&ns[1])["callee"]["id"], ANNA);
    // The parking leg's trying came first of all.
    assert_eq!(leg(&h.hooks.all()[0]), parking);
}

#[tokio::test]
async fn transfer_call_on_the_parking_leg_sends_the_call_straight_to_the_manager() {
    let h = Harness::with(|c| c.timings.parking_window_ms = 5_000).await;
    park(&h).await;
    let started = tokio::time::Instant::now();
    let call = h.incoming(CALLER, MAIN_NUMBER, json!({})).await;
    let parking = call["parking_leg_id"].as_str().unwrap().to_owned();
    let main = call["leg_id"].as_str().unwrap().to_owned();
    let trying = h.hooks.wait_for_state(&parking, "trying").await;
    let (call_ref, transport) = Harness::leg_ref(&trying[0]);
    let (status, answer) = h
        .api_post(
            "transferCall",
            json!({"params": {"call": call_ref, "calleeId": KUZNETSOV, "transportId": transport}}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, json!({"result": {"success": 1}}));
    let ns = h.hooks.wait_for_state(&main, "showing").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the 5 s window was waited for"
    );
    assert_eq!(
        sequence(&ns),
        ["trying".to_owned(), format!("showing:{KUZNETSOV}")]
    );
    let parking_ns: Vec<_> = h
        .hooks
        .all()
        .into_iter()
        .filter(|n| leg(n) == parking)
        .collect();
    assert_eq!(info(&parking_ns[1])["reason"], "Parking transferred by API");
}

#[tokio::test]
async fn leg_requests_are_logged_with_their_answers_and_a_failing_transfer_can_be_injected() {
    let h = Harness::with(|c| c.timings.parking_window_ms = 5_000).await;
    park(&h).await;
    let call = h.incoming(CALLER, MAIN_NUMBER, json!({})).await;
    let parking = call["parking_leg_id"].as_str().unwrap().to_owned();
    let trying = h.hooks.wait_for_state(&parking, "trying").await;
    let (call_ref, transport) = Harness::leg_ref(&trying[0]);
    let (status, _) = h
        .control(
            reqwest::Method::PUT,
            "/faults",
            Some(json!({"transferCall": {"latency_ms": 30, "failure_rate": 1.0, "failure_status": 502}})),
        )
        .await;
    assert!(status.is_success());
    let before = chrono::Utc::now();
    let (status, _) = h
        .api_post(
            "transferCall",
            json!({"params": {"call": call_ref, "calleeId": KUZNETSOV, "transportId": transport}}),
        )
        .await;
    assert_eq!(status, 502);
    let (status, _) = h
        .api_post(
            "terminateCall",
            json!({"params": {"call": call_ref, "transportId": transport}}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, all) = h.control(reqwest::Method::GET, "/requests", None).await;
    let all = all.as_array().unwrap().clone();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0]["method"], "transferCall");
    assert_eq!(all[0]["leg_id"], parking.as_str());
    assert_eq!(all[0]["callee_id"], KUZNETSOV);
    assert_eq!(all[0]["status"], 502);
    // Received before the injected latency, not after it.
    let received: chrono::DateTime<chrono::Utc> =
        all[0]["received_at"].as_str().unwrap().parse().unwrap();
    assert!(
        received >= before - chrono::Duration::milliseconds(5),
        "{received} {before}"
    );
    assert_eq!(
        (all[1]["method"].as_str(), all[1]["status"].as_u64()),
        (Some("terminateCall"), Some(200))
    );
    let (_, later) = h
        .control(
            reqwest::Method::GET,
            "/requests?method=transferCall&since=1",
            None,
        )
        .await;
    assert_eq!(later, json!([]));
}

#[tokio::test]
async fn terminate_call_on_the_parking_leg_routes_at_once() {
    let h = Harness::with(|c| c.timings.parking_window_ms = 5_000).await;
    park(&h).await;
    let started = tokio::time::Instant::now();
    let call = h.incoming(CALLER, MAIN_NUMBER, json!({})).await;
    let parking = call["parking_leg_id"].as_str().unwrap().to_owned();
    let main = call["leg_id"].as_str().unwrap().to_owned();
    let trying = h.hooks.wait_for_state(&parking, "trying").await;
    let (call_ref, transport) = Harness::leg_ref(&trying[0]);
    let (status, _) = h
        .api_post(
            "terminateCall",
            json!({"params": {"call": call_ref, "transportId": transport}}),
        )
        .await;
    assert_eq!(status, 200);
    let ns = h.hooks.wait_for_state(&main, "showing").await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(info(&ns[1])["callee"]["id"], ANNA);
    // The parking leg is gone: a second terminate is refused.
    let (status, _) = h
        .api_post(
            "terminateCall",
            json!({"params": {"call": call_ref, "transportId": transport}}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn transferring_a_ringing_call_moves_it_to_the_target() {
    let h = Harness::start().await;
    let call = h.incoming(CALLER, MAIN_NUMBER, json!({})).await;
    let main = call["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&main, "showing").await;
    let (call_ref, transport) = Harness::leg_ref(&ns[0]);
    let (status, _) = h
        .api_post(
            "transferCall",
            json!({"params": {"call": call_ref, "calleeId": RECEPTION, "transportId": transport}}),
        )
        .await;
    assert_eq!(status, 200);
    let ns = h
        .hooks
        .wait_until("showing at reception", |b| {
            b.iter()
                .any(|n| state_of(n) == "showing" && info(n)["callee"]["id"] == RECEPTION)
        })
        .await;
    let seq = sequence(&ns);
    assert_eq!(
        seq[4..],
        [
            format!("hiding:{ANNA}"),
            format!("hiding:{PETROV}"),
            format!("hiding:{SMIRNOVA}"),
            format!("showing:{RECEPTION}"),
        ]
    );
    h.control_post("/answer", json!({"call": main, "by": RECEPTION}))
        .await;
    let ns = h.hooks.wait_for_state(&main, "connected").await;
    assert_eq!(info(ns.last().unwrap())["callee"]["id"], RECEPTION);
}

#[tokio::test]
async fn transferring_an_answered_call_puts_the_caller_through_to_the_target() {
    let h = Harness::start().await;
    // A telephone number as target: the external party answers after the callee delay.
    let call = h
        .incoming(CALLER, MAIN_NUMBER, json!({"callee_answer_ms": 20}))
        .await;
    let main = call["leg_id"].as_str().unwrap().to_owned();
    h.hooks.wait_for_state(&main, "showing").await;
    h.control_post("/answer", json!({"call": main, "by": ANNA}))
        .await;
    let ns = h.hooks.wait_for_state(&main, "connected").await;
    let (call_ref, transport) = Harness::leg_ref(ns.last().unwrap());
    let (status, _) = h
        .api_post(
            "transferCall",
            json!({"params": {"call": call_ref, "calleeId": "79031112233", "transportId": transport}}),
        )
        .await;
    assert_eq!(status, 200);
    let ns = h
        .hooks
        .wait_until("connected to the number", |b| {
            b.iter()
                .any(|n| state_of(n) == "connected" && info(n)["callee"]["id"] == "79031112233")
        })
        .await;
    let seq = sequence(&ns);
    let after_answer = seq
        .iter()
        .position(|s| *s == format!("connected:{ANNA}"))
        .unwrap();
    assert_eq!(
        seq[after_answer..],
        [
            format!("connected:{ANNA}"),
            format!("hiding:{PETROV}"),
            format!("hiding:{SMIRNOVA}"),
            format!("hiding:{ANNA}"),
            "showing:79031112233".to_owned(),
            "connected:79031112233".to_owned(),
        ]
    );
}

#[tokio::test]
async fn terminate_call_on_a_ringing_leg_continues_along_the_routing() {
    let h = Harness::with(|c| c.timings.ring_timeout_ms = 5_000).await;
    let call = h.incoming(CALLER, MAIN_NUMBER, json!({})).await;
    let main = call["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&main, "showing").await;
    let (call_ref, transport) = Harness::leg_ref(&ns[0]);
    let (status, _) = h
        .api_post(
            "terminateCall",
            json!({"params": {"call": call_ref, "transportId": transport}}),
        )
        .await;
    assert_eq!(status, 200);
    let ns = h
        .hooks
        .wait_until("the next group", |b| {
            b.iter()
                .any(|n| state_of(n) == "showing" && info(n)["callee"]["id"] == RECEPTION)
        })
        .await;
    assert_eq!(ns.iter().filter(|n| state_of(n) == "hiding").count(), 3);
}

#[tokio::test]
async fn settings_changes_emit_vpbx_notifications() {
    let h = Harness::start().await;
    h.control_post(
        "/workplaces",
        json!({"workplace": "883140777999001", "name": "Новый оператор", "terminals": ["883140777999002"]}),
    )
    .await;
    h.control_post("/numbers", json!({"number": "74951112233"}))
        .await;
    let (status, _) = h
        .control(reqwest::Method::DELETE, "/workplaces/883140777999001", None)
        .await;
    assert_eq!(status, 200);
    let ns = h.hooks.wait_until("three changes", |b| b.len() >= 3).await;
    let kinds: Vec<&str> = ns
        .iter()
        .map(|n| n["result"]["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["workplacesChanged", "numbersChanged", "workplacesChanged"]
    );
    let (_, numbers) = h.api_get("externalNumbersInfo").await;
    assert_eq!(numbers["result"]["total"], 6);
}

#[tokio::test]
async fn durations_follow_the_clock_and_runs_repeat_with_the_seed() {
    let hooks = Receiver::start().await;
    let mut config = fast_config(&hooks);
    config.timings.operator_answer_ms = Some(1_000);
    config.timings.callee_answer_ms = Some(2_000);
    config.timings.talk_ms = Some(3_000);
    config.timings.operator_no_answer_ms = 60_000;
    config.timings.ring_timeout_ms = 30_000;
    let start = chrono::DateTime::parse_from_rfc3339("2020-06-24T12:01:45Z")
        .unwrap()
        .to_utc();
    let clock = ManualClock::new(start);
    let sim = Sim::start_with_clock(config.clone(), Arc::new(clock.clone()))
        .await
        .unwrap();
    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/tokens", sim.control_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/makeCall", sim.api_url()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({"params": {"callerId": ANNA, "calleeId": "89219462761"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    hooks.wait_until("trying", |b| !b.is_empty()).await;
    // Time stands still until the test moves it.
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(hooks.all().len(), 1);
    for _ in 0..3 {
        clock.advance(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ns = hooks.wait_until("connected", |b| b.len() >= 3).await;
    assert_eq!(info(&ns[0])["startTime"], "2020-06-24 15:01:45");
    assert_eq!(info(&ns[2])["startTime"], "2020-06-24 15:01:48");
    for _ in 0..3 {
        clock.advance(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ns = hooks.wait_until("finished", |b| b.len() >= 4).await;
    assert_eq!(info(&ns[3])["duration"], 3);
    assert_eq!(info(&ns[3])["reason"], "Terminate leg disconnected");
    sim.shutdown().await;

    // The same seed gives the same ids.
    let again = Receiver::start().await;
    let mut config2 = fast_config(&again);
    config2.seed = config.seed;
    let sim = Sim::start(config2).await.unwrap();
    let token: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/tokens", sim.control_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reqwest::Client::new()
        .post(format!("{}/makeCall", sim.api_url()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({"params": {"callerId": ANNA, "calleeId": "89219462761"}}))
        .send()
        .await
        .unwrap();
    let repeat = again.wait_until("trying", |b| !b.is_empty()).await;
    assert_eq!(info(&repeat[0])["call"], info(&ns[0])["call"]);
    sim.shutdown().await;
}
