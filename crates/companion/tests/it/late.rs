//! Late events: what happened while the core was off (or asleep, or offline) reaches it as the
//! relay's backlog when it starts. It lands in the history and raises nothing: no popup, no
//! notification, no routing decision for a call that is over. A call still ringing when the
//! backlog ends pops up then.
//!
//! The domain events are read through their JSON, as the faces' decisions read them (a call
//! event pops up unless `late`; a missed-call notification needs `missed` and not `late`; the
//! calls still live at `caughtUp` pop up then), so the same test also runs against a core that
//! knows nothing of late events.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use companion::{Companion, DomainEvent, SecretVault};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::routing::{PARKED, UNPARKED, World};

/// My workplace, which the still-ringing call rings at.
const MY_WORKPLACE: &str = "883140777551101";

/// One call notification in the document's shape.
fn notification(leg: &str, caller: &str, callee: &str, state: &str) -> Value {
    let mut info = json!({
        "call": {"id": leg, "tag": format!("tag-{leg}")},
        "caller": {"accountId": format!("{caller}@pstn"), "displayId": caller, "forwarderList": [], "id": caller},
        "callee": {"accountId": callee, "displayId": callee, "forwarderList": [], "id": callee},
        "startTime": "2020-06-02 11:18:16",
        "state": state,
        "transportId": "10.133.33.136:5073",
        "type": "incoming"
    });
    if state == "finished" {
        info["duration"] = json!(0);
        info["reason"] = json!("Caller hung up");
    }
    json!({"event": "callNotifications", "result": {"callInfo": info}})
}

