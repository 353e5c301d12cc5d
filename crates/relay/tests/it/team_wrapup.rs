//! Team wrap-ups (issue #17, team mode): a seat's note and tags go to the relay; the operator
//! who next gets a call from the number reads them, but not the whole team's history; a
//! supervisor reads all; the team's tags are set by admins and may be required on answered
//! calls; the audit log says who wrote what.

use chrono::{TimeDelta, Utc};
use relay::store::audit::AuditQuery;
use serde_json::{Value, json};
use team_api::Role;

use crate::team_seat_api::joined;
use crate::util::{TestRelay, start, start_with};
async fn send(
    relay: &TestRelay,
    method: reqwest::Method,
    credential: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = relay
        .http
        .request(method, format!("{}{path}", relay.base))
        .bearer_auth(credential);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn wrapup(leg: &str, number: &str, note: &str, tags: &[&str], answered: bool) -> Value {
    json!({"legId": leg, "number": number, "note": note, "tags": tags, "answered": answered})
}

#[tokio::test(flavor = "multi_thread")]
async fn wrapups_are_the_teams_knowledge_of_a_number_and_the_audit_says_who_wrote_what() {
    let relay = start().await;
    let anna = joined(&relay, "Анна", "883140582526566", Role::Operator).await;
    let boris = joined(&relay, "Борис", "883140777446532", Role::Operator).await;
    let sergey = joined(&relay, "Сергей", "883140777446533", Role::Supervisor).await;
    let admin = joined(&relay, "Админ", "883140777446534", Role::Admin).await;
    let put = reqwest::Method::PUT;
    let get = reqwest::Method::GET;

    // Anna wraps up a call from a customer (the number as she typed it).
    let (status, saved) = send(
        &relay,
        put.clone(),
        &anna,
        "/team/wrapups",
        Some(wrapup(
            "leg-1",
            "8 (921) 946-27-61",
            "wants a quote",
            &["sale"],
            true,
        )),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert!(saved["auditId"].as_i64().unwrap() > 0);
    send(
        &relay,
        put.clone(),
        &anna,
        "/team/wrapups",
        Some(wrapup(
            "leg-2",
            "+74957397000",
            "other customer",
            &[],
            false,
        )),
    )
    .await;

    // Boris, who gets the next call from that number, reads what Anna wrote about it...
    let (status, notes) = send(
        &relay,
        get.clone(),
        &boris,
        "/team/wrapups?number=79219462761",
        None,
    )
    .await;
    assert_eq!(status, 200, "{notes}");
    let list = notes["wrapups"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{notes}");
    assert_eq!(list[0]["seatName"], "Анна");
    assert_eq!(list[0]["note"], "wants a quote");
    assert_eq!(list[0]["tags"], json!(["sale"]));
    // ...but not the whole team's history.
    let (status, refused) = send(&relay, get.clone(), &boris, "/team/wrapups", None).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("role_required"))
    );
    // A supervisor sees them all, newest first.
    let (status, all) = send(&relay, get.clone(), &sergey, "/team/wrapups", None).await;
    assert_eq!(status, 200);
    assert_eq!(all["wrapups"].as_array().unwrap().len(), 2);
    assert_eq!(all["wrapups"][0]["legId"], "leg-2");

    // Only an admin sets the team's tags; then an answered call needs one of them.
    let tags = json!({"tags": ["sale", "support"], "required": true});
    let (status, _) = send(
        &relay,
        put.clone(),
        &sergey,
        "/team/tags",
        Some(tags.clone()),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send(
        &relay,
        put.clone(),
        &admin,
        "/team/tags",
        Some(tags.clone()),
    )
    .await;
    assert_eq!(status, 200);
    let (status, read) = send(&relay, get.clone(), &boris, "/team/tags", None).await;
    assert_eq!((status, read), (200, tags));
    let (status, refused) = send(
        &relay,
        put.clone(),
        &boris,
        "/team/wrapups",
        Some(wrapup("leg-3", "79219462761", "no tag", &[], true)),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("sale"),
        "{refused}"
    );
    // An unanswered call's wrap-up needs none; bad input is refused with the reason.
    let (status, _) = send(
        &relay,
        put.clone(),
        &boris,
        "/team/wrapups",
        Some(wrapup("leg-4", "79219462761", "missed", &[], false)),
    )
    .await;
    assert_eq!(status, 200);
    for bad in [
        wrapup("leg-5", "not a number", "", &["sale"], true),
        wrapup("leg-5", "79219462761", "", &[" sale"], true),
        json!({"legId": "leg-5", "number": "79219462761", "note": "", "tags": [], "answered": false, "extra": 1}),
    ] {
        let (status, answer) = send(
            &relay,
            put.clone(),
            &boris,
            "/team/wrapups",
            Some(bad.clone()),
        )
        .await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (400, Some("bad_request")),
            "{bad}"
        );
    }

    // The audit log has who wrote what.
    let entries = relay
        .handle
        .state()
        .audit
        .entries(AuditQuery::default())
        .await
        .unwrap();
    let written: Vec<_> = entries
        .iter()
        .filter(|e| e.entry.action == "wrapup")
        .map(|e| (e.entry.seat_name.as_str(), e.entry.target.as_str()))
        .collect();
    assert_eq!(
        written,
        [("Анна", "leg-1"), ("Анна", "leg-2"), ("Борис", "leg-4")]
    );
    let first = entries.iter().find(|e| e.entry.target == "leg-1").unwrap();
    assert!(
        first.entry.detail.contains("wants a quote"),
        "{:?}",
        first.entry
    );
    assert!(
        entries
            .iter()
            .any(|e| e.entry.action == "tags" && e.entry.seat_name == "Админ")
    );
}

/// The `wrapup` events among a stream's frames: their bodies.
fn wrapup_events(frames: &[crate::util::Frame]) -> Vec<Value> {
    frames
        .iter()
        .filter(|frame| frame.event.as_deref() == Some("wrapup"))
        .map(|frame| frame.json()["body"].clone())
        .collect()
}

/// The frames a seat's stream resumed after `after` (from the start when `None`) sends before its end-of-backlog marker.
async fn resumed_backlog(
    relay: &TestRelay,
    credential: &str,
    after: Option<i64>,
) -> Vec<crate::util::Frame> {
    let mut request = relay
        .http
        .get(format!("{}/events/stream", relay.base))
        .bearer_auth(credential);
    if let Some(after) = after {
        request = request.header("last-event-id", after.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = crate::util::SseReader::new(response);
    let mut frames = Vec::new();
    while let Some(frame) = stream.next_frame(std::time::Duration::from_secs(20)).await {
        match frame.event.as_deref() {
            Some("caught-up") => return frames,
            Some("epoch" | "resync") | None => {}
            Some(_) => frames.push(frame),
        }
    }
    panic!("the resumed stream never caught up");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_wrapup_reaches_supervisors_and_admins_streams_live_and_on_resume_but_no_operators()
{
    let relay = start().await;
    let anna = joined(&relay, "Анна", "883140582526566", Role::Operator).await;
    let boris = joined(&relay, "Борис", "883140777446532", Role::Operator).await;
    let sergey = joined(&relay, "Сергей", "883140777446533", Role::Supervisor).await;
    let admin = joined(&relay, "Админ", "883140777446534", Role::Admin).await;
    let mut supervisor = relay
        .http
        .get(format!("{}/events/stream", relay.base))
        .bearer_auth(&sergey)
        .send()
        .await
        .map(crate::util::SseReader::new)
        .unwrap();

    let (status, saved) = send(
        &relay,
        reqwest::Method::PUT,
        &anna,
        "/team/wrapups",
        Some(wrapup(
            "leg-1",
            "8 (921) 946-27-61",
            "wants a quote",
            &["sale", "vip"],
            true,
        )),
    )
    .await;
    assert_eq!(status, 200, "{saved}");

    // The supervisor's live stream carries it: whose, about which leg and number, what.
    let frame = loop {
        let frame = supervisor
            .next_event(std::time::Duration::from_secs(20))
            .await
            .expect("the supervisor's stream never carried the wrap-up");
        if frame.event.as_deref() == Some("wrapup") {
            break frame;
        }
    };
    let body = frame.json()["body"].clone();
    let event: team_api::WrapUpEvent = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(
        (
            event.leg_id.as_str(),
            event.number.as_str(),
            event.seat_name.as_str(),
            event.workplace.as_str(),
            event.note.as_str(),
        ),
        (
            "leg-1",
            "79219462761",
            "Анна",
            "883140582526566",
            "wants a quote"
        )
    );
    assert_eq!(event.tags, ["sale", "vip"]);
    assert!((Utc::now() - event.saved_at).num_seconds().abs() < 3600);
    let anna_seat = relay
        .handle
        .state()
        .team
        .seats()
        .await
        .unwrap()
        .into_iter()
        .find(|seat| seat.profile.name == "Анна")
        .unwrap();
    assert_eq!(event.seat_id, anna_seat.profile.id);

    // A supervisor's app that resumes from before it gets it in the backlog; an admin's too.
    let resumed = resumed_backlog(&relay, &sergey, Some(frame.id() - 1)).await;
    assert_eq!(wrapup_events(&resumed), std::slice::from_ref(&body));
    let resumed = resumed_backlog(&relay, &admin, None).await;
    assert_eq!(wrapup_events(&resumed), [body]);
    // No operator's stream carries it, the author's included: an operator reads a colleague's
    // notes one number at a time, in that number's popup.
    for operator in [&boris, &anna] {
        let frames = resumed_backlog(&relay, operator, None).await;
        assert_eq!(wrapup_events(&frames), Vec::<Value>::new());
    }
}

fn old_wrapup(leg: &str, days_ago: i64) -> relay::store::wrapup::NewWrapUp {
    relay::store::wrapup::NewWrapUp {
        leg_id: leg.into(),
        number: "79219462761".into(),
        seat_id: 1,
        seat_name: "Anna".into(),
        workplace: "883140582526566".into(),
        note: format!("{days_ago} days ago"),
        tags: vec![],
        saved_at: Utc::now() - TimeDelta::days(days_ago),
    }
}

/// Waits up to 30 s until the team's wrap-ups are exactly `legs`, newest first.
async fn wait_for_wrapups(relay: &TestRelay, legs: &[&str]) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let kept: Vec<String> = relay
            .handle
            .state()
            .wrapups
            .wrapups(None, 50)
            .await
            .unwrap()
            .into_iter()
            .map(|w| w.leg_id)
            .collect();
        if kept == legs {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited in vain for the wrap-ups {legs:?}; kept {kept:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrapups_older_than_their_retention_are_pruned_a_year_by_default() {
    let relay = start_with(|c| c.prune_interval = std::time::Duration::from_millis(100)).await;
    let wrapups = relay.handle.state().wrapups.clone();
    wrapups
        .save_wrapup(old_wrapup("leg-old", 400))
        .await
        .unwrap();
    wrapups
        .save_wrapup(old_wrapup("leg-kept", 300))
        .await
        .unwrap();
    wrapups.save_wrapup(old_wrapup("leg-new", 0)).await.unwrap();
    wait_for_wrapups(&relay, &["leg-new", "leg-kept"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrapup_retention_days_set_how_long_wrapups_are_kept() {
    let text = format!(
        "hook = {:?}\nwrapup_retention_days = 10",
        relay::HookPath::generate().expose_secret()
    );
    let file: relay::config::ConfigFile = toml::from_str(&text).unwrap();
    let configured = file
        .into_config(std::path::Path::new("/tmp"))
        .unwrap()
        .wrapup_retention;
    assert_eq!(configured, std::time::Duration::from_secs(10 * 24 * 3600));
    let relay = start_with(|c| {
        c.wrapup_retention = configured;
        c.prune_interval = std::time::Duration::from_millis(100);
    })
    .await;
    let wrapups = relay.handle.state().wrapups.clone();
    wrapups
        .save_wrapup(old_wrapup("leg-old", 20))
        .await
        .unwrap();
    wrapups.save_wrapup(old_wrapup("leg-new", 5)).await.unwrap();
    wait_for_wrapups(&relay, &["leg-new"]).await;
}

/// `trubka-relay --config <config> <args>`: its stdout, or its stderr when it fails.
fn relay_cli(config: &std::path::Path, args: &[&str]) -> Result<String, String> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_trubka-relay"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("TRUBKA_RELAY_HOOK")
        .env_remove("TRUBKA_RELAY_KEY")
        .env_remove("TRUBKA_RELAY_DATABASE")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    if output.status.success() {
        Ok(text(&output.stdout))
    } else {
        Err(text(&output.stderr))
    }
}

#[test]
fn an_admin_sets_and_lists_the_teams_tags_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    relay_cli(
        &config,
        &["init", "--public-url", "https://team.example.com"],
    )
    .unwrap();

    // None at first.
    let listed: Value =
        serde_json::from_str(&relay_cli(&config, &["tags", "list", "--json"]).unwrap()).unwrap();
    assert_eq!(listed, json!({"tags": [], "required": false}));

    let set = relay_cli(
        &config,
        &["tags", "set", "sale", "support", "Жалоба", "--required"],
    )
    .unwrap();
    assert!(set.contains("3 tags"), "{set}");
    let listed: Value =
        serde_json::from_str(&relay_cli(&config, &["tags", "list", "--json"]).unwrap()).unwrap();
    assert_eq!(
        listed,
        json!({"tags": ["sale", "support", "Жалоба"], "required": true})
    );
    let printed = relay_cli(&config, &["tags", "list"]).unwrap();
    assert!(printed.contains("Жалоба"), "{printed}");
    assert!(printed.contains("required"), "{printed}");

    // Bad lists are refused with what was wrong, and the tags stay.
    for bad in [
        vec!["tags", "set", "sale", "Sale"],
        vec!["tags", "set", " sale"],
        vec!["tags", "set", "--required"],
    ] {
        let refused = relay_cli(&config, &bad).unwrap_err();
        assert!(refused.contains("tag"), "{bad:?}: {refused}");
    }
    let listed: Value =
        serde_json::from_str(&relay_cli(&config, &["tags", "list", "--json"]).unwrap()).unwrap();
    assert_eq!(listed["tags"], json!(["sale", "support", "Жалоба"]));

    // No tags: none required.
    relay_cli(&config, &["tags", "set"]).unwrap();
    let listed: Value =
        serde_json::from_str(&relay_cli(&config, &["tags", "list", "--json"]).unwrap()).unwrap();
    assert_eq!(listed, json!({"tags": [], "required": false}));
}
