//! The History screen's additions and today's chart: the callback queue, date ranges, the CSV
//! export of a filter, a recording saved into Downloads, and today's calls hour by hour.

use std::io::{Read, Write};

use call_log::{EventBody, LoggedEvent};
use chrono::Utc;
use serde_json::json;
use tauri::Manager;
use trubka_app::downloads::Downloads;

use crate::harness::{PastCall, TestApp, at};

const ANSWERED: &[&str] = &["trying", "showing", "connected", "finished"];
const MISSED: &[&str] = &["trying", "showing", "finished"];

/// The harness's offset for a call that started `secs` seconds ago.
fn ago(secs: i64) -> i64 {
    (Utc::now() - at(0)).num_seconds() - secs
}

fn call(
    leg: &'static str,
    direction: &'static str,
    peer: &'static str,
    start: i64,
    states: &'static [&'static str],
) -> PastCall {
    let (caller, callee) = if direction == "incoming" {
        (peer, "74951234567")
    } else {
        ("74951234567", peer)
    };
    PastCall {
        leg,
        direction,
        caller,
        caller_name: "",
        callee,
        start,
        states,
    }
}

fn with_downloads(app: &TestApp) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    app.window.state::<Downloads>().save_into(dir.path());
    dir
}

#[test]
fn a_missed_number_waits_in_the_queue_until_an_answered_call_reaches_it() {
    let app = TestApp::new();
    app.log_calls(&[
        call("m1", "incoming", "79031112233", ago(600), MISSED),
        call("m2", "incoming", "79031112233", ago(500), MISSED),
        call("m3", "incoming", "79219462761", ago(400), MISSED),
        call("back", "outgoing", "89219462761", ago(300), ANSWERED),
        // Older than the queue looks back.
        call("old", "incoming", "79165550011", ago(30 * 86_400), MISSED),
    ]);
    let queue = app.invoke("callbacks", json!({})).unwrap();
    let queue = queue.as_array().unwrap();
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0]["number"], "+7 903 111-22-33");
    assert_eq!(queue[0]["numberRaw"], "79031112233");
    assert_eq!(queue[0]["missedCalls"], 2);
    assert!(queue[0]["lastMissedAtMs"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_date_range_selects_history_and_a_reversed_one_is_invalid() {
    let app = TestApp::new();
    app.log_calls(&[
        call("early", "incoming", "79031112233", 0, ANSWERED),
        call("late", "incoming", "79031112233", 86_400, ANSWERED),
    ]);
    let day_ms = at(0).timestamp_millis();
    let first_day = app
        .invoke(
            "history",
            json!({"query": {"kind": "all", "fromMs": day_ms - 3_600_000, "toMs": day_ms + 3_600_000}}),
        )
        .unwrap();
    let legs: Vec<&str> = first_day["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["leg"].as_str().unwrap())
        .collect();
    assert_eq!(legs, ["early"]);
    let reversed = app
        .invoke(
            "history",
            json!({"query": {"kind": "all", "fromMs": day_ms, "toMs": day_ms - 1}}),
        )
        .unwrap_err();
    assert_eq!(reversed["code"], "invalid", "{reversed}");
}

#[test]
fn the_current_filter_is_exported_as_csv_into_downloads() {
    let app = TestApp::new();
    let downloads = with_downloads(&app);
    app.log_calls(&[
        call("in", "incoming", "79031112233", 0, MISSED),
        call("out", "outgoing", "79219462761", 60, ANSWERED),
    ]);
    let saved = app
        .invoke("export_history", json!({"query": {"kind": "missed"}}))
        .unwrap();
    assert_eq!(saved["rows"], 1, "{saved}");
    let path = std::path::PathBuf::from(saved["path"].as_str().unwrap());
    assert_eq!(path.parent().unwrap(), downloads.path());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("79031112233"), "{text}");
    assert!(!text.contains("79219462761"), "{text}");

    let again = app
        .invoke("export_history", json!({"query": {"kind": "missed"}}))
        .unwrap();
    assert_ne!(
        again["path"], saved["path"],
        "a second export does not overwrite the first"
    );
    let reversed = app
        .invoke(
            "export_history",
            json!({"query": {"kind": "all", "fromMs": 2_000, "toMs": 1_000}}),
        )
        .unwrap_err();
    assert_eq!(reversed["code"], "invalid");
}

/// A one-shot HTTP server on 127.0.0.1 answering any request with `body`.
fn serve_once(body: &'static [u8]) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
    });
    format!("http://{address}/records/answered.mp3")
}

