//! Stream fan-out to 1,000 seats, SQLite against Postgres, same run, same machine (a plain
//! program, `harness = false`; issue #19). Three setups, each `trubka-relay serve` as child
//! processes so that each relay's memory is read from its own `/proc/<pid>/status`:
//!
//! 1. one relay on SQLite;
//! 2. one relay on Postgres;
//! 3. three relay instances on one Postgres database, the seats spread over them round-robin and
//!    every event posted to the first: the other two stream it after Postgres' `LISTEN/NOTIFY`
//!    woke them (the fan-out across instances).
//!
//! As in `team.rs`'s fan-out: supervisor seats (every event reaches every seat), a backlog of
//! stored events when they connect, then call events at 50 per second for a fixed period; the
//! delay from "about to POST" to "the seat parsed it" over every seat's receipts, and each relay
//! process's memory. Postgres is a cluster the program starts with `initdb` on the build
//! directory's disk, fsync on (`tests/it/pg_cluster.rs`), a new database per setup. On 2 cores
//! the relays, the database and the 1,000 clients share the CPU, so the ratio to SQLite's figure
//! of the same run says more than the absolute numbers.
//!
//! Run with `cargo bench -p relay --bench fanout`; `FANOUT_BENCH_SEATS` (default 1,000),
//! `FANOUT_BENCH_SECS` (10) and `FANOUT_BENCH_BACKLOG` (3,000) lower the sizes for a quick look.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{TimeDelta, Utc};
use futures::StreamExt as _;
use relay::seats::InviteCode;
use relay::store::team::{NewSeat, SeatRef};
use relay::store::{DatabaseUrl, NoSink, RelayStore, StoreLocation};
use serde_json::{Value, json};
use team_api::Role;
use tokio::sync::mpsc;

use common::{drain_frames, env_usize, percentile};

#[allow(dead_code)] // the other benchmarks use the rest
mod common;
#[allow(dead_code)]
#[path = "../tests/it/pg_cluster.rs"]
mod pg_cluster;

const BINARY: &str = env!("CARGO_BIN_EXE_trubka-relay");
const RATE: usize = 50;
const ANNA: &str = "883140582526566";

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn notification(n: usize, sent_micros: Option<u128>) -> String {
    common::notification(&format!("fanout-bench-{n}"), sent_micros)
}

/// The relay processes of one setup, on one store.
struct Setup {
    processes: Vec<std::process::Child>,
    bases: Vec<String>,
    events_url: String,
    /// The store opened by this process too, as `trubka-relay seats …` opens it.
    store: Arc<dyn RelayStore>,
    http: reqwest::Client,
}

