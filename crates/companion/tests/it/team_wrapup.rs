//! Wrap-ups in team mode: the note and tags also go to the team's server (who wrote them is
//! its business), the team's tags replace the settings' list, and a team that requires a tag
//! refuses an answered call's wrap-up without one — after it is saved on this computer, so
//! nothing is lost.

use std::sync::Arc;
use std::time::Duration;

use crate::team_seats;
use call_log::{EventBody, LoggedEvent, WrapUpEdit};
use chrono::{TimeDelta, Utc};
use companion::core::FollowUpSchedule;
use companion::retention::RetentionSchedule;
use companion::{Companion, DomainEvent, ErrorCode, JoinOffer, MemoryVault, Profile, SecretVault};
use team_api::Role;
use team_api::wrapup::TeamTags;

const WORKPLACE: &str = "883140582526566";
const CUSTOMER: &str = "79219462761";

async fn joined_seat() -> (relay::RelayHandle, Companion, tempfile::TempDir) {
    joined_seat_checking_every(FollowUpSchedule::default()).await
}

/// A seat whose core looks for due follow-ups and unsent wrap-ups every `schedule.every`.
async fn joined_seat_checking_every(
    schedule: FollowUpSchedule,
) -> (relay::RelayHandle, Companion, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay::Relay::start(relay::RelayConfig::new(
        relay::HookPath::generate(),
        dir.path().join("relay.sqlite3"),
    ))
    .await
    .unwrap();
    let link = team_seats::invite(&relay, "Anna", WORKPLACE, Role::Operator)
        .await
        .link;
    let profile =
        Profile::under("work", &dir.path().join("config"), &dir.path().join("data")).unwrap();
    let core = Companion::open_timed(
        profile,
        Arc::new(MemoryVault::default()) as Arc<dyn SecretVault>,
        RetentionSchedule::default(),
        schedule,
    )
    .unwrap();
    core.join_team(&JoinOffer::read(&link, None).unwrap())
        .await
        .unwrap();
    (relay, core, dir)
}

/// An answered incoming call from the customer, in the seat's call log.
async fn answered(core: &Companion, leg: &str) {
    let events = ["trying", "connected", "finished"]
        .into_iter()
        .zip(1..)
        .map(|(state, id)| {
            let body = serde_json::json!({"event": "callNotifications", "result": {"callInfo": {
                "call": {"id": leg, "tag": "t"}, "state": state, "type": "incoming",
                "caller": {"id": CUSTOMER, "displayId": CUSTOMER},
                "callee": {"id": WORKPLACE, "displayId": WORKPLACE},
                "transportId": "10.0.0.1:5070"}}});
            LoggedEvent {
                relay_id: id,
                received_at: Utc::now(),
                body: EventBody::parse(body.to_string().as_bytes()),
            }
        })
        .collect();
    core.log().apply(events).await.unwrap();
}

