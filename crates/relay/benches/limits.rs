//! Relay under hostile load (issue 13, item 14), a plain program (`harness = false`), loopback
//! only, one process:
//!
//! - 1,000 sign-in long polls held open at `/oauth/code/<state>` for the whole run (re-sent as
//!   soon as one ends), within the default `oauth_polls_max`;
//! - 1,000 stream requests a second with wrong client keys (each answered 401);
//! - one real stream client, which must receive every event;
//!
//! and meanwhile webhook intake, measured twice: flat out (64 concurrent senders, 20,000
//! events, as `benches/intake.rs` does without the attack) and paced (2,000 events a second for
//! 10 s, up to 64 in flight). Each reports events/s and p50/p99/max per POST, and checks that
//! nothing was lost: every POST answered 200, every event stored once, every event streamed.
//!
//! It also prints the write-ahead log's size after each phase (item 16 bounds it by
//! `wal_limit_bytes`, 64 MiB by default).
//!
//! Run with `cargo bench -p relay --bench limits`. `RELAY_BENCH_EVENTS`, `RELAY_BENCH_POLLS`,
//! `RELAY_BENCH_WRONG_KEYS_PER_SEC`, `RELAY_BENCH_PACED_RATE` and `RELAY_BENCH_PACED_SECS` change
//! the sizes; `RELAY_BENCH_WAL_LIMIT` (bytes) the log's limit, for comparison.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{SENDERS, drain_frames, env_usize, notification, percentile, relay_with_key};
use futures::StreamExt as _;
use relay::store::EventId;
use relay::{ClientKey, HookPath, RelayConfig, RelayHandle};
use tokio::sync::{Mutex, Semaphore};

mod common;

/// The webhook for call `<phase>-<n>`.
fn phase_notification(phase: &str, n: usize) -> String {
    notification(&format!("{phase}-{n}"), None)
}

fn polls_waiting(relay: &RelayHandle) -> usize {
    let state = relay.state();
    state.config.oauth_polls_max - state.oauth_polls.available_permits()
}

/// The background attack; counts what the relay answered.
#[derive(Default)]
struct Attack {
    stop: AtomicBool,
    polls_sent: AtomicU64,
    polls_refused: AtomicU64,
    wrong_keys_sent: AtomicU64,
    wrong_keys_401: AtomicU64,
    wrong_key_latencies: Mutex<Vec<Duration>>,
}

