//! Throughput of the traffic generator: notifications per second delivered as real webhooks
//! to a loopback receiver.
//!
//! `cargo bench -p mtt-sim --bench traffic [-- SECONDS RATE...]` (defaults: 5 s at 250, 500
//! and 1000 calls per second). Generated calls use a time scale of 1/2000, so a call lasts a
//! few milliseconds and each produces about eight notifications.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark that cannot set up should stop loudly"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::routing::post;
use mtt_sim::{Sim, SimConfig, TrafficConfig};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let seconds: f64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let rates: Vec<f64> = if args.len() > 1 {
        args[1..].iter().filter_map(|s| s.parse().ok()).collect()
    } else {
        vec![250.0, 500.0, 1000.0]
    };
    println!(
        "calls/s offered | notifications/s delivered | failed | backlog at end | mean latency ms"
    );
    for rate in rates {
        run(rate, seconds).await;
    }
}

async fn run(rate: f64, seconds: f64) {
    let received = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&received);
    let app = axum::Router::new().route(
        "/events",
        post(move |_body: bytes::Bytes| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}", listener.local_addr().unwrap());
    let receiver = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut config = SimConfig {
        webhook_url: Some(hook),
        traffic: Some(TrafficConfig {
            calls_per_second: rate,
            time_scale: 0.0005,
        }),
        ..SimConfig::default()
    };
    config.timings.record_delay_ms = 2;
    config.webhook.log_capacity = 1_000;
    let sim = Sim::start(config).await.unwrap();
    let control = format!("{}/stats", sim.control_url());
    let http = reqwest::Client::new();

    // Warm up, then measure what the receiver got over the window.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let start_count = received.load(Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    let delivered = received.load(Ordering::Relaxed) - start_count;
    let elapsed = started.elapsed().as_secs_f64();
    let stats: serde_json::Value = http
        .get(&control)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let log: Vec<serde_json::Value> = http
        .get(format!("{}/deliveries?limit=1000", sim.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let latencies: Vec<f64> = log
        .iter()
        .filter_map(|r| r["latency_ms"].as_f64())
        .collect();
    let mean = latencies.iter().sum::<f64>() / latencies.len().max(1) as f64;
    let w = &stats["webhooks"];
    let backlog = w["queued"].as_u64().unwrap_or(0)
        - w["delivered"].as_u64().unwrap_or(0)
        - w["failed"].as_u64().unwrap_or(0);
    println!(
        "{rate:>15} | {:>25.0} | {:>6} | {backlog:>14} | {mean:>15.3}",
        delivered as f64 / elapsed,
        w["failed"],
    );
    sim.shutdown().await;
    receiver.abort();
}
