//! Webhook POSTed to the relay → domain event out of the core, on loopback.
//!
//! Starts a real relay (SQLite, durable commits), the link, the pipeline and a real call log,
//! posts N incoming-call notifications (default 10,000; first argument) from a few concurrent
//! senders at a steady rate (default 500 per second; second argument, 0 for as fast as they go),
//! and measures for each the time from the start of its POST to the `CallStarted`
//! domain event, which comes after the event is committed at the relay, streamed, applied to the
//! call log and looked up for the screen-pop. Prints p50, p90, p99 and max.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark program: a panic is a failed run"
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use call_log::{CallLog, CallLogConfig};
use companion::{DomainEvent, LinkConfig, LiveCalls, Me, Pipeline, RelayKey, RelayLink};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

const SENDERS: usize = 4;

fn trying(n: usize) -> String {
    serde_json::json!({"event":"callNotifications","result":{"callInfo":{
        "call":{"id":format!("bench-leg-{n}"),"tag":"t"},
        "caller":{"accountId":format!("7916{n:07}@pstn"),"displayId":format!("7916{n:07}"),"forwarderList":[],"id":format!("7916{n:07}")},
        "callee":{"accountId":"74996497803","displayId":"74996497803","forwarderList":[],"id":"74996497803"},
        "startTime":"2020-06-02 11:18:16","state":"trying","transportId":"10.133.33.136:5073","type":"incoming"
    }}})
    .to_string()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let rate: f64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500.0);
    let dir = tempfile::tempdir().unwrap();
    let relay = relay::Relay::start(relay::RelayConfig::new(
        relay::HookPath::generate(),
        dir.path().join("relay.sqlite3"),
    ))
    .await
    .unwrap();
    let key = relay::ClientKey::generate();
    relay
        .state()
        .store
        .add_client_key("bench".into(), key.hash())
        .await
        .unwrap();
    let log = CallLog::open(dir.path().join("calls.sqlite"), CallLogConfig::default()).unwrap();
    let (out, mut events) = broadcast::channel(total * 2 + 16);
    let pipeline = Pipeline::new(
        log.clone(),
        Arc::new(Mutex::new(LiveCalls::new())),
        Arc::new(RwLock::new(Me::default())),
        out,
    );
    let cancel = CancellationToken::new();
    let link = RelayLink::new(
        relay.stream_url().parse().unwrap(),
        RelayKey::new(key.expose_secret()),
        LinkConfig::default(),
    )
    .unwrap();
    let (tx, rx) = mpsc::channel(4096);
    tokio::spawn(link.run(None, tx, cancel.clone()));
    tokio::spawn(pipeline.run(rx, cancel.clone()));
    loop {
        if let DomainEvent::Link { state, .. } = events.recv().await.unwrap()
            && state == "connected"
        {
            break;
        }
    }

    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let hook = format!("{}/events", relay.redirect_uri().expose_secret());
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let (http, hook, sent) = (http.clone(), hook.clone(), Arc::clone(&sent));
        senders.push(tokio::spawn(async move {
            for n in (s..total).step_by(SENDERS) {
                if rate > 0.0 {
                    // Event n is due at n / rate seconds after the start.
                    let due = started + Duration::from_secs_f64(n as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                let body = trying(n);
                sent.lock()
                    .unwrap()
                    .insert(format!("bench-leg-{n}"), Instant::now());
                let answer = http
                    .post(&hook)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert!(answer.status().is_success());
            }
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    while latencies.len() < total {
        match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
            Ok(Ok(DomainEvent::CallStarted { call, .. })) => {
                let at = sent
                    .lock()
                    .unwrap()
                    .remove(&call.leg)
                    .expect("sent before announced");
                latencies.push(at.elapsed());
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("events lost: {e}"),
            Err(_) => panic!("stalled after {} events", latencies.len()),
        }
    }
    let elapsed = started.elapsed();
    for s in senders {
        s.await.unwrap();
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "webhook → domain event over {total} events from {SENDERS} senders at {}: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {:.0} events/s",
        if rate > 0.0 {
            format!("{rate} events/s")
        } else {
            "full speed".to_owned()
        },
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.90).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        total as f64 / elapsed.as_secs_f64()
    );
    cancel.cancel();
    relay.shutdown().await.unwrap();
}
