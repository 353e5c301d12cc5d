//! `--json` prints what `docs/cli-json.md` says: each command that works without an account is
//! run against a temporary profile (its history seeded with a missed call and a routing
//! decision, so no list is empty) and its output must have exactly the documented fields.

use std::collections::{BTreeMap, BTreeSet};

use call_log::{CallLog, CallLogConfig, EventBody, LoggedEvent, RoutingDecision, RoutingOutcome};
use chrono::{Duration, Utc};
use serde_json::Value;

use crate::trubka;

/// Each `## `/`### ` heading of the document (its first code span: `trubka status`,
/// `callStarted`) with the first JSON example under it.
fn documented() -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/cli-json.md"
    ))
    .unwrap();
    let mut examples = BTreeMap::new();
    let mut heading: Option<String> = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("## ") || line.starts_with("### ") {
            heading = line.split('`').nth(1).map(str::to_owned);
        } else if line == "```json" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            let name = heading.take().expect("a JSON example under a heading");
            let example = serde_json::from_str(&block.join("\n"))
                .unwrap_or_else(|e| panic!("the example of {name} is not JSON: {e}"));
            examples.insert(name, example);
        }
    }
    examples
}

fn fields(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

/// The output has the documented top-level fields, no more and no fewer: an object's own, or
/// for an array each element's (and the array is not empty, or nothing would be checked).
fn assert_documented(docs: &BTreeMap<String, Value>, command: &str, stdout: &[u8]) {
    let example = docs
        .get(command)
        .unwrap_or_else(|| panic!("docs/cli-json.md has no example for `{command}`"));
    let text = String::from_utf8(stdout.to_vec()).unwrap();
    assert_eq!(
        text.lines().count(),
        1,
        "`{command}` prints one line:\n{text}"
    );
    let actual: Value = serde_json::from_str(&text).unwrap();
    match (example, &actual) {
        (Value::Array(documented), Value::Array(items)) => {
            assert!(!items.is_empty(), "`{command}` printed an empty list");
            for item in items {
                assert_eq!(fields(item), fields(&documented[0]), "`{command}`: {item}");
            }
        }
        (Value::Object(_), Value::Object(_)) => {
            assert_eq!(fields(&actual), fields(example), "`{command}`: {actual}");
        }
        _ => panic!("`{command}` printed {actual}, documented as {example}"),
    }
}

/// Every line `trubka events` or `trubka demo` printed has the fields documented for its kind.
pub fn assert_events_documented(stdout: &str) {
    let docs = documented();
    for line in stdout.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        let kind = event["kind"].as_str().unwrap();
        let example = docs
            .get(kind)
            .unwrap_or_else(|| panic!("docs/cli-json.md has no example for the event {kind}"));
        assert_eq!(fields(&event), fields(example), "{line}");
    }
}

/// A missed incoming call an hour ago and a routing decision, in the default profile's history.
fn seed_history(dir: &tempfile::TempDir) {
    let profile = companion::Profile::under(
        "default",
        &dir.path().join("config"),
        &dir.path().join("data"),
    )
    .unwrap();
    std::fs::create_dir_all(profile.call_log_path().parent().unwrap()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let log = CallLog::open(profile.call_log_path(), CallLogConfig::default()).unwrap();
        let start = Utc::now() - Duration::hours(1);
        // What the PBX sends for an incoming call that rang and ended unanswered.
        let events = [
            r#""state": "trying""#,
            r#""state": "finished", "duration": 0, "reason": "Timeout""#,
        ]
        .into_iter()
        .zip(1..)
        .map(|(state, id)| {
            let body = format!(
                r#"{{"event": "callNotifications", "result": {{"callInfo": {{
                    "call": {{"id": "leg-1@127.0.0.1", "tag": "t"}}, {state}, "type": "incoming",
                    "caller": {{"id": "79219462761", "displayId": "79219462761"}},
                    "callee": {{"id": "74996497803", "displayId": "74996497803"}},
                    "transportId": "10.0.0.1:5070"}}}}}}"#
            );
            LoggedEvent {
                relay_id: id,
                received_at: start + Duration::seconds(id * 20),
                body: EventBody::parse(body.as_bytes()),
            }
        })
        .collect();
        log.apply(events).await.unwrap();
        log.record_routing_decision(RoutingDecision {
            leg: "leg-2@127.0.0.1".into(),
            caller_number: Some("79219462761".into()),
            line_number: Some("74996497803".into()),
            rule: Some("manager".into()),
            target: Some("883140777551401".into()),
            outcome: RoutingOutcome::Transferred,
            detail: None,
            decided_at: start,
            took_ms: 412,
            deadline_ms: 4_000,
        })
        .await
        .unwrap();
    });
}