/// Posts one notification to the relay's hook, which must accept it; returns its relay id.
async fn post(http: &reqwest::Client, relay: &relay::RelayHandle, body: &Value) -> i64 {
    let url = format!("{}/events", relay.redirect_uri().expose_secret());
    let answer = http.post(url).json(body).send().await.unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    answer.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// Opens the profile again over the same secrets, as the app or `trubka events` would after
/// a restart, and starts its live events; returns it with its events from before the start.
async fn start_again(
    w: &World,
    name: &str,
    vault: &Arc<dyn SecretVault>,
) -> (Arc<Companion>, broadcast::Receiver<DomainEvent>) {
    let app = Arc::new(Companion::open(w.profile(name), Arc::clone(vault)).unwrap());
    let events = app.subscribe();
    app.start_live_events().await.unwrap();
    (app, events)
}

/// What the domain events would raise on the desktop, by leg.
#[derive(Debug, Default)]
struct Raised {
    /// Incoming calls offered a popup while ringing (and with it an incoming-call notice).
    popups: BTreeSet<String>,
    /// Missed calls offered a notification.
    missed: BTreeSet<String>,
    /// Whether the end of the backlog was announced.
    caught_up: bool,
}

impl Raised {
    fn note(&mut self, event: &DomainEvent) {
        let json = serde_json::to_value(event).unwrap();
        let late = json["late"] == true;
        let ringing_in =
            |call: &Value| call["direction"] == "incoming" && call["phase"] == "ringing";
        match json["kind"].as_str().unwrap() {
            "callStarted" | "callUpdated" if !late && ringing_in(&json["call"]) => {
                self.popups
                    .insert(json["call"]["leg"].as_str().unwrap().to_owned());
            }
            "callEnded" if !late && json["missed"] == true => {
                self.missed
                    .insert(json["call"]["leg"].as_str().unwrap().to_owned());
            }
            "caughtUp" => {
                self.caught_up = true;
                for call in json["live"].as_array().unwrap() {
                    if ringing_in(call) {
                        self.popups.insert(call["leg"].as_str().unwrap().to_owned());
                    }
                }
            }
            _ => {}
        }
    }
}

/// Reads events until the log has applied `last_id` and the backlog's end was announced (or 10 s
/// pass without it: a core that does not know late events never announces it).
async fn follow_until_caught_up(
    app: &Companion,
    events: &mut broadcast::Receiver<DomainEvent>,
    last_id: i64,
    raised: &mut Raised,
    routed: &mut Vec<companion::RoutingOutcome>,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let applied = app.log().cursor().await.unwrap() >= Some(last_id);
        if applied && raised.caught_up {
            return;
        }
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(event)) => {
                if let DomainEvent::Routed { outcome } = &event {
                    routed.push(outcome.clone());
                }
                raised.note(&event);
            }
            Ok(Err(broadcast::error::RecvError::Lagged(n))) => panic!("{n} events missed"),
            Ok(Err(e)) => panic!("{e}"),
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_that_rang_while_the_core_was_off_raise_nothing_but_the_one_still_ringing() {
    let w = World::start().await;
    let (router, vault) = w.router_and_vault().await;
    // Every incoming call would pop up, and my workplace is set: what keeps a popup away must
    // be the lateness alone.
    let mut settings = router.settings();
    settings.popups.scope = companion::settings::PopupScope::AllIncoming;
    settings.workplace = Some(MY_WORKPLACE.into());
    w.profile("router").save_settings(&settings).unwrap();
    router.shutdown().await;
    drop(router);

    // While the core is off: 50 calls ring and end, every fifth to the parked number (each
    // from its own caller, so each is a parked call of its own), then one starts ringing at
    // my workplace and is still ringing when the core starts.
    let http = reqwest::Client::new();
    let mut parked = BTreeSet::new();
    for n in 0..50 {
        let leg = format!("late-leg-{n}");
        let caller = format!("7916{n:07}");
        let to = if n % 5 == 0 {
            parked.insert(leg.clone());
            PARKED
        } else {
            UNPARKED
        };
        post(&http, &w.relay, &notification(&leg, &caller, to, "trying")).await;
        post(
            &http,
            &w.relay,
            &notification(&leg, &caller, to, "finished"),
        )
        .await;
    }
    let ringing = "late-leg-ringing";
    let last_id = post(
        &http,
        &w.relay,
        &notification(ringing, "79035557788", MY_WORKPLACE, "trying"),
    )
    .await;

    let (app, mut events) = start_again(&w, "router", &vault).await;
    assert!(app.is_deciding(), "{:?}", app.parking_state());
    let mut raised = Raised::default();
    let mut routed = Vec::new();
    follow_until_caught_up(&app, &mut events, last_id, &mut raised, &mut routed).await;

    // One popup: the call still ringing; no notification for the rest.
    assert_eq!(
        raised.popups,
        BTreeSet::from([ringing.to_owned()]),
        "popups offered"
    );
    assert_eq!(raised.missed, BTreeSet::new(), "missed-call notifications");
    assert!(raised.caught_up, "the end of the backlog is announced");
    let live = app.live_calls();
    let still = live
        .iter()
        .find(|c| c.leg == ringing)
        .expect("still ringing");
    assert!(app.wants_popup(still), "{still:?}");

    // The parked calls are journalled as missed while offline, and the PBX heard nothing.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while routed.len() < parked.len() && tokio::time::Instant::now() < deadline {
        if let Ok(Ok(DomainEvent::Routed { outcome })) =
            tokio::time::timeout(Duration::from_millis(200), events.recv()).await
        {
            routed.push(outcome);
        }
    }
    let requests = w.get("/requests").await;
    assert_eq!(
        requests,
        json!([]),
        "no transferCall or terminateCall reached the PBX"
    );
    let decided: BTreeSet<String> = routed.iter().map(|o| o.leg.clone()).collect();
    assert_eq!(decided, parked, "{routed:?}");
    // (By their words, which the journal and the CLI show.)
    let word = |o: call_log::RoutingOutcome| serde_json::to_value(o).unwrap();
    assert!(
        routed
            .iter()
            .all(|o| word(o.result) == "missed_offline" && !o.in_time),
        "{routed:?}"
    );
    let journal = app.routing_journal(100).await.unwrap();
    assert_eq!(journal.decisions.len(), parked.len());
    assert_eq!(
        journal.met, 0,
        "a call missed while away never met its deadline"
    );
    assert!(
        journal
            .decisions
            .iter()
            .all(|d| word(d.outcome) == "missed_offline" && d.rule.as_deref() == Some("offline")),
        "{journal:?}"
    );

    // All 51 calls are in the history.
    let page = app
        .log()
        .history(call_log::HistoryFilter::default(), None, 500)
        .await
        .unwrap();
    assert_eq!(page.calls.len(), 51);

    // From here on calls are live again: a new one pops up at once.
    let fresh = "live-leg-after";
    post(
        &http,
        &w.relay,
        &notification(fresh, "79035550011", MY_WORKPLACE, "trying"),
    )
    .await;
    let started = crate::wait_for(
        &mut events,
        "the live call",
        |e| matches!(e, DomainEvent::CallStarted { call, .. } if call.leg == fresh),
    )
    .await;
    let mut after = Raised::default();
    after.note(&started);
    assert_eq!(after.popups, BTreeSet::from([fresh.to_owned()]));
    w.shutdown(&[&app]).await;
}

