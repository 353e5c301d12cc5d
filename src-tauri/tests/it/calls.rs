//! Dial, hang up and transfer as the Calls screen invokes them.

use serde_json::json;

use crate::harness::TestApp;

#[test]
fn dialling_letters_answers_invalid_number_with_a_message() {
    let app = TestApp::new();
    let err = app
        .invoke("dial", json!({"number": "call me maybe"}))
        .unwrap_err();
    assert_eq!(err["code"], "invalid_number");
    let message = err["message"].as_str().unwrap();
    assert!(!message.is_empty(), "{err}");
}

#[test]
fn dialling_a_good_number_without_an_account_says_what_to_set_up() {
    let app = TestApp::new();
    let err = app
        .invoke("dial", json!({"number": "8 (921) 946-27-61"}))
        .unwrap_err();
    assert_eq!(err["code"], "not_configured", "{err}");
}

#[test]
fn transferring_to_nonsense_is_refused_before_the_pbx_is_asked() {
    let app = TestApp::new();
    let err = app
        .invoke("transfer", json!({"leg": "leg-1", "target": "!!"}))
        .unwrap_err();
    assert_eq!(err["code"], "invalid_number", "{err}");
}

#[test]
fn no_calls_are_live_on_a_fresh_profile() {
    let app = TestApp::new();
    assert_eq!(app.invoke("live_calls", json!({})).unwrap(), json!([]));
}

#[test]
fn a_fresh_profile_has_no_workplaces_and_an_empty_day() {
    let app = TestApp::new();
    assert_eq!(app.invoke("workplaces", json!({})).unwrap(), json!([]));
    let mut today = app.invoke("today", json!({})).unwrap();
    let hours = today["hours"].take();
    let hours = hours.as_array().unwrap();
    assert!((23..=25).contains(&hours.len()), "{hours:?}");
    assert!(hours.iter().all(|h| h["calls"] == 0), "{hours:?}");
    assert_eq!(
        today,
        json!({
            "calls": 0, "answered": 0, "missed": 0, "talkSecs": 0, "hours": null,
            // A fresh profile counts days in the PBX's default zone (Moscow keeps UTC+3 all year).
            "zone": "Europe/Moscow", "zoneOffsetMinutes": 180,
        })
    );
}

#[test]
fn the_link_has_no_report_before_the_core_makes_one() {
    let app = TestApp::new();
    assert_eq!(app.invoke("link_status", json!({})).unwrap(), json!(null));
}