fn start_polls(attack: &Arc<Attack>, base: &str, polls: usize) {
    // One client per hundred polls: a realistic spread of connections, without a pool lock
    // shared by all of them.
    for group in 0..polls.div_ceil(100) {
        let http = reqwest::Client::new();
        for index in (group * 100)..((group + 1) * 100).min(polls) {
            let (attack, http, base) = (Arc::clone(attack), http.clone(), base.to_owned());
            tokio::spawn(async move {
                let mut round = 0u64;
                while !attack.stop.load(Ordering::Relaxed) {
                    round += 1;
                    attack.polls_sent.fetch_add(1, Ordering::Relaxed);
                    let url = format!("{base}/oauth/code/bench-poll-{index}-{round}");
                    match http.get(&url).send().await {
                        Ok(response) if response.status() == 503 => {
                            attack.polls_refused.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Ok(_) => {}
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            });
        }
    }
}

fn start_wrong_keys(attack: &Arc<Attack>, stream_url: &str, per_second: usize) {
    let (attack, stream_url) = (Arc::clone(attack), stream_url.to_owned());
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let in_flight = Arc::new(Semaphore::new(512));
        let mut ticks =
            tokio::time::interval(Duration::from_secs_f64(1.0 / per_second.max(1) as f64));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut n = 0u64;
        while !attack.stop.load(Ordering::Relaxed) {
            ticks.tick().await;
            n += 1;
            let permit = Arc::clone(&in_flight).acquire_owned().await.unwrap();
            let (attack, http, url) = (Arc::clone(&attack), http.clone(), stream_url.clone());
            tokio::spawn(async move {
                attack.wrong_keys_sent.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                let answer = http
                    .get(&url)
                    .bearer_auth(format!("trk_wrong-key-{n}"))
                    .send()
                    .await;
                let latency = sent.elapsed();
                if matches!(&answer, Ok(response) if response.status() == 401) {
                    attack.wrong_keys_401.fetch_add(1, Ordering::Relaxed);
                }
                attack.wrong_key_latencies.lock().await.push(latency);
                drop(permit);
            });
        }
    });
}

/// A real client's stream; returns how many events it received before `expected` or a quiet
/// 30 s.
fn start_reader(
    stream_url: &str,
    key: &ClientKey,
    expected: usize,
) -> tokio::task::JoinHandle<usize> {
    let (stream_url, key) = (stream_url.to_owned(), key.expose_secret().to_owned());
    tokio::spawn(async move {
        let response = reqwest::Client::new()
            .get(&stream_url)
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.bytes_stream();
        let mut buffer = Vec::new();
        let mut received = 0;
        while received < expected {
            let Ok(Some(Ok(chunk))) =
                tokio::time::timeout(Duration::from_secs(30), body.next()).await
            else {
                break;
            };
            buffer.extend_from_slice(&chunk);
            received += drain_frames(&mut buffer)
                .iter()
                .filter(|frame| frame.starts_with(b"id:"))
                .count();
        }
        received
    })
}

/// Posts `events` notifications, at most `SENDERS` at once, each at its tick when `rate` is
/// given; returns the sorted latencies and the elapsed time.
async fn post_all(
    http: &reqwest::Client,
    url: &str,
    phase: &'static str,
    events: usize,
    rate: Option<usize>,
) -> (Vec<Duration>, Duration) {
    let in_flight = Arc::new(Semaphore::new(SENDERS));
    let mut ticks = rate.map(|rate| {
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        ticks
    });
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut posts = Vec::with_capacity(events);
    for n in 0..events {
        if let Some(ticks) = ticks.as_mut() {
            ticks.tick().await;
        }
        let permit = Arc::clone(&in_flight).acquire_owned().await.unwrap();
        let (http, url, failures) = (http.clone(), url.to_owned(), Arc::clone(&failures));
        posts.push(tokio::spawn(async move {
            let sent = Instant::now();
            let response = http
                .post(&url)
                .body(phase_notification(phase, n))
                .send()
                .await;
            let latency = sent.elapsed();
            if !matches!(&response, Ok(answer) if answer.status() == 200) {
                failures.fetch_add(1, Ordering::Relaxed);
            }
            drop(permit);
            latency
        }));
    }
    let mut latencies = Vec::with_capacity(events);
    for post in posts {
        latencies.push(post.await.unwrap());
    }
    let elapsed = started.elapsed();
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "{phase}: some POSTs were not answered 200"
    );
    latencies.sort_unstable();
    (latencies, elapsed)
}

fn report(phase: &str, events: usize, latencies: &[Duration], elapsed: Duration) {
    println!(
        "  {phase}: {events} events in {elapsed:.2?} = {:.0} events/s; per POST p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        events as f64 / elapsed.as_secs_f64(),
        percentile(latencies, 0.50),
        percentile(latencies, 0.99),
        percentile(latencies, 1.0),
    );
}

