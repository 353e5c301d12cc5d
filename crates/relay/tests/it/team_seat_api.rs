//! The checked PBX API for seats, against the simulator: relay + simulator + two seats (an
//! operator and a supervisor). The operator dials from their own workplace (the simulator sees
//! it), is refused dialling from a colleague's and hanging up a colleague's call (the simulator
//! never sees either), the supervisor may; every action is in the audit log; the operator's
//! stream carries no colleague's call event and presence carries no number or name.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use relay::seats::InviteCode;
use relay::store::audit::{AuditQuery, Outcome};
use relay::store::team::{NewSeat, SeatRef};
use serde_json::{Value, json};
use team_api::Role;

use crate::team_integration::{Team, connect, team, wait_for};
use crate::util::{SseReader, TestRelay};

const WAIT: Duration = Duration::from_secs(20);
pub(crate) const ANNA: &str = "883140582526566";
pub(crate) const SERGEY: &str = "883140777446532";

/// A seat at `workplace`, joined: its credential.
pub(crate) async fn joined(relay: &TestRelay, name: &str, workplace: &str, role: Role) -> String {
    joined_seat(relay, name, workplace, role).await.1
}

/// A seat at `workplace`, joined through `POST /team/join`: its number and credential.
pub(crate) async fn joined_seat(
    relay: &TestRelay,
    name: &str,
    workplace: &str,
    role: Role,
) -> (i64, String) {
    let state = relay.handle.state();
    let seat = state
        .team
        .add_seat(NewSeat {
            name: name.into(),
            workplace: workplace.into(),
            role,
        })
        .await
        .unwrap();
    let code = InviteCode::generate().unwrap();
    state
        .team
        .add_invite(
            SeatRef::Id(seat.profile.id),
            code.hash(),
            Utc::now() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    let answer: Value = relay
        .http
        .post(format!("{}/team/join", relay.base))
        .json(&json!({ "code": code.expose_secret() }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        seat.profile.id,
        answer["credential"].as_str().unwrap().to_owned(),
    )
}

async fn post(relay: &TestRelay, credential: &str, path: &str, body: Value) -> (u16, Value) {
    let response = relay
        .http
        .post(format!("{}{path}", relay.base))
        .bearer_auth(credential)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(relay: &TestRelay, credential: &str, path: &str) -> (u16, Value) {
    let response = relay
        .http
        .get(format!("{}{path}", relay.base))
        .bearer_auth(credential)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The simulator's calls, ended ones included.
async fn sim_calls(team: &Team) -> Vec<Value> {
    team.relay
        .http
        .get(format!("{}/calls?all=true", team.sim.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn transfer_requests(team: &Team) -> Vec<Value> {
    team.relay
        .http
        .get(format!(
            "{}/requests?method=transferCall",
            team.sim.control_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn terminate_requests(team: &Team) -> Vec<Value> {
    team.relay
        .http
        .get(format!(
            "{}/requests?method=terminateCall",
            team.sim.control_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_act_on_their_own_workplace_only_and_supervisors_on_any() {
    let team = team().await;
    let relay = &team.relay;
    connect(&team).await;
    let operator = joined(relay, "Анна", ANNA, Role::Operator).await;
    let supervisor = joined(relay, "Сергей", SERGEY, Role::Supervisor).await;
    let mut operator_stream = SseReader::new(
        relay
            .http
            .get(format!("{}/events/stream", relay.base))
            .bearer_auth(&operator)
            .send()
            .await
            .unwrap(),
    );

    // The operator dials from their own workplace: the PBX places it.
    let (status, dialled) = post(
        relay,
        &operator,
        "/team/dial",
        json!({ "number": "79001234567" }),
    )
    .await;
    assert_eq!(status, 200, "{dialled}");
    assert_eq!(dialled["workplace"], ANNA);
    let leg = dialled["legId"].as_str().unwrap().to_owned();
    let calls = sim_calls(&team).await;
    assert!(
        calls
            .iter()
            .any(|call| call["from"] == ANNA && call["make_call_id"] == leg.as_str()),
        "{calls:?}"
    );

    // From a colleague's workplace: refused, and the PBX never hears of it.
    let (status, refused) = post(
        relay,
        &operator,
        "/team/dial",
        json!({ "number": "79001234568", "workplace": SERGEY }),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("not_your_workplace")),
        "{refused}"
    );
    assert!(
        !sim_calls(&team)
            .await
            .iter()
            .any(|call| call["from"] == SERGEY),
        "the PBX saw a dial the relay refused"
    );

    // A colleague's call, live at the PBX (nobody answers by themselves).
    let started = relay
        .http
        .post(format!("{}/outgoing", team.sim.control_url()))
        .json(&json!({ "caller_id": SERGEY, "callee_id": "79005550000", "manual": true }))
        .send()
        .await
        .unwrap();
    assert!(
        started.status().is_success(),
        "{}",
        started.text().await.unwrap()
    );
    let mut colleague_leg = String::new();
    wait_for("the relay to see the colleague's call", async || {
        let (_, live) = get(relay, &supervisor, "/team/calls").await;
        match live["calls"].as_array().and_then(|calls| {
            calls.iter().find(|call| {
                call["workplaces"]
                    .as_array()
                    .is_some_and(|w| w.contains(&json!(SERGEY)))
            })
        }) {
            Some(call) => {
                colleague_leg = call["legId"].as_str().unwrap().to_owned();
                true
            }
            None => false,
        }
    })
    .await;
    // The operator's own view of live calls does not show it.
    let (_, mine) = get(relay, &operator, "/team/calls").await;
    assert!(
        !mine.to_string().contains(&colleague_leg),
        "an operator sees a colleague's live call: {mine}"
    );

    // The operator may transfer their own call (the PBX hears of it, whatever it answers), and not
    // the colleague's (it never hears of that).
    // makeCall's answer id is not the leg's `call.id` (the document's example shows two formats):
    // the leg is found by its workplace.
    let mut own_leg = String::new();
    wait_for("the relay to see the operator's own call", async || {
        let (_, live) = get(relay, &operator, "/team/calls").await;
        match live["calls"].as_array().and_then(|calls| calls.first()) {
            Some(call) => {
                own_leg = call["legId"].as_str().unwrap().to_owned();
                true
            }
            None => false,
        }
    })
    .await;
    let (status, own) = post(
        relay,
        &operator,
        "/team/transfer",
        json!({ "legId": own_leg, "target": "883140777551201" }),
    )
    .await;
    assert!(
        status == 200 || (status == 502 && own["code"] == "pbx_refused"),
        "{status} {own}"
    );
    let (status, refused) = post(
        relay,
        &operator,
        "/team/transfer",
        json!({ "legId": colleague_leg, "target": ANNA }),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("not_your_call")),
        "{refused}"
    );
    let transfers = transfer_requests(&team).await;
    assert_eq!(transfers.len(), 1, "{transfers:?}");
    assert_eq!(transfers[0]["leg_id"], own_leg.as_str());

    // The operator may not hang it up; the PBX never hears of it.
    let (status, refused) = post(
        relay,
        &operator,
        "/team/hangup",
        json!({ "legId": colleague_leg }),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("not_your_call")),
        "{refused}"
    );
    assert!(terminate_requests(&team).await.is_empty());
    // Parking is for admins.
    let response = relay
        .http
        .put(format!("{}/team/parking", relay.base))
        .bearer_auth(&supervisor)
        .json(&json!({ "numbers": ["78005560251"], "parking": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);

    // The supervisor may.
    let (status, done) = post(
        relay,
        &supervisor,
        "/team/hangup",
        json!({ "legId": colleague_leg }),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    let requests = terminate_requests(&team).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["leg_id"], colleague_leg.as_str());

    // Every action is in the audit log, refusals with their reason.
    let entries = relay
        .handle
        .state()
        .audit
        .entries(AuditQuery::default())
        .await
        .unwrap();
    let summary: Vec<(&str, Outcome, Option<&str>)> = entries
        .iter()
        .map(|e| {
            (
                e.entry.action.as_str(),
                e.entry.outcome,
                e.entry.code.as_deref(),
            )
        })
        .collect();
    // The operator's own transfer reached the PBX: done, or refused by it for the call's phase.
    let own_transfer = summary[2];
    assert!(
        own_transfer == ("transfer", Outcome::Done, None)
            || own_transfer == ("transfer", Outcome::Failed, Some("pbx_refused")),
        "{own_transfer:?}"
    );
    assert_eq!(
        summary[..2],
        [
            ("dial", Outcome::Done, None),
            ("dial", Outcome::Refused, Some("not_your_workplace")),
        ]
    );
    assert_eq!(
        summary[3..],
        [
            ("transfer", Outcome::Refused, Some("not_your_call")),
            ("hangup", Outcome::Refused, Some("not_your_call")),
            ("parking", Outcome::Refused, Some("role_required")),
            ("hangup", Outcome::Done, None),
        ]
    );

    // The operator's stream: their own call events, presence without numbers or names, and
    // nothing of the colleague's call.
    let mut saw_own_call = false;
    let mut saw_colleague_presence = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline && !(saw_own_call && saw_colleague_presence) {
        let Some(frame) = operator_stream.next_event(Duration::from_secs(2)).await else {
            continue;
        };
        let data = frame.json();
        match frame.event.as_deref() {
            Some("callNotifications") => {
                let body = data["body"].to_string();
                assert!(
                    !body.contains(SERGEY),
                    "an operator got a colleague's call event: {body}"
                );
                assert!(body.contains(ANNA), "{body}");
                saw_own_call = true;
            }
            Some("presence") => {
                let body = &data["body"];
                let mut keys: Vec<&str> = body
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect();
                keys.sort_unstable();
                assert_eq!(keys, ["presence", "workplace"], "{body}");
                let text = body.to_string();
                assert!(!text.contains("7900"), "presence carries a number: {text}");
                if body["workplace"] == SERGEY {
                    saw_colleague_presence = true;
                }
            }
            _ => {}
        }
    }
    assert!(
        saw_own_call,
        "the operator's stream never carried their own call"
    );
    assert!(
        saw_colleague_presence,
        "the operator never saw the colleague's presence"
    );
}

pub(crate) fn call_event(leg: &str, state: &str, caller: &str, callee: &str) -> String {
    json!({
        "event": "callNotifications",
        "result": {"callInfo": {
            "state": state,
            "type": "incoming",
            "call": {"id": leg, "tag": format!("t-{leg}")},
            "transportId": "10.0.0.1:5070",
            "caller": {"id": caller, "displayName": "Иван Петров"},
            "callee": {"id": callee},
        }}
    })
    .to_string()
}

/// Every event of a stream opened from the start, up to the end-of-backlog marker.
pub(crate) async fn backlog(relay: &TestRelay, credential: &str) -> Vec<crate::util::Frame> {
    let mut stream = SseReader::new(
        relay
            .http
            .get(format!("{}/events/stream", relay.base))
            .bearer_auth(credential)
            .send()
            .await
            .unwrap(),
    );
    let mut frames = Vec::new();
    while let Some(frame) = stream.next_frame(WAIT).await {
        match frame.event.as_deref() {
            Some("caught-up") => break,
            Some("epoch" | "resync") | None => {}
            Some(_) => frames.push(frame),
        }
    }
    frames
}

#[tokio::test(flavor = "multi_thread")]
async fn the_backlog_replayed_on_resume_is_filtered_per_seat_like_the_live_stream() {
    let relay = crate::util::start().await;
    let operator = joined(&relay, "Анна", ANNA, Role::Operator).await;
    let supervisor = joined(&relay, "Сергей", SERGEY, Role::Supervisor).await;
    relay
        .post_ok(&call_event("mine", "connected", "79001234567", ANNA))
        .await;
    relay
        .post_ok(&call_event("theirs", "connected", "79007654321", SERGEY))
        .await;
    relay
        .post_ok(r#"{"event":"vpbxNotifications","result":{"event":"numbersChanged"}}"#)
        .await;
    // The relay's own presence events are stored after the call events that caused them.
    wait_for("both workplaces' presence", async || {
        backlog(&relay, &supervisor)
            .await
            .iter()
            .filter(|frame| frame.event.as_deref() == Some("presence"))
            .count()
            >= 2
    })
    .await;

    let seen = backlog(&relay, &operator).await;
    let calls: Vec<String> = seen
        .iter()
        .filter(|frame| frame.event.as_deref() == Some("callNotifications"))
        .map(|frame| frame.json()["body"].to_string())
        .collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].contains("\"mine\""), "{calls:?}");
    assert!(
        seen.iter()
            .any(|frame| frame.event.as_deref() == Some("vpbxNotifications")),
        "directory changes reach operators"
    );
    let presence: Vec<Value> = seen
        .iter()
        .filter(|frame| frame.event.as_deref() == Some("presence"))
        .map(|frame| frame.json()["body"].clone())
        .collect();
    assert!(
        presence.iter().any(|body| body["workplace"] == SERGEY),
        "{presence:?}"
    );
    for body in &presence {
        let text = body.to_string();
        assert!(!text.contains("7900") && !text.contains("Иван"), "{text}");
    }
    // Supervisors get every call event.
    let supervisor_calls = backlog(&relay, &supervisor)
        .await
        .iter()
        .filter(|frame| frame.event.as_deref() == Some("callNotifications"))
        .count();
    assert_eq!(supervisor_calls, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_seat_api_requests_get_a_clear_4xx_and_store_nothing() {
    let relay = crate::util::start().await;
    let operator = joined(&relay, "Анна", ANNA, Role::Operator).await;
    let cases = [
        (
            "/team/dial",
            json!({ "number": "79001234567", "extra": 1 }),
            400,
            "bad_request",
        ),
        (
            "/team/dial",
            json!({ "number": "8 (900) abc" }),
            400,
            "bad_request",
        ),
        ("/team/dial", json!({}), 400, "bad_request"),
        (
            "/team/transfer",
            json!({ "legId": "x", "target": "abc" }),
            400,
            "bad_request",
        ),
        ("/team/hangup", json!({ "leg": "x" }), 400, "bad_request"),
    ];
    for (path, body, status, code) in cases {
        let (got, answer) = post(&relay, &operator, path, body.clone()).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{path} {body}: {answer}"
        );
    }
    let (status, answer) = post(
        &relay,
        "tks_0000000000000000_nope",
        "/team/dial",
        json!({ "number": "1" }),
    )
    .await;
    assert_eq!(status, 401, "{answer}");
    let huge = relay
        .http
        .post(format!("{}/team/dial", relay.base))
        .bearer_auth(&operator)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"number\":\"{}\"}}",
            "1".repeat(10 * 1024 * 1024)
        ))
        .send()
        .await;
    if let Ok(response) = huge {
        assert_eq!(response.status(), 413);
    }
    let entries = relay
        .handle
        .state()
        .audit
        .entries(AuditQuery::default())
        .await
        .unwrap();
    assert!(entries.is_empty(), "{entries:?}");
    // The relay lives.
    let (status, _) = get(&relay, &operator, "/team/presence").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missed_call_is_offered_to_every_operator_and_the_first_call_back_clears_it() {
    let team = team().await;
    let relay = &team.relay;
    connect(&team).await;
    let anna = joined(relay, "Анна", ANNA, Role::Operator).await;
    let olga = joined(relay, "Ольга", "883140777551201", Role::Operator).await;
    let mut olga_stream = SseReader::new(
        relay
            .http
            .get(format!("{}/events/stream", relay.base))
            .bearer_auth(&olga)
            .send()
            .await
            .unwrap(),
    );
    // A customer calls the company and gives up before anyone answers.
    let started: Value = relay
        .http
        .post(format!("{}/incoming", team.sim.control_url()))
        .json(&json!({ "from": "79161234567", "to": "78005560251", "manual": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let call = started["leg_id"].as_str().unwrap().to_owned();
    wait_for("the call to ring", async || {
        sim_calls(&team)
            .await
            .iter()
            .any(|c| c["phase"] == "ringing" || c["phase"] == "parking")
    })
    .await;
    let hangup = relay
        .http
        .post(format!("{}/hangup", team.sim.control_url()))
        .json(&json!({ "call": call, "by": "caller" }))
        .send()
        .await
        .unwrap();
    assert!(
        hangup.status().is_success(),
        "{}",
        hangup.text().await.unwrap()
    );
    wait_for("the missed call to be offered", async || {
        let (_, queue) = get(relay, &anna, "/team/callbacks").await;
        queue["offers"]
            .as_array()
            .is_some_and(|offers| offers.iter().any(|o| o["number"] == "79161234567"))
    })
    .await;

    // Anna calls back first: the offer is cleared for everyone.
    let (status, dialled) = post(
        relay,
        &anna,
        "/team/dial",
        json!({ "number": "79161234567" }),
    )
    .await;
    assert_eq!(status, 200, "{dialled}");
    let (_, queue) = get(relay, &olga, "/team/callbacks").await;
    assert_eq!(queue["offers"], json!([]), "{queue}");
    // Olga's stream carried the offer and then its clearing by Anna's seat.
    let mut changes = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while changes.len() < 2 && tokio::time::Instant::now() < deadline {
        if let Some(frame) = olga_stream.next_event(Duration::from_secs(2)).await
            && frame.event.as_deref() == Some("callbackQueue")
        {
            changes.push(frame.json()["body"].clone());
        }
    }
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["change"], "offered");
    assert_eq!(changes[0]["number"], "79161234567");
    assert_eq!(changes[0]["companyNumber"], "78005560251");
    assert_eq!(changes[1]["change"], "cleared");
    assert_eq!(changes[1]["bySeat"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_directory_is_cached_and_read_again_after_the_pbx_says_it_changed() {
    let team = team().await;
    let relay = &team.relay;
    connect(&team).await;
    let anna = joined(relay, "Анна", ANNA, Role::Operator).await;
    let (status, first) = get(relay, &anna, "/team/directory").await;
    assert_eq!(status, 200, "{first}");
    let (_, again) = get(relay, &anna, "/team/directory").await;
    assert_eq!(
        first["fetchedAt"], again["fetchedAt"],
        "the second read came from the cache"
    );
    let added = relay
        .http
        .post(format!("{}/workplaces", team.sim.control_url()))
        .json(&json!({ "workplace": "883140777999001", "name": "Новый" }))
        .send()
        .await
        .unwrap();
    assert!(
        added.status().is_success(),
        "{}",
        added.text().await.unwrap()
    );
    wait_for("the new workplace in the directory", async || {
        get(relay, &anna, "/team/directory")
            .await
            .1
            .to_string()
            .contains("883140777999001")
    })
    .await;
}

/// The app gives up on the relay after 3 s and tells the operator to dial from their phone, so a
/// seat's action must be answered before that: a PBX slower than the relay's action deadline
/// gets 504 `pbx_timeout` (it may or may not have happened; it is not sent again), never a late
/// success behind the app's back.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_pbx_gets_the_seat_an_answer_before_the_apps_ceiling() {
    let team = team().await;
    let relay = &team.relay;
    connect(&team).await;
    let operator = joined(relay, "Анна", ANNA, Role::Operator).await;
    let slow = relay
        .http
        .put(format!("{}/faults", team.sim.control_url()))
        .json(&json!({ "makeCall": { "latency_ms": 6000, "failure_rate": 0.0 } }))
        .send()
        .await
        .unwrap();
    assert!(slow.status().is_success(), "{}", slow.text().await.unwrap());
    let (status, body) = post(
        relay,
        &operator,
        "/team/dial",
        json!({ "number": "+79219462761" }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (504, Some("pbx_timeout")),
        "{body}"
    );
    assert!(
        relay::integration::SEAT_ACTION_DEADLINE < Duration::from_secs(3),
        "the relay's deadline for actions must stay below the app's 3 s ceiling"
    );
}

/// A seat's request that goes away while the PBX call is in flight (the app gave up, the
/// connection broke) does not take the audit-log entry with it: the PBX may have placed the
/// call, so the relay finishes the action and records it.
#[tokio::test(flavor = "multi_thread")]
async fn a_dial_whose_request_goes_away_midway_is_still_in_the_audit_log() {
    let team = team().await;
    let relay = &team.relay;
    connect(&team).await;
    let operator = joined(relay, "Анна", ANNA, Role::Operator).await;
    let slow = relay
        .http
        .put(format!("{}/faults", team.sim.control_url()))
        .json(&json!({ "makeCall": { "latency_ms": 800, "failure_rate": 0.0 } }))
        .send()
        .await
        .unwrap();
    assert!(slow.status().is_success(), "{}", slow.text().await.unwrap());
    let gave_up = relay
        .http
        .post(format!("{}/team/dial", relay.base))
        .bearer_auth(&operator)
        .json(&json!({ "number": "+79219462761" }))
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(
        gave_up.as_ref().is_err_and(reqwest::Error::is_timeout),
        "the seat was meant to give up first: {gave_up:?}"
    );
    wait_for("the dial in the audit log", async || {
        let entries = relay
            .handle
            .state()
            .audit
            .entries(AuditQuery::default())
            .await
            .unwrap();
        entries
            .iter()
            .any(|e| e.entry.action == "dial" && e.entry.outcome == Outcome::Done)
    })
    .await;
    let placed = sim_calls(&team).await;
    assert!(
        placed.iter().any(|c| c["direction"] == "outgoing"),
        "the PBX placed the call: {placed:?}"
    );
}
