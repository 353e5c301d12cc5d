//! The whole live path on loopback: the simulated PBX posts webhooks to a real relay, the link
//! streams them, the pipeline applies them to a real call log and announces domain events.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use call_log::{CallLog, CallLogConfig};
use companion::{DomainEvent, LinkConfig, LiveCalls, Me, Pipeline, RelayKey, RelayLink};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

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
    let relay_config = relay::RelayConfig::new(
        relay::HookPath::generate(),
        dir.path().join("relay.sqlite3"),
    );
    let relay = relay::Relay::start(relay_config).await.unwrap();
    let key = relay::ClientKey::generate();
    relay
        .state()
        .store
        .add_client_key("test seat".into(), key.hash())
        .await
        .unwrap();

    let mut sim_config = mtt_sim::SimConfig {
        auto_approve: true,
        webhook_url: Some(relay.redirect_uri().expose_secret().to_owned()),
        ..Default::default()
    };
    sim_config.timings.parking_window_ms = 100;
    sim_config.timings.record_delay_ms = 50;
    let sim = mtt_sim::Sim::start(sim_config).await.unwrap();

    let log = CallLog::open(dir.path().join("calls.sqlite"), CallLogConfig::default()).unwrap();
    let (out, events) = broadcast::channel(256);
    let me = Me {
        workplace: Some(MY_WORKPLACE.into()),
        terminals: ["883140582526567".to_owned(), "883140582526568".to_owned()].into(),
    };
    let pipeline = Pipeline {
        log: log.clone(),
        live: Arc::new(Mutex::new(LiveCalls::new())),
        me: Arc::new(RwLock::new(me)),
        out,
    };
    let cancel = CancellationToken::new();
    let link = RelayLink::new(
        relay.stream_url().parse().unwrap(),
        RelayKey::new(key.expose_secret()),
        LinkConfig::default(),
    )
    .unwrap();
    let (tx, rx) = mpsc::channel(1024);
    let cursor = log.cursor().await.unwrap();
    tokio::spawn(link.run(cursor, tx, cancel.clone()));
    tokio::spawn(pipeline.run(rx, cancel.clone()));
    World {
        sim,
        relay,
        log,
        events,
        cancel,
        _dir: dir,
    }
}

async fn next_matching(
    events: &mut broadcast::Receiver<DomainEvent>,
    what: &str,
    pred: impl Fn(&DomainEvent) -> bool,
) -> DomainEvent {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = events.recv().await.unwrap();
            if pred(&e) {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} within 10 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_call_rings_with_its_summary_is_answered_and_lands_in_the_history() {
    let mut w = world().await;
    next_matching(
        &mut w.events,
        "link up",
        |e| matches!(e, DomainEvent::Link { state, .. } if state == "connected"),
    )
    .await;

    let http = reqwest::Client::new();
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
        http.post(format!("{}/incoming", w.sim.control_url()))
            .json(&body)
            .send()
    };

    // First a call nobody answers: missed.
    let answer = incoming(None).await.unwrap();
    assert!(
        answer.status().is_success(),
        "{}",
        answer.text().await.unwrap()
    );
    let ended = next_matching(&mut w.events, "missed call", |e| {
        matches!(e, DomainEvent::CallEnded { .. })
    })
    .await;
    let DomainEvent::CallEnded { call, missed } = ended else {
        unreachable!()
    };
    assert!(missed, "{call:?}");

    // Then the same number again, answered at my workplace: the popup knows the earlier call.
    let answer = incoming(Some(MY_WORKPLACE)).await.unwrap();
    assert!(
        answer.status().is_success(),
        "{}",
        answer.text().await.unwrap()
    );
    let started = next_matching(&mut w.events, "ringing", |e| {
        matches!(e, DomainEvent::CallStarted { .. })
    })
    .await;
    let DomainEvent::CallStarted { call, summary } = started else {
        unreachable!()
    };
    assert_eq!(call.remote_number.as_deref(), Some("79161234567"));
    let summary = summary.expect("a screen-pop summary");
    assert!(summary.earlier_calls >= 1, "{summary:?}");
    let connected = next_matching(&mut w.events, "connected", |e| {
        matches!(e, DomainEvent::CallUpdated { call } if call.phase == companion::CallPhase::Connected)
    })
    .await;
    let DomainEvent::CallUpdated { call } = connected else {
        unreachable!()
    };
    assert!(call.mine);
    assert_eq!(call.answered_by.as_deref(), Some(MY_WORKPLACE));
    let DomainEvent::CallRecorded { leg, url } = next_matching(&mut w.events, "recording", |e| {
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
    assert!(w.log.cursor().await.unwrap().unwrap() > 0);

    w.cancel.cancel();
    w.sim.shutdown().await;
    w.relay.shutdown().await.unwrap();
}
