//! The whole live path on loopback: the simulated PBX posts webhooks to a real relay, the link
//! streams them, the pipeline applies them to a real call log and announces domain events.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use call_log::{CallLog, CallLogConfig};
use companion::{DomainEvent, LinkConfig, LiveCalls, Me, Pipeline, RelayKey, RelayLink};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::{control, wait_for};

/// A relay storing in `dir/<database>`, with one client key for the app; on `listen` when given
/// (a relay coming back at the same address), else on a free port.
pub async fn relay_with_key(
    dir: &Path,
    database: &str,
    hook: relay::HookPath,
    listen: Option<SocketAddr>,
    key: &relay::ClientKey,
) -> relay::RelayHandle {
    let mut config = relay::RelayConfig::new(hook, dir.join(database));
    if let Some(listen) = listen {
        config.listen = listen;
    }
    let relay = relay::Relay::start(config).await.unwrap();
    let store = &relay.state().store;
    if !key.is_active_in(&store.client_keys().await.unwrap()) {
        store
            .add_client_key("seat".into(), key.hash())
            .await
            .unwrap();
    }
    relay
}

/// The app's side: a call log in `dir`, fed from the relay's stream through the link and the
/// pipeline; reconnects come quickly so restarts do not slow the tests.
struct AppSide {
    log: CallLog,
    events: broadcast::Receiver<DomainEvent>,
    cancel: CancellationToken,
}

async fn app_side(
    dir: &Path,
    relay: &relay::RelayHandle,
    key: &relay::ClientKey,
    me: Me,
) -> AppSide {
    let log = CallLog::open(dir.join("calls.sqlite"), CallLogConfig::default()).unwrap();
    let (out, events) = broadcast::channel(4096);
    let pipeline = Pipeline::new(
        log.clone(),
        Arc::new(Mutex::new(LiveCalls::new())),
        Arc::new(RwLock::new(me)),
        out,
    );
    let cancel = CancellationToken::new();
    let link_config = LinkConfig {
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        ..LinkConfig::default()
    };
    let link = RelayLink::new(
        relay.stream_url().parse().unwrap(),
        RelayKey::new(key.expose_secret()),
        link_config,
    )
    .unwrap();
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(link.run(log.cursor().await.unwrap(), tx, cancel.clone()));
    tokio::spawn(pipeline.run(rx, cancel.clone()));
    AppSide {
        log,
        events,
        cancel,
    }
}

/// Posts one notification to the relay's hook, which must accept it.
async fn post(http: &reqwest::Client, relay: &relay::RelayHandle, body: &serde_json::Value) {
    let url = format!("{}/events", relay.redirect_uri().expose_secret());
    let answer = http.post(url).json(body).send().await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
}

