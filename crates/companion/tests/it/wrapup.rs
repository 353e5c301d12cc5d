//! After-call wrap-ups in the core: offered when a call of mine ends (by the setting), saved
//! with the call's number, and a follow-up raised once when it falls due.

use std::sync::Arc;
use std::time::Duration;

use companion::core::FollowUpSchedule;
use companion::retention::RetentionSchedule;
use companion::{Companion, DomainEvent, WrapUpOffer};
use serde_json::{Value, json};

use crate::routing::World;
use crate::wait_for;

const MY_WORKPLACE: &str = "883140777551101";
const CUSTOMER: &str = "79035557788";

fn notification(leg: &str, state: &str) -> Value {
    let mut info = json!({
        "call": {"id": leg, "tag": format!("tag-{leg}")},
        "caller": {"accountId": format!("{CUSTOMER}@pstn"), "displayId": CUSTOMER, "forwarderList": [], "id": CUSTOMER},
        "callee": {"accountId": MY_WORKPLACE, "displayId": MY_WORKPLACE, "forwarderList": [], "id": MY_WORKPLACE},
        "state": state,
        "transportId": "10.133.33.136:5073",
        "type": "incoming"
    });
    if state == "finished" {
        info["duration"] = json!(12);
        info["reason"] = json!("Caller hung up");
    }
    json!({"event": "callNotifications", "result": {"callInfo": info}})
}

async fn call(w: &World, leg: &str, states: &[&str]) {
    let http = reqwest::Client::new();
    let url = format!("{}/events", w.relay.redirect_uri().expose_secret());
    for state in states {
        let answer = http
            .post(&url)
            .json(&notification(leg, state))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
    }
}

/// My app, with my workplace set and `offer`, follow-ups checked every 100 ms.
async fn my_app(w: &World, offer: WrapUpOffer) -> Arc<Companion> {
    let (app, vault) = w.app_and_vault("me", false).await;
    let mut settings = app.settings();
    settings.workplace = Some(MY_WORKPLACE.into());
    settings.wrapup.offer = offer;
    settings.wrapup.tags = vec!["sale".into(), "support".into()];
    w.profile("me").save_settings(&settings).unwrap();
    app.shutdown().await;
    drop(app);
    let app = Companion::open_timed(
        w.profile("me"),
        vault,
        RetentionSchedule::default(),
        FollowUpSchedule {
            every: Duration::from_millis(100),
        },
    )
    .unwrap();
    Arc::new(app)
}

fn offered_leg(event: &DomainEvent) -> Option<&str> {
    match event {
        DomainEvent::WrapUpOffered { call, .. } => Some(call.leg.as_str()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answered_call_of_mine_offers_a_wrapup_and_its_follow_up_is_raised_once_when_due() {
    let w = World::start().await;
    let app = my_app(&w, WrapUpOffer::Answered).await;
    let mut events = app.subscribe();
    app.start_live_events().await.unwrap();
    // A missed call, then an answered one: only the answered one is offered (events come in
    // order, so the first offer names it).
    call(&w, "missed-leg", &["trying", "finished"]).await;
    call(&w, "answered-leg", &["trying", "connected", "finished"]).await;
    let offer = wait_for(&mut events, "a wrap-up offer", |e| offered_leg(e).is_some()).await;
    assert_eq!(offered_leg(&offer), Some("answered-leg"));
    let DomainEvent::WrapUpOffered { call, saved } = &offer else {
        unreachable!()
    };
    assert_eq!(call.remote_number.as_deref(), Some(CUSTOMER));
    assert!(saved.is_none());
    assert_eq!(
        app.wrapup_tags().await.unwrap().tags,
        vec!["sale", "support"]
    );

    let due = chrono::Utc::now() - chrono::Duration::seconds(1);
    let saved = app
        .save_wrapup(
            "answered-leg",
            call_log::WrapUpEdit {
                note: Some("send the price list".into()),
                tags: Some(vec!["sale".into(), "price".into()]),
                follow_up_at: Some(Some(due)),
                peer_number: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(saved.tags, vec!["sale", "price"]);
    let raised = wait_for(&mut events, "the follow-up", |e| {
        matches!(e, DomainEvent::FollowUpDue { .. })
    })
    .await;
    let DomainEvent::FollowUpDue { follow_up } = raised else {
        unreachable!()
    };
    assert_eq!(follow_up.leg, "answered-leg");
    assert_eq!(follow_up.key.as_deref(), Some(CUSTOMER));
    assert_eq!(follow_up.note, "send the price list");
    // Raised once: marked in the log, and several checks later nothing more came.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(event, DomainEvent::FollowUpDue { .. }),
            "{event:?}"
        );
    }
    assert!(app.follow_ups(10).await.unwrap()[0].notified);
    assert_eq!(
        app.wrapup_tags().await.unwrap().tags,
        vec!["sale", "support", "price"]
    );
    // Bad input is refused, naming what was wrong, and changes nothing.
    let bad = app
        .save_wrapup(
            "answered-leg",
            call_log::WrapUpEdit {
                tags: Some(vec!["\u{7}".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.code(), companion::ErrorCode::Invalid, "{bad}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_offers_a_wrapup_for_a_missed_call_of_mine_and_never_offers_none() {
    let w = World::start().await;
    let app = my_app(&w, WrapUpOffer::Always).await;
    let mut events = app.subscribe();
    app.start_live_events().await.unwrap();
    call(&w, "missed-leg", &["trying", "finished"]).await;
    let offer = wait_for(&mut events, "a wrap-up offer", |e| offered_leg(e).is_some()).await;
    assert_eq!(offered_leg(&offer), Some("missed-leg"));
    app.edit_settings(|s| s.wrapup.offer = WrapUpOffer::Never)
        .unwrap();
    call(&w, "quiet-leg", &["trying", "connected", "finished"]).await;
    wait_for(
        &mut events,
        "the call's end",
        |e| matches!(e, DomainEvent::CallEnded { call, .. } if call.leg == "quiet-leg"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(event) = events.try_recv() {
        assert_eq!(offered_leg(&event), None, "{event:?}");
    }
    app.shutdown().await;
}