fn record(app: &TestApp, leg: &str, url: &str) {
    let body = json!({"event": "callNotifications", "result": {"callInfo": {
        "accountId": "883140777716581", "call": {"id": leg}, "state": "recorded",
        "urlRecord": url}}});
    tauri::async_runtime::block_on(app.companion.log().apply(vec![LoggedEvent {
        relay_id: 1_000,
        received_at: at(500),
        body: EventBody::parse(body.to_string().as_bytes()),
    }]))
    .unwrap();
}

#[test]
fn a_recording_is_saved_into_downloads_from_the_address_the_pbx_sent() {
    let app = TestApp::new();
    let downloads = with_downloads(&app);
    app.log_calls(&[call("answered", "incoming", "79031112233", 0, ANSWERED)]);
    record(&app, "answered", &serve_once(b"ID3 not really an mp3"));
    let saved = app
        .invoke("save_recording", json!({"leg": "answered"}))
        .unwrap();
    let path = std::path::PathBuf::from(saved["path"].as_str().unwrap());
    assert_eq!(path.parent().unwrap(), downloads.path());
    assert_eq!(path.file_name().unwrap(), "trubka-recording-answered.mp3");
    assert_eq!(std::fs::read(&path).unwrap(), b"ID3 not really an mp3");
}

#[test]
fn a_recording_elsewhere_than_https_or_this_computer_is_not_fetched() {
    let app = TestApp::new();
    let _downloads = with_downloads(&app);
    app.log_calls(&[call("answered", "incoming", "79031112233", 0, ANSWERED)]);
    record(&app, "answered", "http://records.example/answered.mp3");
    // The call log keeps no such address as the call's recording (`call_log::recording_link`),
    // so there is nothing to fetch; the command's own check behind it (`recording_address`) has
    // its unit test.
    let refused = app
        .invoke("save_recording", json!({"leg": "answered"}))
        .unwrap_err();
    assert_eq!(refused["code"], "not_found", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("has no recording"),
        "{refused}"
    );
    let none = app
        .invoke("save_recording", json!({"leg": "no-such-leg"}))
        .unwrap_err();
    assert_eq!(none["code"], "not_found", "{none}");
}

#[test]
fn todays_hours_add_up_to_todays_calls() {
    let app = TestApp::new();
    app.log_calls(&[
        call("a", "incoming", "79031112233", ago(20), ANSWERED),
        call("b", "incoming", "79219462761", ago(10), MISSED),
    ]);
    let today = app.invoke("today", json!({})).unwrap();
    let hours = today["hours"].as_array().unwrap();
    let sum = |key: &str| hours.iter().map(|h| h[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(today["calls"], 2, "{today}");
    assert_eq!(sum("calls"), 2);
    assert_eq!(sum("answered"), 1);
    assert_eq!(sum("missed"), 1);
    assert!(
        hours
            .iter()
            .enumerate()
            .all(|(i, h)| h["hour"].as_u64() == Some(i as u64) || hours.len() != 24)
    );
}

#[test]
fn diagnostics_are_saved_as_a_zip_into_downloads_under_a_fresh_name() {
    let app = TestApp::new();
    let downloads = with_downloads(&app);
    assert_eq!(app.invoke("last_prune", json!({})).unwrap(), json!(null));
    let first = app.invoke("save_diagnostics", json!({})).unwrap();
    let path = std::path::PathBuf::from(first["path"].as_str().unwrap());
    assert_eq!(path.parent().unwrap(), downloads.path());
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(
        name.starts_with("trubka-diagnostics-") && name.ends_with(".zip"),
        "{name}"
    );
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"PK"), "a zip");
    // A second one never replaces the first.
    let second = app.invoke("save_diagnostics", json!({})).unwrap();
    assert_ne!(second["path"], first["path"]);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}