/// The router profile, signed in with `PARKED` parked and the deadline given, then stopped;
/// returns the vault that keeps its sign-in.
async fn stopped_router(w: &World, deadline_ms: u64) -> Arc<dyn SecretVault> {
    let (router, vault) = w.router_and_vault().await;
    let routing = companion::RoutingSettings {
        deadline_ms,
        ..router.routing_settings()
    };
    router.set_routing_settings(routing).unwrap();
    router.shutdown().await;
    vault
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_still_parked_past_its_deadline_is_journalled_missed_and_left_to_the_pbx() {
    let w = World::start().await;
    let vault = stopped_router(&w, 300).await;
    let http = reqwest::Client::new();
    let leg = "late-parked-still";
    post(
        &http,
        &w.relay,
        &notification(leg, "79161112299", PARKED, "trying"),
    )
    .await;
    // By the relay's clock the leg is past its 300 ms when the backlog ends.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (app, mut events) = start_again(&w, "router", &vault).await;
    let outcome = crate::routing::routed(&mut events, leg).await;
    assert_eq!(
        outcome.result,
        call_log::RoutingOutcome::MissedOffline,
        "{outcome:?}"
    );
    assert!(!outcome.in_time && outcome.elapsed_ms >= 300, "{outcome:?}");
    assert_eq!(
        w.get("/requests").await,
        json!([]),
        "nothing reached the PBX"
    );
    let why = app.routing_reason(leg).await.unwrap().expect("journalled");
    assert_eq!(why.rule.as_deref(), Some("offline"));
    w.shutdown(&[&app]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_parked_moments_before_the_core_starts_is_still_routed_in_time() {
    let w = World::start().await;
    let vault = stopped_router(&w, 4_000).await;
    // The simulator parks a call from the client whose manager is Kuznetsov; the core starts
    // right after, and finds the parking leg in the backlog with most of its 4 s left.
    let (parking, _main) = w.parked_call(crate::routing::CLIENT).await;
    let (app, mut events) = start_again(&w, "router", &vault).await;
    let outcome = crate::routing::routed(&mut events, &parking).await;
    assert_eq!(
        outcome.result,
        call_log::RoutingOutcome::Transferred,
        "{outcome:?}"
    );
    assert!(outcome.in_time, "{outcome:?}");
    let requests = w.requests_for(&parking).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["method"], "transferCall");
    assert_eq!(requests[0]["callee_id"], crate::routing::KUZNETSOV);
    w.shutdown(&[&app]).await;
}

/// A link and a pipeline on a fresh call log in `dir`, reconnecting after `backoff` (with
/// jitter, between all of it and a quarter more; the relay's `retry:` is held to it).
fn follow_relay(
    dir: &std::path::Path,
    stream_url: &str,
    key: &str,
    backoff: Duration,
) -> (
    broadcast::Receiver<DomainEvent>,
    tokio_util::sync::CancellationToken,
) {
    let log = call_log::CallLog::open(dir.join("calls.sqlite"), Default::default()).unwrap();
    let (out, events) = broadcast::channel(4096);
    let me = companion::Me {
        workplace: Some(MY_WORKPLACE.into()),
        terminals: Default::default(),
        colleagues: Default::default(),
    };
    let pipeline = companion::Pipeline::new(
        log,
        Arc::new(std::sync::Mutex::new(companion::LiveCalls::new())),
        Arc::new(std::sync::RwLock::new(me)),
        out,
    );
    let config = companion::LinkConfig {
        min_backoff: backoff,
        max_backoff: backoff,
        ..Default::default()
    };
    let link = companion::RelayLink::new(
        stream_url.parse().unwrap(),
        companion::RelayKey::new(key),
        config,
    )
    .unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(link.run(None, tx, cancel.clone()));
    tokio::spawn(pipeline.run(rx, cancel.clone()));
    (events, cancel)
}

fn json_of(event: &DomainEvent) -> Value {
    serde_json::to_value(event).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_starts_ringing_during_a_short_drop_pops_up_when_the_link_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let hook = relay::HookPath::generate();
    let key = relay::ClientKey::generate();
    let first =
        crate::pipeline::relay_with_key(dir.path(), "relay.sqlite3", hook.clone(), None, &key)
            .await;
    let address = first.local_addr();
    let (mut events, cancel) = follow_relay(
        dir.path(),
        first.stream_url(),
        key.expose_secret(),
        Duration::from_secs(3),
    );
    crate::wait_for(&mut events, "the first catch-up", |e| {
        matches!(e, DomainEvent::CaughtUp { .. })
    })
    .await;
    let http = reqwest::Client::new();
    post(
        &http,
        &first,
        &notification("before-drop", "79035550001", MY_WORKPLACE, "trying"),
    )
    .await;
    let before = crate::wait_for(&mut events, "the call before the drop", |e| {
        matches!(e, DomainEvent::CallStarted { .. })
    })
    .await;
    assert_eq!(json_of(&before)["late"], false, "{before:?}");

    // The link drops; while it is down (the app waits at least 3 s before trying again) a
    // call starts ringing at my workplace.
    first.shutdown().await.unwrap();
    let second =
        crate::pipeline::relay_with_key(dir.path(), "relay.sqlite3", hook, Some(address), &key)
            .await;
    let during = "during-drop";
    post(
        &http,
        &second,
        &notification(during, "79035550002", MY_WORKPLACE, "trying"),
    )
    .await;

    // Back: the call arrives late, and still rings when the backlog ends, so it pops up then.
    let started = crate::wait_for(
        &mut events,
        "the call from the drop",
        |e| matches!(e, DomainEvent::CallStarted { call, .. } if call.leg == during),
    )
    .await;
    assert_eq!(json_of(&started)["late"], true, "{started:?}");
    let caught_up = crate::wait_for(&mut events, "the catch-up", |e| {
        matches!(e, DomainEvent::CaughtUp { .. })
    })
    .await;
    let mut raised = Raised::default();
    raised.note(&started);
    raised.note(&caught_up);
    assert!(raised.popups.contains(during), "{caught_up:?}");
    let DomainEvent::CaughtUp { late_events, .. } = caught_up else {
        unreachable!()
    };
    assert_eq!(late_events, 1);
    cancel.cancel();
    second.shutdown().await.unwrap();
}

/// A stand-in for a relay from before the end-of-backlog mark: its stream has no
/// `Trubka-Stream` header and one stored call event, then only heartbeats.
async fn older_relay(body: Value) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut chunk = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&chunk[..n]),
                    }
                }
                let data = json!({
                    "id": 1,
                    "receivedAt": chrono::Utc::now().to_rfc3339(),
                    "kind": "callNotifications",
                    "body": body,
                });
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n\
                     retry: 100\n\nid: 1\nevent: callNotifications\ndata: {data}\n\n"
                );
                if socket.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if socket.write_all(b": heartbeat\n\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{address}/events/stream")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_older_relay_that_does_not_mark_its_backlog_everything_is_live_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let url = older_relay(notification(
        "old-relay-leg",
        "79035550003",
        MY_WORKPLACE,
        "trying",
    ))
    .await;
    let (mut events, cancel) = follow_relay(dir.path(), &url, "trk_any", Duration::from_secs(1));
    let caught_up = crate::wait_for(&mut events, "the catch-up at once", |e| {
        matches!(e, DomainEvent::CaughtUp { .. })
    })
    .await;
    assert_eq!(json_of(&caught_up)["lateEvents"], 0, "{caught_up:?}");
    let started = crate::wait_for(&mut events, "the call", |e| {
        matches!(e, DomainEvent::CallStarted { .. })
    })
    .await;
    assert_eq!(json_of(&started)["late"], false, "{started:?}");
    cancel.cancel();
}