async fn run(dir: &tempfile::TempDir) {
    let events = env_usize("RELAY_BENCH_EVENTS", 20_000);
    let polls = env_usize("RELAY_BENCH_POLLS", 1_000);
    let wrong_per_second = env_usize("RELAY_BENCH_WRONG_KEYS_PER_SEC", 1_000);
    let paced_rate = env_usize("RELAY_BENCH_PACED_RATE", 2_000);
    let paced_secs = env_usize("RELAY_BENCH_PACED_SECS", 10);
    let paced_events = paced_rate * paced_secs;

    let mut config = RelayConfig::new(HookPath::generate(), dir.path().join("limits.sqlite3"));
    if let Some(limit) = std::env::var("RELAY_BENCH_WAL_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.wal_limit = limit;
    }
    let wal = dir.path().join("limits.sqlite3-wal");
    let wal_bytes = move || std::fs::metadata(&wal).map_or(0, |meta| meta.len()) / 1_000_000;
    let (relay, key) = relay_with_key(config).await;
    let base = format!("http://{}", relay.local_addr());
    let url = format!("{}/events", relay.redirect_uri().expose_secret());
    let stream_url = relay.stream_url().to_owned();
    let reader = start_reader(&stream_url, &key, events + SENDERS + paced_events);

    let attack = Arc::new(Attack::default());
    start_polls(&attack, &base, polls);
    let deadline = Instant::now() + Duration::from_secs(60);
    while polls_waiting(&relay) < polls {
        assert!(
            Instant::now() < deadline,
            "only {} of {polls} polls are waiting",
            polls_waiting(&relay)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start_wrong_keys(&attack, &stream_url, wrong_per_second);
    // Let the attack settle, and warm up the intake connections.
    let http = reqwest::Client::new();
    for n in 0..SENDERS {
        let response = http
            .post(&url)
            .body(phase_notification("warm", n))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let attack_started = Instant::now();
    let wrong_before = attack.wrong_keys_sent.load(Ordering::Relaxed);

    println!(
        "relay under attack: {polls} sign-in polls held, {wrong_per_second} wrong-key stream requests/s, 1 real stream"
    );
    let (flat, flat_time) = post_all(&http, &url, "flat", events, None).await;
    let polls_during_flat = polls_waiting(&relay);
    println!("  (write-ahead log after it: {} MB)", wal_bytes());
    report(
        &format!("flat out, {SENDERS} senders"),
        events,
        &flat,
        flat_time,
    );
    let (paced, paced_time) = post_all(&http, &url, "paced", paced_events, Some(paced_rate)).await;
    let polls_during_paced = polls_waiting(&relay);
    report(
        &format!("paced at {paced_rate}/s, up to {SENDERS} in flight"),
        paced_events,
        &paced,
        paced_time,
    );
    println!("  (write-ahead log after it: {} MB)", wal_bytes());
    let attack_time = attack_started.elapsed();
    let wrong_sent = attack.wrong_keys_sent.load(Ordering::Relaxed) - wrong_before;
    attack.stop.store(true, Ordering::Relaxed);

    let total = events + SENDERS + paced_events;
    let stored = relay
        .state()
        .store
        .events_after(EventId::START, total * 2)
        .await
        .unwrap()
        .events;
    let mut ids: Vec<i64> = stored.iter().map(|event| event.id.0).collect();
    ids.dedup();
    let streamed = reader.await.unwrap();
    let mut wrong = attack.wrong_key_latencies.lock().await.clone();
    wrong.sort_unstable();
    println!(
        "  lost: none if {total} = stored {} = distinct ids {} = streamed {streamed}",
        stored.len(),
        ids.len()
    );
    println!(
        "  wrong keys: {wrong_sent} sent during intake ({:.0}/s), {} answered 401 in all, p50 {:.2?}, p99 {:.2?}",
        wrong_sent as f64 / attack_time.as_secs_f64(),
        attack.wrong_keys_401.load(Ordering::Relaxed),
        percentile(&wrong, 0.50),
        percentile(&wrong, 0.99),
    );
    println!(
        "  sign-in polls: waiting at the end of each phase {polls_during_flat} / {polls_during_paced}; {} sent, {} refused 503",
        attack.polls_sent.load(Ordering::Relaxed),
        attack.polls_refused.load(Ordering::Relaxed),
    );
    assert_eq!(stored.len(), total, "events were lost");
    assert_eq!(ids.len(), total, "ids repeat");
    assert_eq!(streamed, total, "the real stream missed events");
    drop(relay);
}

fn main() {
    common::run(|dir| async move { run(&dir).await });
}