fn edit(note: &str, tags: &[&str]) -> WrapUpEdit {
    WrapUpEdit {
        note: Some(note.into()),
        tags: Some(tags.iter().map(|t| (*t).to_owned()).collect()),
        ..WrapUpEdit::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seats_wrapup_goes_to_the_team_and_a_required_tag_is_asked_for() {
    let (relay, core, _dir) = joined_seat().await;
    relay
        .state()
        .wrapups
        .set_team_tags(TeamTags {
            tags: vec!["sale".into(), "support".into()],
            required: true,
        })
        .await
        .unwrap();
    let choices = core.wrapup_tags().await.unwrap();
    assert_eq!(
        (choices.tags, choices.required),
        (vec!["sale".to_owned(), "support".to_owned()], true)
    );

    answered(&core, "leg-1").await;
    // No team tag on an answered call: the server refuses, the note is kept here.
    let refused = core
        .save_wrapup("leg-1", edit("wants a quote", &["mine"]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::TeamRefused, "{refused}");
    assert_eq!(
        core.wrapup("leg-1").await.unwrap().unwrap().note,
        "wants a quote"
    );
    // With one, the team has it, under the seat's name and the number.
    core.save_wrapup("leg-1", edit("wants a quote", &["mine", "sale"]))
        .await
        .unwrap();
    let team = relay
        .state()
        .wrapups
        .wrapups(Some(CUSTOMER.into()), 5)
        .await
        .unwrap();
    assert_eq!(team.len(), 1, "{team:?}");
    assert_eq!(team[0].seat_name, "Anna");
    assert_eq!(team[0].note, "wants a quote");
    assert_eq!(team[0].tags, vec!["mine", "sale"]);
    // The next popup for the number shows what the team wrote (not the ringing leg's own).
    let shown = core
        .team_wrapup_for("8 921 946-27-61", "leg-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (shown.leg.as_str(), shown.note.as_str()),
        ("leg-1", "wants a quote")
    );
    assert_eq!(core.team_wrapup_for(CUSTOMER, "leg-1").await.unwrap(), None);
    core.shutdown().await;
}

/// Waits up to 30 s for `done`.
async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited in vain for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrapup_the_team_server_missed_is_sent_once_when_it_is_back() {
    let (relay, core, dir) = joined_seat_checking_every(FollowUpSchedule {
        every: Duration::from_millis(100),
    })
    .await;
    let listen = relay.local_addr();
    answered(&core, "leg-1").await;
    relay.shutdown().await.unwrap();

    // The team's server is down: the wrap-up is kept here, and the operator is told it will
    // follow.
    let mut events = core.subscribe();
    let saved = core
        .save_wrapup("leg-1", edit("wants a quote", &["sale"]))
        .await
        .unwrap();
    assert_eq!(saved.note, "wants a quote");
    let trouble = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Ok(DomainEvent::Trouble { code, message }) = events.recv().await {
                return (code, message);
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(trouble.0, ErrorCode::RelayUnreachable, "{}", trouble.1);
    assert_eq!(core.log().wrapups_team_unsent(10).await.unwrap().len(), 1);

    // The server comes back (same address, same data): the wrap-up reaches it by itself.
    let mut config = relay::RelayConfig::new(
        relay::HookPath::generate(),
        dir.path().join("relay.sqlite3"),
    );
    config.listen = listen;
    let relay = relay::Relay::start(config).await.unwrap();
    let team = relay.state().wrapups.clone();
    wait_until("the team's server to get the wrap-up", async || {
        !team
            .wrapups(Some(CUSTOMER.into()), 5)
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    wait_until("the wrap-up to be marked sent", async || {
        core.log().wrapups_team_unsent(10).await.unwrap().is_empty()
    })
    .await;
    // Many checks later it was still sent once: one record, one audit entry.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let kept = team.wrapups(Some(CUSTOMER.into()), 5).await.unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        (kept[0].seat_name.as_str(), kept[0].note.as_str()),
        ("Anna", "wants a quote")
    );
    assert_eq!(kept[0].tags, vec!["sale"]);
    let audited = relay
        .state()
        .audit
        .entries(relay::store::audit::AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.action == "wrapup")
        .count();
    assert_eq!(audited, 1);
    core.shutdown().await;
}

/// A seat joined over HTTP, as another seat's app joins: its number and credential.
async fn joined_over_http(
    relay: &relay::RelayHandle,
    name: &str,
    workplace: &str,
    role: Role,
) -> (i64, String) {
    let invited = team_seats::invite(relay, name, workplace, role).await;
    let (seat, code) = (invited.seat, invited.code);
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{}/team/join", relay.local_addr()))
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (seat, answer["credential"].as_str().unwrap().to_owned())
}

/// A supervisor's app joined to a fresh relay, its live events started.
async fn supervisor_seat() -> (relay::RelayHandle, Companion, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay::Relay::start(relay::RelayConfig::new(
        relay::HookPath::generate(),
        dir.path().join("relay.sqlite3"),
    ))
    .await
    .unwrap();
    let link = team_seats::invite(&relay, "Сергей", SUPERVISOR, Role::Supervisor)
        .await
        .link;
    let profile =
        Profile::under("work", &dir.path().join("config"), &dir.path().join("data")).unwrap();
    let core = Companion::open(
        profile,
        Arc::new(MemoryVault::default()) as Arc<dyn SecretVault>,
    )
    .unwrap();
    core.join_team(&JoinOffer::read(&link, None).unwrap())
        .await
        .unwrap();
    core.start_live_events().await.unwrap();
    (relay, core, dir)
}

const SUPERVISOR: &str = "883140777446533";

/// A colleague's answered call from the customer, through the relay's webhook intake.
async fn colleagues_call(relay: &relay::RelayHandle, leg: &str) {
    let http = reqwest::Client::new();
    for state in ["trying", "connected", "finished"] {
        let body = serde_json::json!({"event": "callNotifications", "result": {"callInfo": {
            "call": {"id": leg, "tag": "t"}, "state": state, "type": "incoming",
            "caller": {"id": CUSTOMER, "displayId": CUSTOMER},
            "callee": {"id": WORKPLACE, "displayId": WORKPLACE},
            "transportId": "10.0.0.1:5070"}}});
        let answer = http
            .post(format!("{}/events", relay.redirect_uri().expose_secret()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
}

/// A colleague's wrap-up as the relay streams it, saved at `saved_at`, added to its stream
/// directly (so its time can be chosen).
async fn streamed_wrapup(
    relay: &relay::RelayHandle,
    seat: i64,
    leg: &str,
    note: &str,
    saved_at: chrono::DateTime<Utc>,
) {
    let event = team_api::WrapUpEvent {
        leg_id: leg.into(),
        number: CUSTOMER.into(),
        seat_id: seat,
        seat_name: "Anna".into(),
        workplace: WORKPLACE.into(),
        note: note.into(),
        tags: vec![],
        saved_at,
    };
    let notification = relay::store::IncomingNotification::new(
        team_api::WRAPUP_KIND.into(),
        serde_json::to_string(&event).unwrap(),
    )
    .unwrap();
    relay.state().store.append(notification).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisors_history_shows_a_colleagues_note_and_tags_and_keeps_a_newer_own_save() {
    let (relay, core, _dir) = supervisor_seat().await;
    let (anna, credential) = joined_over_http(&relay, "Anna", WORKPLACE, Role::Operator).await;
    colleagues_call(&relay, "leg-1").await;
    let mut events = core.subscribe();

    // Anna wraps up her call; the supervisor's History shows her note and tags on it, found by
    // its tag and by the note's words, and the export carries them.
    let saved = reqwest::Client::new()
        .put(format!("http://{}/team/wrapups", relay.local_addr()))
        .bearer_auth(&credential)
        .json(&serde_json::json!({"legId": "leg-1", "number": CUSTOMER,
            "note": "wants a quote", "tags": ["sale", "vip"], "answered": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let by_tag = || call_log::HistoryFilter {
        tag: Some("VIP".into()),
        ..call_log::HistoryFilter::default()
    };
    wait_until(
        "the colleague's wrap-up in the supervisor's History",
        async || {
            core.log()
                .history(by_tag(), None, 10)
                .await
                .unwrap()
                .calls
                .iter()
                .any(|call| call.leg == "leg-1")
        },
    )
    .await;
    // An open History hears of it, to read the list again.
    let announced = crate::wait_for(
        &mut events,
        "the colleague's wrap-up",
        |e| matches!(e, DomainEvent::ColleagueWrapUp { leg, .. } if leg == "leg-1"),
    )
    .await;
    let DomainEvent::ColleagueWrapUp {
        author, note, late, ..
    } = announced
    else {
        unreachable!()
    };
    assert_eq!(
        (author.as_str(), note.as_str(), late),
        ("Anna", "wants a quote", false)
    );
    let page = core.log().history(by_tag(), None, 10).await.unwrap();
    assert_eq!(
        (
            page.calls[0].note.as_str(),
            page.calls[0].wrapup_tags.as_slice()
        ),
        ("wants a quote", &["sale".to_owned(), "vip".to_owned()][..])
    );
    let search = call_log::HistoryFilter {
        search: Some("a quote".into()),
        ..call_log::HistoryFilter::default()
    };
    assert_eq!(
        core.log()
            .history(search, None, 10)
            .await
            .unwrap()
            .calls
            .len(),
        1
    );
    let csv = _dir.path().join("history.csv");
    core.log()
        .export_history_csv(&csv, call_log::HistoryFilter::default())
        .await
        .unwrap();
    let exported = std::fs::read_to_string(&csv).unwrap();
    assert!(exported.contains("wants a quote,sale; vip"), "{exported}");
    // It is not this seat's to send.
    assert_eq!(core.log().wrapups_team_unsent(10).await.unwrap(), vec![]);

    // The supervisor wrapped up another call here; a colleague's older save of it (a late
    // replay) does not overwrite that.
    colleagues_call(&relay, "leg-2").await;
    let mine = core
        .save_wrapup("leg-2", edit("mine", &["support"]))
        .await
        .unwrap();
    streamed_wrapup(
        &relay,
        anna,
        "leg-2",
        "older",
        mine.saved_at - TimeDelta::minutes(1),
    )
    .await;
    // Events apply in order: once a later one is in, the older one has been seen.
    streamed_wrapup(
        &relay,
        anna,
        "leg-1",
        "later",
        Utc::now() + TimeDelta::seconds(1),
    )
    .await;
    wait_until("the later wrap-up", async || {
        core.wrapup("leg-1").await.unwrap().unwrap().note == "later"
    })
    .await;
    let kept = core.wrapup("leg-2").await.unwrap().unwrap();
    assert_eq!(
        (kept.note.as_str(), kept.tags.as_slice()),
        ("mine", &["support".to_owned()][..])
    );
    core.shutdown().await;
}