impl Setup {
    /// `instances` relays (`trubka-relay serve`) on `database` (a SQLite file or a Postgres
    /// address), configured in `dir`.
    async fn start(dir: &Path, database: &str, instances: usize) -> Setup {
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join("relay.toml");
        let init = std::process::Command::new(BINARY)
            .arg("--config")
            .arg(&config)
            .args(["init", "--public-url", "https://team.example.com"])
            .env_remove("TRUBKA_RELAY_HOOK")
            .env_remove("TRUBKA_RELAY_KEY")
            .output()
            .unwrap();
        assert!(init.status.success(), "{init:?}");
        let text = std::fs::read_to_string(&config).unwrap();
        let hook = text
            .lines()
            .find_map(|line| line.strip_prefix("hook = "))
            .unwrap()
            .trim_matches('"')
            .to_owned();
        let text: String = text
            .lines()
            .filter(|line| {
                !line.starts_with("listen =")
                    && !line.starts_with("database =")
                    && !line.starts_with("public_url =")
            })
            .map(|line| format!("{line}\n"))
            .collect();
        std::fs::write(
            &config,
            format!("database = \"{database}\"\njoin_attempts_per_minute = 100000\n{text}"),
        )
        .unwrap();
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(2048)
            .build()
            .unwrap();
        let mut processes = Vec::new();
        let mut bases = Vec::new();
        for _ in 0..instances {
            let port = free_port();
            processes.push(
                std::process::Command::new(BINARY)
                    .arg("--config")
                    .arg(&config)
                    .args(["serve", "--listen"])
                    .arg(format!("127.0.0.1:{port}"))
                    .env_remove("TRUBKA_RELAY_HOOK")
                    .env_remove("TRUBKA_RELAY_KEY")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            bases.push(format!("http://127.0.0.1:{port}"));
        }
        for base in &bases {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !http
                .get(format!("{base}/healthz"))
                .send()
                .await
                .is_ok_and(|response| response.status() == 200)
            {
                assert!(Instant::now() < deadline, "{base} never came up");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let location = match DatabaseUrl::recognise(database) {
            Some(url) => StoreLocation::Postgres(url.unwrap()),
            None => StoreLocation::Sqlite(database.into()),
        };
        let store = location.open(Arc::new(NoSink)).await.unwrap();
        Setup {
            events_url: format!("{}/{hook}/events", bases[0]),
            processes,
            bases,
            store,
            http,
        }
    }

    /// Each relay process's resident memory now and at its peak, in MB.
    fn memory(&self) -> Vec<(f64, f64)> {
        self.processes
            .iter()
            .map(|process| {
                let status =
                    std::fs::read_to_string(format!("/proc/{}/status", process.id())).unwrap();
                let mb = |field: &str| {
                    status
                        .lines()
                        .find(|line| line.starts_with(field))
                        .and_then(|line| line.split_whitespace().nth(1))
                        .and_then(|kb| kb.parse::<u64>().ok())
                        .unwrap_or(0) as f64
                        / 1024.0
                };
                (mb("VmRSS:"), mb("VmHWM:"))
            })
            .collect()
    }

    fn stop(mut self) {
        for process in &mut self.processes {
            process.kill().unwrap();
            process.wait().unwrap();
        }
    }
}

fn show(memory: &[(f64, f64)]) -> String {
    memory
        .iter()
        .map(|(rss, peak)| format!("{rss:.1} MB (peak {peak:.1})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A supervisor seat joined through `base` with an invite the store made.
async fn join(setup: &Setup, base: &str, n: usize) -> String {
    let seat = setup
        .store
        .add_seat(NewSeat {
            name: format!("Seat {n}"),
            workplace: ANNA.into(),
            role: Role::Supervisor,
        })
        .await
        .unwrap();
    let code = InviteCode::generate().unwrap();
    setup
        .store
        .add_invite(
            SeatRef::Id(seat.profile.id),
            code.hash(),
            Utc::now() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    let answer: Value = setup
        .http
        .post(format!("{base}/team/join"))
        .json(&json!({ "code": code.expose_secret() }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["credential"].as_str().unwrap().to_owned()
}

/// A seat's open stream, read in its own task: every timed event's delay goes to `lags`.
fn read_stream(
    seat: usize,
    response: reqwest::Response,
    lags: mpsc::UnboundedSender<(usize, Duration)>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut body = response.bytes_stream();
        let mut buffer = Vec::new();
        while let Some(Ok(chunk)) = body.next().await {
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
                    let _ = lags.send((
                        seat,
                        Duration::from_micros(u64::try_from(lag).unwrap_or(u64::MAX)),
                    ));
                }
            }
        }
    })
}

struct Figures {
    p50: Duration,
    p99: Duration,
}

async fn fan_out(name: &str, setup: &Setup, seats: usize, seconds: usize) -> Figures {
    let events = RATE * seconds;
    let backlog = env_usize("FANOUT_BENCH_BACKLOG", 3_000);
    println!(
        "{name}: {seats} supervisor seats over {} instance(s), {backlog} events stored first; {events} call events at {RATE}/s posted to the first instance",
        setup.bases.len()
    );
    futures::stream::iter(0..backlog)
        .map(|n| {
            setup
                .http
                .post(&setup.events_url)
                .body(notification(1_000_000 + n, None))
                .send()
        })
        .buffer_unordered(16)
        .for_each(|response| async move {
            assert_eq!(response.unwrap().status(), 200);
        })
        .await;
    let memory_before = setup.memory();
    let credentials = futures::stream::iter(0..seats)
        .map(|n| join(setup, &setup.bases[n % setup.bases.len()], n))
        .buffered(16)
        .collect::<Vec<_>>()
        .await;
    let (lags_in, mut lags) = mpsc::unbounded_channel();
    let mut readers = Vec::with_capacity(seats);
    for (seat, credential) in credentials.iter().enumerate() {
        let base = &setup.bases[seat % setup.bases.len()];
        let response = setup
            .http
            .get(format!("{base}/events/stream"))
            .bearer_auth(credential)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        readers.push(read_stream(seat, response, lags_in.clone()));
    }
    // Every stream answered 200 and so is subscribed; let the last ones settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let memory_connected = setup.memory();
    let load_before = loadavg();

    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / RATE as u64));
    let started = Instant::now();
    let mut posts = Vec::with_capacity(events);
    for n in 0..events {
        ticks.tick().await;
        let (http, url) = (setup.http.clone(), setup.events_url.clone());
        posts.push(tokio::spawn(async move {
            let response = http
                .post(&url)
                .body(notification(n, Some(now_micros())))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }));
    }
    for post in posts {
        post.await.unwrap();
    }
    let send_time = started.elapsed();
    // Whatever is still on its way arrives within this, or counts as missing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let load_after = loadavg();
    let memory_after = setup.memory();
    for reader in readers {
        reader.abort();
    }
    let instances = setup.bases.len();
    let mut all = Vec::with_capacity(events * seats);
    let mut on_first = Vec::new();
    let mut on_others = Vec::new();
    let mut per_seat: HashMap<usize, usize> = HashMap::new();
    while let Ok((seat, lag)) = lags.try_recv() {
        all.push(lag);
        if seat % instances == 0 {
            on_first.push(lag);
        } else {
            on_others.push(lag);
        }
        *per_seat.entry(seat).or_default() += 1;
    }
    all.sort_unstable();
    on_first.sort_unstable();
    on_others.sort_unstable();
    let complete = per_seat.values().filter(|&&n| n == events).count();
    let figures = Figures {
        p50: percentile(&all, 0.50),
        p99: percentile(&all, 0.99),
    };
    println!("  events sent in {send_time:.2?}; load before {load_before}, after {load_after}");
    println!(
        "  {complete}/{seats} seats received every event; {} receipts of {}",
        all.len(),
        events * seats
    );
    println!(
        "  delay (POST start -> seat parsed) p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        figures.p50,
        figures.p99,
        percentile(&all, 1.0)
    );
    if instances > 1 {
        println!(
            "  seats on the instance that took the POSTs p50 {:.2?}, p99 {:.2?}; on the others (LISTEN/NOTIFY) p50 {:.2?}, p99 {:.2?}",
            percentile(&on_first, 0.50),
            percentile(&on_first, 0.99),
            percentile(&on_others, 0.50),
            percentile(&on_others, 0.99)
        );
    }
    println!(
        "  relay processes' memory (VmRSS): before the seats {}; connected {}; after the events {}",
        show(&memory_before),
        show(&memory_connected),
        show(&memory_after)
    );
    figures
}

fn main() {
    let seats = env_usize("FANOUT_BENCH_SEATS", 1_000);
    let seconds = env_usize("FANOUT_BENCH_SECS", 10);
    common::run(|dir| async move {
        let sqlite = Setup::start(
            &dir.path().join("sqlite"),
            dir.path().join("fanout.sqlite3").to_str().unwrap(),
            1,
        )
        .await;
        let base = fan_out("SQLite, one relay", &sqlite, seats, seconds).await;
        sqlite.stop();

        let cluster = pg_cluster::durable_cluster();
        for instances in [1, 3] {
            let url = pg_cluster::database_in(cluster).await;
            let setup = Setup::start(
                &dir.path().join(format!("postgres-{instances}")),
                &url,
                instances,
            )
            .await;
            let name = format!("Postgres, {instances} instance(s)");
            let figures = fan_out(&name, &setup, seats, seconds).await;
            setup.stop();
            println!(
                "  {name} against SQLite: p50 {:.2}×, p99 {:.2}×",
                figures.p50.as_secs_f64() / base.p50.as_secs_f64(),
                figures.p99.as_secs_f64() / base.p99.as_secs_f64()
            );
        }
    });
}
