//! History pages as the History screen asks for them, from a prepared call log.

use serde_json::json;

use crate::harness::{PastCall, TestApp};

const ANSWERED: &[&str] = &["trying", "showing", "connected", "finished"];
const MISSED: &[&str] = &["trying", "showing", "finished"];

fn three_calls() -> Vec<PastCall> {
    vec![
        PastCall {
            leg: "in-answered",
            direction: "incoming",
            caller: "79219462761",
            caller_name: "Иван Петров",
            callee: "74951234567",
            start: 0,
            states: ANSWERED,
        },
        PastCall {
            leg: "in-missed",
            direction: "incoming",
            caller: "79031112233",
            caller_name: "",
            callee: "74951234567",
            start: 100,
            states: MISSED,
        },
        PastCall {
            leg: "out",
            direction: "outgoing",
            caller: "74951234567",
            caller_name: "",
            callee: "79165550011",
            start: 200,
            states: ANSWERED,
        },
    ]
}

fn legs(page: &serde_json::Value) -> Vec<&str> {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["leg"].as_str().unwrap())
        .collect()
}

#[test]
fn history_lists_the_logged_calls_newest_first_with_readable_numbers() {
    let app = TestApp::new();
    app.log_calls(&three_calls());
    let page = app
        .invoke("history", json!({"query": {"kind": "all"}}))
        .unwrap();
    assert_eq!(legs(&page), ["out", "in-missed", "in-answered"]);
    let first = &page["rows"][2];
    assert_eq!(first["number"], "+7 921 946-27-61");
    assert_eq!(first["numberRaw"], "79219462761");
    assert_eq!(first["name"], "Иван Петров");
    assert_eq!(first["direction"], "incoming");
    assert_eq!(first["answered"], true);
    assert_eq!(page["next"], serde_json::Value::Null);
}

#[test]
fn history_filters_missed_and_outgoing_calls() {
    let app = TestApp::new();
    app.log_calls(&three_calls());
    let missed = app
        .invoke("history", json!({"query": {"kind": "missed"}}))
        .unwrap();
    assert_eq!(legs(&missed), ["in-missed"]);
    assert_eq!(missed["rows"][0]["missed"], true);
    let outgoing = app
        .invoke("history", json!({"query": {"kind": "outgoing"}}))
        .unwrap();
    assert_eq!(legs(&outgoing), ["out"]);
}

#[test]
fn history_finds_a_call_by_part_of_its_number_or_name() {
    let app = TestApp::new();
    app.log_calls(&three_calls());
    let by_number = app
        .invoke(
            "history",
            json!({"query": {"kind": "all", "search": "946-27"}}),
        )
        .unwrap();
    assert_eq!(legs(&by_number), ["in-answered"]);
    let by_name = app
        .invoke(
            "history",
            json!({"query": {"kind": "all", "search": "Петров"}}),
        )
        .unwrap();
    assert_eq!(legs(&by_name), ["in-answered"]);
}

#[test]
fn a_search_too_short_to_look_up_has_its_own_code() {
    let app = TestApp::new();
    let err = app
        .invoke("history", json!({"query": {"kind": "all", "search": "92"}}))
        .unwrap_err();
    assert_eq!(err["code"], "search_too_short", "{err}");
}

#[test]
fn history_pages_through_more_calls_than_fit_on_one_page() {
    let app = TestApp::new();
    let legs_names: Vec<&'static str> = (0..53)
        .map(|i| &*Box::leak(format!("leg-{i:02}").into_boxed_str()))
        .collect();
    let calls: Vec<PastCall> = legs_names
        .iter()
        .enumerate()
        .map(|(i, leg)| PastCall {
            leg,
            direction: "incoming",
            caller: "79219462761",
            caller_name: "",
            callee: "74951234567",
            start: i as i64 * 10,
            states: MISSED,
        })
        .collect();
    app.log_calls(&calls);
    let first = app
        .invoke("history", json!({"query": {"kind": "all"}}))
        .unwrap();
    assert_eq!(first["rows"].as_array().unwrap().len(), 50);
    let next = first["next"].clone();
    assert!(next["startedAtUs"].is_string(), "{next}");
    let second = app
        .invoke("history", json!({"query": {"kind": "all", "after": next}}))
        .unwrap();
    assert_eq!(legs(&second), ["leg-02", "leg-01", "leg-00"]);
}

#[test]
fn a_saved_wrapup_shows_in_history_filters_by_tag_and_waits_as_a_follow_up() {
    let app = TestApp::new();
    app.log_calls(&three_calls());
    let due = 4_102_444_800_000.0_f64; // 2100-01-01: not due yet.
    let saved = app
        .invoke(
            "save_wrapup",
            json!({"draft": {"leg": "in-answered", "note": "wants a quote", "tags": ["sale", " sale "], "followUpAtMs": due}}),
        )
        .unwrap();
    assert_eq!(saved["tags"], json!(["sale"]));
    let page = app
        .invoke("history", json!({"query": {"kind": "all", "tag": "sale"}}))
        .unwrap();
    assert_eq!(legs(&page), ["in-answered"]);
    assert_eq!(page["rows"][0]["note"], "wants a quote");
    assert_eq!(page["rows"][0]["followUpAtMs"], due);
    let found = app
        .invoke(
            "history",
            json!({"query": {"kind": "all", "search": "quote"}}),
        )
        .unwrap();
    assert_eq!(legs(&found), ["in-answered"]);
    let follow_ups = app.invoke("follow_ups", json!({})).unwrap();
    assert_eq!(follow_ups[0]["leg"], "in-answered");
    assert_eq!(follow_ups[0]["number"], "+7 921 946-27-61");
    assert_eq!(
        app.invoke("wrapup_tags", json!({})).unwrap(),
        json!({"tags": ["sale"], "required": false})
    );
    let refused = app
        .invoke(
            "save_wrapup",
            json!({"draft": {"leg": "in-answered", "note": "x", "tags": ["\u{7}"], "followUpAtMs": null}}),
        )
        .unwrap_err();
    assert_eq!(refused["code"], "invalid");
}
