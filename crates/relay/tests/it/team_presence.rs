//! Colleagues' presence and availability (issue #16, items 5–6): a seat sets its availability
//! and every colleague's stream carries it; a seat whose stream drops reads Offline and is back
//! to what it set when it reconnects; an operator cannot set a colleague's (a supervisor may);
//! `GET /team/colleagues` gives names, workplaces, roles, presence and availability, and no
//! caller's number or name.

use std::time::Duration;

use serde_json::{Value, json};
use team_api::Role;

use crate::team_seat_api::joined_seat as joined;
use crate::util::{SseReader, TestRelay};

const WAIT: Duration = Duration::from_secs(20);
const SERGEY: &str = "883140777446532";
const ANNA: &str = "883140582526566";
const BORIS: &str = "883140582526567";
async fn stream(relay: &TestRelay, credential: &str) -> SseReader {
    let response = relay
        .http
        .get(format!("{}/events/stream", relay.base))
        .bearer_auth(credential)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    SseReader::new(response)
}

async fn set(relay: &TestRelay, credential: &str, body: Value) -> (u16, Value) {
    let response = relay
        .http
        .put(format!("{}/team/availability", relay.base))
        .bearer_auth(credential)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn colleagues(relay: &TestRelay, credential: &str) -> Vec<Value> {
    let response = relay
        .http
        .get(format!("{}/team/colleagues", relay.base))
        .bearer_auth(credential)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["colleagues"].as_array().unwrap().clone()
}

fn colleague(list: &[Value], seat: i64) -> Value {
    list.iter()
        .find(|c| c["seat"] == seat)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Reads `stream` until an event of `kind` whose body `matches`; fails after [`WAIT`].
async fn wait_event(stream: &mut SseReader, kind: &str, matches: impl Fn(&Value) -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        let Some(frame) = stream.next_event(Duration::from_secs(1)).await else {
            continue;
        };
        if frame.event.as_deref() == Some(kind) && matches(&frame.json()["body"]) {
            return;
        }
    }
    panic!("no {kind} event as expected within {WAIT:?}");
}

fn availability_of(seat: i64, availability: &'static str) -> impl Fn(&Value) -> bool {
    move |body| body["seat"] == seat && body["availability"] == availability
}

#[tokio::test(flavor = "multi_thread")]
async fn availability_is_set_streamed_offline_on_a_dropped_stream_and_restored_on_reconnect() {
    let relay = crate::util::start().await;
    let (anna, anna_key) = joined(&relay, "Анна", ANNA, Role::Operator).await;
    let (boris, boris_key) = joined(&relay, "Борис", BORIS, Role::Operator).await;
    let (_, sergey_key) = joined(&relay, "Сергей", SERGEY, Role::Supervisor).await;
    let mut watching = stream(&relay, &boris_key).await;

    // Nobody has connected Anna's app yet: colleagues see her offline.
    let list = colleagues(&relay, &boris_key).await;
    assert_eq!(
        colleague(&list, anna)["availability"],
        "offline",
        "{list:?}"
    );

    let anna_stream = stream(&relay, &anna_key).await;
    wait_event(
        &mut watching,
        "availability",
        availability_of(anna, "available"),
    )
    .await;

    let (status, answer) = set(&relay, &anna_key, json!({ "availability": "break" })).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["set"], "break");
    assert_eq!(answer["availability"], "break");
    wait_event(
        &mut watching,
        "availability",
        availability_of(anna, "break"),
    )
    .await;

    // Offline is not something one sets.
    let (status, answer) = set(&relay, &anna_key, json!({ "availability": "offline" })).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("bad_request"))
    );

    // The app closes (its stream drops): Offline; it comes back: still on the break.
    drop(anna_stream);
    wait_event(
        &mut watching,
        "availability",
        availability_of(anna, "offline"),
    )
    .await;
    assert_eq!(
        colleague(&colleagues(&relay, &boris_key).await, anna)["availability"],
        "offline"
    );
    let _anna_stream = stream(&relay, &anna_key).await;
    wait_event(
        &mut watching,
        "availability",
        availability_of(anna, "break"),
    )
    .await;

    // An operator cannot set a colleague's availability; a supervisor can.
    let (status, answer) = set(
        &relay,
        &anna_key,
        json!({ "availability": "away", "seat": boris }),
    )
    .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (403, Some("role_required")),
        "{answer}"
    );
    assert_eq!(
        colleague(&colleagues(&relay, &boris_key).await, boris)["availability"],
        "available"
    );
    let (status, answer) = set(
        &relay,
        &sergey_key,
        json!({ "availability": "away", "seat": boris }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    wait_event(
        &mut watching,
        "availability",
        availability_of(boris, "away"),
    )
    .await;
}

fn call_event(leg: &str, state: &str, caller: &str, callee: &str) -> String {
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

#[tokio::test(flavor = "multi_thread")]
async fn colleagues_show_presence_with_no_callers_number_or_name() {
    let relay = crate::util::start().await;
    let (anna, anna_key) = joined(&relay, "Анна", ANNA, Role::Operator).await;
    let (_, boris_key) = joined(&relay, "Борис", BORIS, Role::Operator).await;
    let _anna_stream = stream(&relay, &anna_key).await;
    let mut watching = stream(&relay, &boris_key).await;
    relay
        .post_ok(&call_event("leg-1", "connected", "79001234567", ANNA))
        .await;
    wait_event(&mut watching, "presence", |body| {
        body["workplace"] == ANNA && body["presence"] == "talking"
    })
    .await;
    let list = colleagues(&relay, &boris_key).await;
    let entry = colleague(&list, anna);
    assert_eq!(entry["presence"], "talking", "{list:?}");
    assert_eq!(entry["availability"], "available");
    assert_eq!(entry["name"], "Анна");
    assert_eq!(entry["workplace"], ANNA);
    assert_eq!(entry["role"], "operator");
    let mut keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "availability",
            "name",
            "presence",
            "role",
            "seat",
            "workplace"
        ]
    );
    let text = Value::Array(list).to_string();
    assert!(!text.contains("7900") && !text.contains("Иван"), "{text}");
    // Without a seat credential: nothing.
    let response = relay
        .http
        .get(format!("{}/team/colleagues", relay.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