#[test]
fn every_command_that_works_without_an_account_prints_the_documented_fields() {
    let docs = documented();
    let dir = tempfile::tempdir().unwrap();
    seed_history(&dir);
    let contacts = dir.path().join("contacts.csv");
    std::fs::write(
        &contacts,
        "name,phone,company\nIvan Petrov,+7 921 946-27-61,ACME\nBroken,12-ab,\n",
    )
    .unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "when_busy = \"release\"\nrules = [{ kind = \"manager\" }]\n",
    )
    .unwrap();
    let contacts = contacts.to_str().unwrap();
    let rules = rules.to_str().unwrap();
    let commands: &[(&str, &[&str])] = &[
        ("trubka status", &["status"]),
        ("trubka account show", &["account", "show"]),
        ("trubka routing rules", &["routing", "rules"]),
        ("trubka routing set-rules", &["routing", "set-rules", rules]),
        ("trubka routing journal", &["routing", "journal"]),
        ("trubka routing router", &["routing", "router", "--on"]),
        (
            "trubka note",
            &["note", "leg-1@127.0.0.1", "wants", "a", "quote"],
        ),
        (
            "trubka tag",
            &["tag", "leg-1@127.0.0.1", "sale", "vip client"],
        ),
        ("trubka history", &["history"]),
        ("trubka callbacks", &["callbacks"]),
        ("trubka follow-up", &["follow-up", "leg-1@127.0.0.1", "+2h"]),
        ("trubka follow-ups", &["follow-ups"]),
        ("trubka contacts import", &["contacts", "import", contacts]),
        ("trubka contacts list", &["contacts", "list"]),
        ("trubka team status", &["team", "status"]),
    ];
    for (command, args) in commands {
        let output = trubka(&dir).args(*args).arg("--json").assert().success();
        assert_documented(&docs, command, &output.get_output().stdout);
    }
}

#[test]
fn note_and_tag_set_a_calls_wrapup_and_history_prints_and_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    seed_history(&dir);
    trubka(&dir)
        .args([
            "note",
            "leg-1@127.0.0.1",
            "asked",
            "for",
            "the",
            "price",
            "list",
        ])
        .assert()
        .success();
    trubka(&dir)
        .args(["tag", "leg-1@127.0.0.1", "sale", "vip client"])
        .assert()
        .success();
    let text = trubka(&dir).arg("history").assert().success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("#sale #vip client\tasked for the price list"),
        "{text}"
    );
    let json = trubka(&dir)
        .args(["history", "--json", "--search", "price list"])
        .assert()
        .success();
    let rows: Vec<Value> = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["note"], "asked for the price list");
    assert_eq!(rows[0]["tags"], serde_json::json!(["sale", "vip client"]));
    let tagged = trubka(&dir)
        .args(["history", "--json", "--tag", "vip client"])
        .assert()
        .success();
    let rows: Vec<Value> = serde_json::from_slice(&tagged.get_output().stdout).unwrap();
    assert_eq!(rows.len(), 1);
    // A bad tag is refused with the exit code of `invalid` and changes nothing.
    trubka(&dir)
        .args(["tag", "leg-1@127.0.0.1", "bad\u{7}tag"])
        .assert()
        .code(5)
        .stderr(predicates::str::contains("tag"));
    let json = trubka(&dir).args(["history", "--json"]).assert().success();
    let rows: Vec<Value> = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(rows[0]["tags"], serde_json::json!(["sale", "vip client"]));
}

#[test]
fn follow_up_sets_a_calls_follow_up_and_follow_ups_lists_it_until_cleared() {
    let dir = tempfile::tempdir().unwrap();
    seed_history(&dir);
    let before = Utc::now();
    let set = trubka(&dir)
        .args(["follow-up", "leg-1@127.0.0.1", "+2h", "--json"])
        .assert()
        .success();
    let saved: Value = serde_json::from_slice(&set.get_output().stdout).unwrap();
    let due: chrono::DateTime<Utc> = saved["follow_up_at"].as_str().unwrap().parse().unwrap();
    assert!(due >= before + Duration::hours(2) && due <= Utc::now() + Duration::hours(2));

    let listed = trubka(&dir)
        .args(["follow-ups", "--json"])
        .assert()
        .success();
    let rows: Vec<Value> = serde_json::from_slice(&listed.get_output().stdout).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["leg"], "leg-1@127.0.0.1");
    assert_eq!(rows[0]["due_at"], saved["follow_up_at"]);

    // A time in the past or not a time is refused with the exit code of `invalid`, and the
    // follow-up stays.
    for bad in ["2020-01-01 10:00", "soon"] {
        trubka(&dir)
            .args(["follow-up", "leg-1@127.0.0.1", bad])
            .assert()
            .code(5)
            .stderr(predicates::str::contains("follow-up time"));
    }
    let listed = trubka(&dir).args(["follow-ups"]).assert().success();
    let text = String::from_utf8(listed.get_output().stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");

    trubka(&dir)
        .args(["follow-up", "leg-1@127.0.0.1", "--clear"])
        .assert()
        .success();
    let listed = trubka(&dir)
        .args(["follow-ups", "--json"])
        .assert()
        .success();
    let rows: Vec<Value> = serde_json::from_slice(&listed.get_output().stdout).unwrap();
    assert!(rows.is_empty(), "{rows:?}");
}
