//! Wrap-ups in team mode: the note and tags also go to the team's server (who wrote them is
//! its business), the team's tags replace the settings' list, and a team that requires a tag
//! refuses an answered call's wrap-up without one — after it is saved on this computer, so
//! nothing is lost.

use std::sync::Arc;
use std::time::Duration;

use call_log::{EventBody, LoggedEvent, WrapUpEdit};
use chrono::{TimeDelta, Utc};
use companion::core::FollowUpSchedule;
use companion::retention::RetentionSchedule;
use companion::{Companion, DomainEvent, ErrorCode, JoinOffer, MemoryVault, Profile, SecretVault};
use relay::seats::InviteCode;
use relay::store::team::{NewSeat, SeatRef};
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
    let seat = relay
        .state()
        .team
        .add_seat(NewSeat {
            name: "Anna".into(),
            workplace: WORKPLACE.into(),
            role: Role::Operator,
        })
        .await
        .unwrap()
        .profile
        .id;
    let code = InviteCode::generate().unwrap();
    relay
        .state()
        .team
        .add_invite(
            SeatRef::Id(seat),
            code.hash(),
            Utc::now() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    let link = team_api::JoinLink::new(
        &format!("http://{}", relay.local_addr()),
        &code.expose_secret(),
    )
    .unwrap();
    let profile =
        Profile::under("work", &dir.path().join("config"), &dir.path().join("data")).unwrap();
    let core = Companion::open_timed(
        profile,
        Arc::new(MemoryVault::default()) as Arc<dyn SecretVault>,
        RetentionSchedule::default(),
        schedule,
    )
    .unwrap();
    core.join_team(&JoinOffer::read(&link.to_string(), None).unwrap())
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
