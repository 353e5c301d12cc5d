//! Shared helpers: a log in a temporary directory and events built from short descriptions.

use call_log::{CallLog, CallLogConfig, EventBody, LoggedEvent};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

/// A log in its own temporary directory, removed when dropped.
pub struct TestLog {
    pub log: CallLog,
    pub dir: tempfile::TempDir,
}

impl TestLog {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log =
            CallLog::open(dir.path().join("calls.sqlite3"), CallLogConfig::default()).unwrap();
        TestLog { log, dir }
    }
}

/// 2026-03-02 09:00 UTC plus `seconds`.
pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::seconds(seconds)
}

/// The document's six complete notification examples.
pub fn document_examples() -> Vec<&'static str> {
    vec![
        include_str!("../fixtures/01_incoming_trying.json"),
        include_str!("../fixtures/02_outgoing_trying.json"),
        include_str!("../fixtures/03_recorded.json"),
        include_str!("../fixtures/04_showing.json"),
        include_str!("../fixtures/05_connected.json"),
        include_str!("../fixtures/06_finished.json"),
    ]
}

pub fn derived_recorded() -> &'static str {
    include_str!("../fixtures/07_recorded_outgoing_leg.json")
}

/// Numbered events from bodies: relay ids from `first_id`, three seconds apart.
pub fn numbered(first_id: i64, bodies: &[&str]) -> Vec<LoggedEvent> {
    bodies
        .iter()
        .zip(first_id..)
        .map(|(body, id)| LoggedEvent {
            relay_id: id,
            received_at: at(id * 3),
            body: EventBody::parse(body.as_bytes()),
        })
        .collect()
}

/// A call event as the PBX would send it.
pub fn call_body(leg: &str, state: &str, direction: &str, caller: &str, callee: &str) -> String {
    let mut info = json!({
        "call": {"id": leg, "tag": "t"},
        "state": state,
        "type": direction,
        "caller": {"id": caller, "displayId": caller, "forwarderList": []},
        "callee": {"id": callee, "displayId": callee, "forwarderList": []},
        "transportId": "10.0.0.1:5070",
    });
    if state == "finished" {
        info["duration"] = json!(42);
        info["reason"] = json!("Normal");
    }
    json!({"event": "callNotifications", "result": {"callInfo": info}}).to_string()
}

/// One event at a given time.
pub fn event(relay_id: i64, seconds: i64, body: &str) -> LoggedEvent {
    LoggedEvent {
        relay_id,
        received_at: at(seconds),
        body: EventBody::parse(body.as_bytes()),
    }
}

/// The events of a whole call: `states` in order, one second apart from `start`.
pub fn call(
    first_id: i64,
    start: i64,
    leg: &str,
    direction: &str,
    caller: &str,
    callee: &str,
    states: &[&str],
) -> Vec<LoggedEvent> {
    states
        .iter()
        .zip(0..)
        .map(|(state, i)| {
            event(
                first_id + i,
                start + i,
                &call_body(leg, state, direction, caller, callee),
            )
        })
        .collect()
}
