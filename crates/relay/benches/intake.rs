//! Relay benchmarks (a plain program, `harness = false`), loopback only, bounded request counts:
//!
//! 1. Durable intake: 64 concurrent senders post notifications; every 2xx means committed
//!    (WAL, `synchronous=FULL`, group commit). Reports events/s and p50/p99 per POST.
//! 2. Fan-out: 200 SSE clients while notifications arrive at 500 per second. Reports the lag
//!    from "about to POST" to "client parsed the event" and the process's RSS (relay and all
//!    clients share this process, so the RSS is an upper bound for the relay).
//!
//! Run with `cargo bench -p relay --bench intake`. Sizes can be lowered for a quick look with
//! `RELAY_BENCH_EVENTS`, `RELAY_BENCH_FANOUT_SECS` and `RELAY_BENCH_CLIENTS`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{SENDERS, drain_frames, env_usize, notification, percentile, relay_with_key};
use futures::StreamExt as _;
use relay::store::EventId;
use relay::{HookPath, Relay, RelayConfig};
use tokio::sync::Semaphore;

mod common;

fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .filter(|line| line.starts_with("VmRSS") || line.starts_with("VmHWM"))
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The webhook for call `bench-<n>`, stamped with when it was sent.
fn bench_notification(n: usize, sent_micros: u128) -> String {
    notification(&format!("bench-{n}"), Some(sent_micros))
}

fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros()
}

async fn intake(dir: &tempfile::TempDir, events: usize) {
    let config = RelayConfig::new(HookPath::generate(), dir.path().join("intake.sqlite3"));
    let relay = Relay::start(config).await.unwrap();
    let url = format!("{}/events", relay.redirect_uri().expose_secret());
    let http = reqwest::Client::new();

    // Warm up connections and the store.
    for n in 0..SENDERS {
        http.post(&url)
            .body(bench_notification(events + n, 0))
            .send()
            .await
            .unwrap();
    }

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (http, url, next) = (http.clone(), url.clone(), Arc::clone(&next));
        senders.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= events {
                    return latencies;
                }
                let sent = Instant::now();
                let response = http
                    .post(&url)
                    .body(bench_notification(n, 0))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                latencies.push(sent.elapsed());
            }
        }));
    }
    let mut latencies = Vec::with_capacity(events);
    for sender in senders {
        latencies.extend(sender.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let stored = relay
        .state()
        .store
        .events_after(EventId::START, events * 2)
        .await
        .unwrap()
        .events
        .len();
    let wal = std::fs::metadata(dir.path().join("intake.sqlite3-wal")).map_or(0, |meta| meta.len());
    println!(
        "durable intake: {events} events, {SENDERS} concurrent senders, WAL + synchronous=FULL"
    );
    println!(
        "  {:.0} events/s ({elapsed:.2?} total); per POST p50 {:.2?}, p99 {:.2?}, max {:.2?}; {stored} rows stored",
        events as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
    // The checkpoint thread's rounds are a second apart: give it two.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let wal_later =
        std::fs::metadata(dir.path().join("intake.sqlite3-wal")).map_or(0, |meta| meta.len());
    println!(
        "  write-ahead log right after: {:.1} MB, 2 s later: {:.1} MB (wal_limit_bytes {:.1} MB)",
        wal as f64 / 1e6,
        wal_later as f64 / 1e6,
        relay.state().config.wal_limit as f64 / 1e6
    );
    relay.shutdown().await.unwrap();
}

async fn fanout(dir: &tempfile::TempDir, clients: usize, seconds: usize) {
    let rate = 500;
    let events = rate * seconds;
    let mut config = RelayConfig::new(HookPath::generate(), dir.path().join("fanout.sqlite3"));
    // Every client here shares one key, which a deployment would not do (one key per seat).
    config.streams_per_key = clients;
    let (relay, key) = relay_with_key(config).await;
    let url = format!("{}/events", relay.redirect_uri().expose_secret());
    let stream_url = relay.stream_url().to_owned();
    let rss_before = rss();

    let mut readers = Vec::new();
    for _ in 0..clients {
        let http = reqwest::Client::new();
        let response = http
            .get(&stream_url)
            .bearer_auth(key.expose_secret())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        readers.push(tokio::spawn(async move {
            let mut body = response.bytes_stream();
            let mut buffer = Vec::new();
            let mut lags = Vec::with_capacity(events);
            while lags.len() < events {
                let Ok(Some(Ok(chunk))) =
                    tokio::time::timeout(Duration::from_secs(30), body.next()).await
                else {
                    break;
                };
                buffer.extend_from_slice(&chunk);
                for frame in drain_frames(&mut buffer) {
                    let text = String::from_utf8_lossy(&frame);
                    if let Some(at) = text.find("\"sent\":") {
                        let digits: String = text[at + 7..]
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        let sent: u128 = digits.parse().unwrap_or(0);
                        let lag = now_micros().saturating_sub(sent);
                        lags.push(Duration::from_micros(
                            u64::try_from(lag).unwrap_or(u64::MAX),
                        ));
                    }
                }
            }
            lags
        }));
    }
    while relay.state().fanout.subscribers() < clients {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let http = reqwest::Client::new();
    let in_flight = Arc::new(Semaphore::new(SENDERS));
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / rate as u64));
    let started = Instant::now();
    let mut posts = Vec::with_capacity(events);
    for n in 0..events {
        ticks.tick().await;
        let permit = Arc::clone(&in_flight).acquire_owned().await.unwrap();
        let (http, url) = (http.clone(), url.clone());
        posts.push(tokio::spawn(async move {
            let response = http
                .post(&url)
                .body(bench_notification(n, now_micros()))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            drop(permit);
        }));
    }
    for post in posts {
        post.await.unwrap();
    }
    let send_time = started.elapsed();
    let rss_during = rss();
    let mut all = Vec::with_capacity(events * clients);
    let mut worst_client = Duration::ZERO;
    let mut complete = 0;
    for reader in readers {
        let lags = reader.await.unwrap();
        if lags.len() == events {
            complete += 1;
        }
        if let Some(max) = lags.iter().max() {
            worst_client = worst_client.max(*max);
        }
        all.extend(lags);
    }
    all.sort_unstable();
    println!(
        "fan-out: {clients} SSE clients, {events} events at {rate}/s (sent in {send_time:.2?})"
    );
    println!(
        "  {complete}/{clients} clients received every event; cut off: {}",
        relay.state().metrics.clients_cut_off()
    );
    println!(
        "  lag (POST start -> client parsed) p50 {:.2?}, p99 {:.2?}, max over all clients {:.2?}",
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        worst_client
    );
    println!(
        "  process memory (relay + {clients} clients in one process): before {rss_before}; after {rss_during}"
    );
    relay.shutdown().await.unwrap();
}

fn main() {
    let events = env_usize("RELAY_BENCH_EVENTS", 20_000);
    let seconds = env_usize("RELAY_BENCH_FANOUT_SECS", 10);
    let clients = env_usize("RELAY_BENCH_CLIENTS", 200);
    common::run(|dir| async move {
        intake(&dir, events).await;
        fanout(&dir, clients, seconds).await;
    });
}
