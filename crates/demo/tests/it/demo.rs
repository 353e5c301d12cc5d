//! Demo mode end to end: the core signs in to the simulator through the relay hand-off, dials,
//! transfers and hangs up, and every call lands in the history.

use std::time::Duration;

use companion::{CallPhase, DomainEvent};
use demo::{Demo, DemoOptions};

use crate::{control, wait_for};

async fn start() -> (Demo, tempfile::TempDir) {
    start_with(None).await
}

async fn start_with(tokens: Option<mtt_sim::config::TokenConfig>) -> (Demo, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(
        &dir.path().join("config"),
        &dir.path().join("data"),
        DemoOptions {
            calls_per_second: 0.0,
            time_scale: 1.0,
            tokens,
        },
    )
    .await
    .unwrap();
    // People in the simulated world act in milliseconds, so the test takes well under a second.
    control(
        &demo.sim,
        true,
        "/timings",
        serde_json::json!({
            "operator_answer_ms": 50, "callee_answer_ms": 50, "talk_ms": 150, "record_delay_ms": 30,
        }),
    )
    .await;
    (demo, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_signs_in_and_a_click_to_call_lands_in_the_history_with_its_recording() {
    let (demo, _dir) = start().await;
    let c = &demo.companion;
    let status = c.session_status().await.unwrap();
    assert!(status.signed_in, "signed in through the relay hand-off");
    // The demo says where its simulated world is, for scripts and end-to-end tests.
    let written: demo::DemoInfo =
        serde_json::from_slice(&std::fs::read(demo.info_path()).unwrap()).unwrap();
    assert_eq!(written, demo.info());
    assert!(written.control_url.ends_with("/control"), "{written:?}");
    assert_eq!(written.workplace, c.settings().workplace);
    assert_eq!(
        c.link_status().map(|l| l.state).as_deref(),
        Some("connected"),
        "the first report is kept"
    );
    let directory = c.directory();
    assert!(directory.workplaces.len() >= 5, "{directory:?}");
    let me = c.settings().workplace.unwrap();

    let mut events = c.subscribe();
    let (target, _placed) = c.dial("8 (921) 946-27-61", None).await.unwrap();
    assert_eq!(target.callee.as_str(), "79219462761");
    assert_eq!(target.display, "+7 921 946-27-61");

    let DomainEvent::CallStarted { call, .. } = wait_for(&mut events, "pick-up prompt", |e| {
        matches!(e, DomainEvent::CallStarted { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(call.phase, CallPhase::PickUp);
    assert!(call.mine && call.workplaces.contains(&me), "{call:?}");
    wait_for(&mut events, "calling the number", |e| {
        matches!(e, DomainEvent::CallUpdated { call: u, .. } if u.leg == call.leg && u.phase == CallPhase::Calling)
    })
    .await;
    wait_for(&mut events, "connected", |e| {
        matches!(e, DomainEvent::CallUpdated { call: u, .. } if u.leg == call.leg && u.phase == CallPhase::Connected)
    })
    .await;
    wait_for(
        &mut events,
        "ended",
        |e| matches!(e, DomainEvent::CallEnded { call: u, .. } if u.leg == call.leg),
    )
    .await;
    let DomainEvent::CallRecorded { url, .. } = wait_for(
        &mut events,
        "recording",
        |e| matches!(e, DomainEvent::CallRecorded { leg, .. } if *leg == call.leg),
    )
    .await
    else {
        unreachable!()
    };

    let row = c
        .log()
        .call(&call.leg)
        .await
        .unwrap()
        .expect("one history row");
    assert_eq!(row.recording_url.as_deref(), Some(url.as_str()));
    assert!(row.answered_at.is_some());
    // The recording is a real mp3 served by the simulator.
    let mp3 = reqwest::get(&url).await.unwrap();
    assert_eq!(mp3.headers()["content-type"], "audio/mpeg");
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_call_can_be_transferred_while_ringing_and_passed_on() {
    let (demo, _dir) = start().await;
    let c = &demo.companion;
    let mut events = c.subscribe();
    control(&demo.sim, false, "/incoming", serde_json::json!({"from": "79161234567", "to": "78005560251", "caller_name": "Иван", "manual": true})).await;
    let DomainEvent::CallStarted { call, summary, .. } = wait_for(&mut events, "ringing", |e| {
        matches!(e, DomainEvent::CallStarted { call, .. } if call.remote_number.as_deref() == Some("79161234567"))
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(call.remote_name.as_deref(), Some("Иван"));
    assert_eq!(summary.unwrap().earlier_calls, 0);
    assert!(!c.wants_popup(&call), "not mine yet: no popup");
    // The call becomes mine when the PBX rings my workplace (the default routing's first group).
    let DomainEvent::CallUpdated { call: ringing, .. } = wait_for(&mut events, "ringing at my workplace", |e| {
        matches!(e, DomainEvent::CallUpdated { call: u, .. } if u.leg == call.leg && u.mine && u.phase == CallPhase::Ringing)
    })
    .await
    else {
        unreachable!()
    };
    assert!(c.wants_popup(&ringing));
    c.set_popups(false).unwrap();
    assert!(!c.wants_popup(&ringing), "do-not-disturb");
    c.set_popups(true).unwrap();

    let colleague = "883140777446532";
    c.transfer(&call.leg, colleague).await.unwrap();
    wait_for(&mut events, "the colleague ringing", |e| {
        matches!(e, DomainEvent::CallUpdated { call: u, .. } if u.leg == call.leg && u.workplaces.contains(colleague))
    })
    .await;
    // terminateCall ends this leg's ringing and the call goes on along the cabinet's routing,
    // as the document says: the next group (the reception) rings.
    c.hang_up(&call.leg).await.unwrap();
    wait_for(&mut events, "the next group ringing", |e| {
        matches!(e, DomainEvent::CallUpdated { call: u, .. } if u.leg == call.leg && u.workplaces.contains("883140777551401"))
    })
    .await;
    // The caller gives up.
    control(
        &demo.sim,
        false,
        "/hangup",
        serde_json::json!({"call": call.leg, "by": "caller"}),
    )
    .await;
    let DomainEvent::CallEnded { missed, .. } = wait_for(
        &mut events,
        "ended",
        |e| matches!(e, DomainEvent::CallEnded { call: u, .. } if u.leg == call.leg),
    )
    .await
    else {
        unreachable!()
    };
    assert!(missed, "the caller hung up before anyone answered");
    assert!(
        c.hang_up(&call.leg).await.is_err(),
        "an ended call cannot be hung up again"
    );
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workplace_added_in_the_cabinet_reaches_the_directory_by_itself() {
    let (demo, _dir) = start().await;
    let c = &demo.companion;
    let mut events = c.subscribe();
    control(&demo.sim, false, "/workplaces", serde_json::json!({"workplace": "883140777999901", "name": "Новый оператор", "terminals": ["883140777999902"]})).await;
    wait_for(
        &mut events,
        "directory change",
        |e| matches!(e, DomainEvent::DirectoryChanged { what } if what == "workplaces"),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !c
        .directory()
        .workplaces
        .iter()
        .any(|w| w.name == "Новый оператор")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the directory was not re-read"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_token_lifetimes_renew_unseen_and_a_lapsed_sign_in_is_announced_once() {
    // Access tokens for 400 ms, a non-rotating refresh token for 1.5 s from sign-in.
    let (demo, _dir) = start_with(Some(mtt_sim::config::TokenConfig {
        access_lifetime_ms: 400,
        refresh_lifetime_ms: 1500,
        code_lifetime_ms: 60_000,
        rotate_refresh_tokens: false,
    }))
    .await;
    let c = &demo.companion;
    let mut events = c.subscribe();
    tokio::time::sleep(Duration::from_millis(600)).await;
    // The access token has expired; the operator notices nothing.
    c.refresh_directory()
        .await
        .expect("renewed without the operator noticing");

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let err = c.refresh_directory().await.unwrap_err();
    assert_eq!(err.code().as_str(), "sign_in_required", "{err}");
    let err = c.dial("89219462761", None).await.unwrap_err();
    assert_eq!(err.code().as_str(), "sign_in_required", "{err}");
    let mut session_events = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let DomainEvent::Session { signed_in, .. } = e {
            session_events.push(signed_in);
        }
    }
    assert_eq!(session_events, vec![false], "announced once, no loop");
    assert!(!c.session_status().await.unwrap().signed_in);
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_answer_with_another_state_is_refused() {
    let (demo, _dir) = start().await;
    let c = &demo.companion;
    let pending = c.begin_sign_in().unwrap();
    let forged = companion::signin::Callback {
        state: "not-the-state-we-sent".into(),
        outcome: Ok(mtt_api::AuthCode::new("stolen-code")),
    };
    let err = c.finish_sign_in(pending, forged).await.unwrap_err();
    assert_eq!(err.code().as_str(), "state_mismatch", "{err}");
    assert!(
        c.session_status().await.unwrap().signed_in,
        "the existing sign-in is untouched"
    );
    demo.shutdown().await;
}

/// A router that sends every parked call to one colleague.
#[derive(Debug)]
struct ToColleague;

impl companion::ParkedCallRouter for ToColleague {
    fn decide(
        &self,
        _call: companion::ParkedCall,
    ) -> futures::future::BoxFuture<'static, companion::RoutingChoice> {
        Box::pin(async {
            companion::RoutingChoice::Transfer {
                to: "883140777446532".into(),
                rule: "test: everyone to Petrov".into(),
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_hook_decides_a_parked_call_within_the_window() {
    let (demo, _dir) = start().await;
    let c = &demo.companion;
    c.set_parking(&["74996497803".into()], true).await.unwrap();
    assert!(
        c.settings().parked.contains("74996497803"),
        "parking is remembered locally"
    );
    c.set_is_router(true).unwrap();
    c.set_router(std::sync::Arc::new(ToColleague));
    let mut events = c.subscribe();
    control(
        &demo.sim,
        false,
        "/incoming",
        serde_json::json!({"from": "79161112233", "to": "74996497803", "manual": true}),
    )
    .await;
    let DomainEvent::Routed { outcome } = wait_for(&mut events, "a routing decision", |e| {
        matches!(e, DomainEvent::Routed { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert!(outcome.in_time && outcome.error.is_none(), "{outcome:?}");
    assert!(matches!(
        outcome.choice,
        companion::RoutingChoice::Transfer { .. }
    ));
    assert!(outcome.elapsed_ms < 4000, "{outcome:?}");
    // The PBX now rings the colleague, not the cabinet's routing.
    wait_for(&mut events, "the colleague ringing", |e| match e {
        DomainEvent::CallStarted { call, .. } | DomainEvent::CallUpdated { call, .. } => {
            call.remote_number.as_deref() == Some("79161112233")
                && call.workplaces.contains("883140777446532")
        }
        _ => false,
    })
    .await;
    demo.shutdown().await;
}

/// The demo's PBX gives a workplace one call at a time (issue #16 item 8): while I talk, a new
/// call rings my colleagues of the cabinet's routing, not me.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_my_workplace_is_on_a_call_a_new_call_rings_my_colleagues_instead() {
    let (demo, _dir) = start().await;
    let c = &demo.companion;
    let me = c.settings().workplace.unwrap();
    let mut events = c.subscribe();
    let incoming =
        |from: &str| serde_json::json!({"from": from, "to": "78005560251", "manual": true});
    control(&demo.sim, false, "/incoming", incoming("79161234567")).await;
    let DomainEvent::CallUpdated { call: first, .. } = wait_for(&mut events, "ringing at my workplace", |e| {
        matches!(e, DomainEvent::CallUpdated { call: u, .. } if u.mine && u.phase == CallPhase::Ringing)
    })
    .await
    else {
        unreachable!()
    };
    control(
        &demo.sim,
        false,
        "/answer",
        serde_json::json!({"call": first.leg, "by": me}),
    )
    .await;
    wait_for(&mut events, "my call connected", |e| {
        matches!(e, DomainEvent::CallUpdated { call: u, .. } if u.leg == first.leg && u.phase == CallPhase::Connected)
    })
    .await;

    control(&demo.sim, false, "/incoming", incoming("79031112233")).await;
    // The first group's last workplace (Смирнова Ольга) rings: the whole group has been shown.
    let DomainEvent::CallUpdated { call: second, .. } = wait_for(&mut events, "the second call ringing my group", |e| {
        matches!(e, DomainEvent::CallUpdated { call: u, .. } if u.leg != first.leg && u.workplaces.contains("883140777551201"))
    })
    .await
    else {
        unreachable!()
    };
    assert!(
        second.workplaces.contains("883140777446532"),
        "my colleague rings: {second:?}"
    );
    assert!(
        !second.workplaces.contains(&me) && !second.mine,
        "my workplace, on a call, is passed by: {second:?}"
    );
    demo.shutdown().await;
}
