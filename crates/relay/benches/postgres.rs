//! SQLite against Postgres, same run, same machine (a plain program, `harness = false`):
//! durable intake with 64 concurrent senders into one relay on SQLite, one relay on Postgres, and
//! three relay instances on one Postgres database (the senders spread over them, as a load
//! balancer would). Every 2xx means committed: SQLite in WAL with `synchronous=FULL`, Postgres
//! with its fsync on (a cluster the program starts with `initdb` on the build directory's disk).
//! On 2 cores three instances, the database and the senders share the CPU, so the ratio to
//! SQLite's figure on the same run says more than the absolute numbers.
//!
//! Run with `cargo bench -p relay --bench postgres`; `RELAY_BENCH_EVENTS` sets the events per
//! setup (default 20,000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{SENDERS, env_usize, percentile};
use relay::store::DatabaseUrl;
use relay::{HookPath, Relay, RelayConfig, RelayHandle};

#[allow(dead_code)] // the other benchmarks use the rest
mod common;
#[allow(dead_code)]
#[path = "../tests/it/pg_cluster.rs"]
mod pg_cluster;

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

/// Posts `events` webhooks from [`SENDERS`] senders spread over `relays`; every answer must
/// be 2xx.
async fn intake(relays: &[RelayHandle], events: usize) -> Figures {
    let urls: Vec<String> = relays
        .iter()
        .map(|relay| format!("{}/events", relay.redirect_uri().expose_secret()))
        .collect();
    let http = reqwest::Client::new();
    for (n, url) in urls.iter().cycle().take(SENDERS).enumerate() {
        let warm = format!(r#"{{"event":"vpbxNotifications","warm":{n}}}"#);
        http.post(url).body(warm).send().await.unwrap();
    }
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        let (http, next) = (http.clone(), Arc::clone(&next));
        let url = urls[sender % urls.len()].clone();
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
                    .body(format!(r#"{{"event":"vpbxNotifications","n":{n}}}"#))
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
    Figures {
        per_second: events as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        max: percentile(&latencies, 1.0),
    }
}

fn print(name: &str, figures: &Figures, sqlite: Option<&Figures>, load: &str) {
    let ratio = sqlite.map_or(String::new(), |base| {
        format!(" ({:.2}× SQLite)", figures.per_second / base.per_second)
    });
    println!(
        "  {name}: {:.0} events/s{ratio}; per POST p50 {:.2?}, p99 {:.2?}, max {:.2?}; load {load}",
        figures.per_second, figures.p50, figures.p99, figures.max
    );
}

fn main() {
    let events = env_usize("RELAY_BENCH_EVENTS", 20_000);
    common::run(|dir| async move {
        println!("durable intake, {events} events per setup, {SENDERS} concurrent senders");
        let hook = HookPath::generate();

        let load = loadavg();
        let config = RelayConfig::new(hook.clone(), dir.path().join("intake.sqlite3"));
        let sqlite = Relay::start(config).await.unwrap();
        let base = intake(std::slice::from_ref(&sqlite), events).await;
        sqlite.shutdown().await.unwrap();
        print("SQLite, one relay", &base, None, &load);

        let cluster = pg_cluster::durable_cluster();
        for instances in [1, 3] {
            let url = pg_cluster::database_in(cluster).await;
            let mut relays = Vec::new();
            for _ in 0..instances {
                let mut config = RelayConfig::new(hook.clone(), dir.path().join("unused.sqlite3"));
                config.postgres = Some(DatabaseUrl::recognise(&url).unwrap().unwrap());
                relays.push(Relay::start(config).await.unwrap());
            }
            let load = loadavg();
            let figures = intake(&relays, events).await;
            print(
                &format!("Postgres, {instances} instance(s)"),
                &figures,
                Some(&base),
                &load,
            );
            for relay in relays {
                relay.shutdown().await.unwrap();
            }
        }
    });
}