/// Waits until the log's cursor reaches `id`.
async fn cursor_reaches(log: &CallLog, id: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while log.cursor().await.unwrap() != Some(id) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "cursor stuck at {:?}",
            log.cursor().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct World {
    sim: mtt_sim::SimHandle,
    relay: relay::RelayHandle,
    log: CallLog,
    events: broadcast::Receiver<DomainEvent>,
    cancel: CancellationToken,
    _dir: tempfile::TempDir,
}

const MY_WORKPLACE: &str = "883140582526566";

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let key = relay::ClientKey::generate();
    let relay = relay_with_key(
        dir.path(),
        "relay.sqlite3",
        relay::HookPath::generate(),
        None,
        &key,
    )
    .await;
    let mut sim_config = mtt_sim::SimConfig {
        auto_approve: true,
        webhook_url: Some(relay.redirect_uri().expose_secret().to_owned()),
        ..Default::default()
    };
    sim_config.timings.parking_window_ms = 100;
    sim_config.timings.record_delay_ms = 50;
    let sim = mtt_sim::Sim::start(sim_config).await.unwrap();
    let me = Me {
        workplace: Some(MY_WORKPLACE.into()),
        terminals: ["883140582526567".to_owned(), "883140582526568".to_owned()].into(),
        colleagues: Default::default(),
    };
    let app = app_side(dir.path(), &relay, &key, me).await;
    World {
        sim,
        relay,
        log: app.log,
        events: app.events,
        cancel: app.cancel,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_call_rings_with_its_summary_is_answered_and_lands_in_the_history() {
    let mut w = world().await;
    wait_for(
        &mut w.events,
        "link up",
        |e| matches!(e, DomainEvent::Link { state, .. } if state == "connected"),
    )
    .await;

    let incoming = |answer_by: Option<&str>| {
        let mut body = serde_json::json!({
            "from": "79161234567", "to": "78005560251", "caller_name": "Иван Петров",
            "talk_ms": 100, "record": true,
        });
        match answer_by {
            Some(by) => {
                body["answer_after_ms"] = 50.into();
                body["answer_by"] = by.into();
            }
            None => body["caller_gives_up_ms"] = 150.into(),
        }
        control(&w.sim, false, "/incoming", body)
    };

    // First a call nobody answers: missed.
    incoming(None).await;
    let ended = wait_for(&mut w.events, "missed call", |e| {
        matches!(e, DomainEvent::CallEnded { .. })
    })
    .await;
    let DomainEvent::CallEnded { call, missed, late } = ended else {
        unreachable!()
    };
    assert!(missed, "{call:?}");
    assert!(!late, "a call that rings while the app listens is live");

    // Then the same number again, answered at my workplace: the popup knows the earlier call.
    incoming(Some(MY_WORKPLACE)).await;
    let started = wait_for(&mut w.events, "ringing", |e| {
        matches!(e, DomainEvent::CallStarted { .. })
    })
    .await;
    let DomainEvent::CallStarted {
        call,
        summary,
        late,
    } = started
    else {
        unreachable!()
    };
    assert!(!late);
    assert_eq!(call.remote_number.as_deref(), Some("79161234567"));
    let summary = summary.expect("a screen-pop summary");
    assert!(summary.earlier_calls >= 1, "{summary:?}");
    let connected = wait_for(&mut w.events, "connected", |e| {
        matches!(e, DomainEvent::CallUpdated { call, .. } if call.phase == companion::CallPhase::Connected)
    })
    .await;
    let DomainEvent::CallUpdated { call, .. } = connected else {
        unreachable!()
    };
    assert!(call.mine);
    assert_eq!(call.answered_by.as_deref(), Some(MY_WORKPLACE));
    let DomainEvent::CallRecorded { leg, url } = wait_for(&mut w.events, "recording", |e| {
        matches!(e, DomainEvent::CallRecorded { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert!(url.ends_with(".mp3"), "{url}");

    // Everything announced is already in the log.
    let row = w
        .log
        .call(&leg)
        .await
        .unwrap()
        .expect("the call is in the history");
    assert_eq!(row.recording_url.as_deref(), Some(url.as_str()));
    assert!(
        row.tag.is_some() && row.transport_id.is_some(),
        "what hang-up needs is kept: {row:?}"
    );
    assert!(w.log.cursor().await.unwrap().unwrap() > 0);

    w.cancel.cancel();
    w.sim.shutdown().await;
    w.relay.shutdown().await.unwrap();
}

/// One incoming `trying` notification in the document's shape, with its own leg id.
fn trying(n: usize) -> serde_json::Value {
    serde_json::json!({"event":"callNotifications","result":{"callInfo":{
        "call":{"id":format!("restart-leg-{n}"),"tag":"t"},
        "caller":{"accountId":"78124241500@pstn","displayId":"78124241500","forwarderList":[],"id":"78124241500"},
        "callee":{"accountId":"74996497803","displayId":"74996497803","forwarderList":[],"id":"74996497803"},
        "startTime":"2020-06-02 11:18:16","state":"trying","transportId":"10.133.33.136:5073","type":"incoming"
    }}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_restarted_mid_stream_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hook = relay::HookPath::generate();
    let key = relay::ClientKey::generate();
    let first = relay_with_key(dir.path(), "relay.sqlite3", hook.clone(), None, &key).await;
    let address = first.local_addr();
    let mut app = app_side(dir.path(), &first, &key, Me::default()).await;

    let http = reqwest::Client::new();
    for n in 0..50 {
        post(&http, &first, &trying(n)).await;
    }
    first.shutdown().await.unwrap();
    // The same relay comes back on the same address and store; the link finds it again.
    let second = relay_with_key(dir.path(), "relay.sqlite3", hook, Some(address), &key).await;
    for n in 50..100 {
        post(&http, &second, &trying(n)).await;
    }
    cursor_reaches(&app.log, 100).await;
    let page = app
        .log
        .history(call_log::HistoryFilter::default(), None, 500)
        .await
        .unwrap();
    let mut legs: Vec<_> = page.calls.iter().map(|c| c.leg.clone()).collect();
    legs.sort();
    legs.dedup();
    assert_eq!(page.calls.len(), 100, "every event applied exactly once");
    assert_eq!(legs.len(), 100);
    let mut links = Vec::new();
    while let Ok(e) = app.events.try_recv() {
        if let DomainEvent::Link { state, .. } = e {
            links.push(state);
        }
    }
    assert!(
        links
            .windows(2)
            .any(|w| w[0] == "reconnecting" && w[1] == "connected"),
        "the link went down and came back: {links:?}"
    );
    app.cancel.cancel();
    second.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_whose_store_was_replaced_is_followed_without_dropping_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let hook = relay::HookPath::generate();
    let key = relay::ClientKey::generate();
    let first = relay_with_key(dir.path(), "old.sqlite3", hook.clone(), None, &key).await;
    let address = first.local_addr();
    let mut app = app_side(dir.path(), &first, &key, Me::default()).await;
    let http = reqwest::Client::new();
    for n in 0..5 {
        post(&http, &first, &trying(1000 + n)).await;
    }
    cursor_reaches(&app.log, 5).await;
    first.shutdown().await.unwrap();

    // A new, empty store behind the same address: its ids start at 1 again.
    let second = relay_with_key(dir.path(), "new.sqlite3", hook, Some(address), &key).await;
    for n in 0..3 {
        post(&http, &second, &trying(2000 + n)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let page = app
            .log
            .history(call_log::HistoryFilter::default(), None, 50)
            .await
            .unwrap();
        if page.calls.len() == 8 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of 8 calls arrived",
            page.calls.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.log.cursor().await.unwrap(),
        Some(3),
        "the cursor follows the new relay's ids"
    );
    let mut resynced = false;
    while let Ok(e) = app.events.try_recv() {
        resynced |= matches!(e, DomainEvent::Resynced { ref reason, .. } if reason == "unknown");
    }
    assert!(resynced, "the operator is told the relay started over");
    app.cancel.cancel();
    second.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catching_up_after_a_gap_is_announced_as_lag_and_its_end_too() {
    let dir = tempfile::tempdir().unwrap();
    let key = relay::ClientKey::generate();
    let relay = relay_with_key(
        dir.path(),
        "relay.sqlite3",
        relay::HookPath::generate(),
        None,
        &key,
    )
    .await;
    let http = reqwest::Client::new();
    // Events arrive while the app is not running.
    for n in 0..3 {
        post(&http, &relay, &trying(3000 + n)).await;
    }
    tokio::time::sleep(Duration::from_millis(2200)).await;

    let mut app = app_side(dir.path(), &relay, &key, Me::default()).await;
    let lagging = wait_for(&mut app.events, "lag", |e| {
        matches!(
            e,
            DomainEvent::Link {
                lag_ms: Some(_),
                ..
            }
        )
    })
    .await;
    let DomainEvent::Link {
        lag_ms: Some(lag), ..
    } = lagging
    else {
        unreachable!()
    };
    assert!(lag >= 2000, "{lag} ms");
    post(&http, &relay, &trying(3100)).await;
    let caught_up = wait_for(&mut app.events, "caught up", |e| {
        matches!(
            e,
            DomainEvent::Link {
                lag_ms: Some(_),
                ..
            }
        )
    })
    .await;
    let DomainEvent::Link {
        lag_ms: Some(lag),
        reason,
        ..
    } = caught_up
    else {
        unreachable!()
    };
    assert!(lag < 2000 && reason.is_none(), "{lag} ms");
    app.cancel.cancel();
    relay.shutdown().await.unwrap();
}
