//! Team-mode benchmarks (issue #15; a plain program, `harness = false`), loopback only, the
//! relay and the simulator in this process as the integration tests have them:
//!
//! 1. makeCall through the relay's seat API (`POST /team/dial` with a seat credential) against
//!    makeCall straight to the simulator's Open API (`mtt_api::Pbx::make_call` with the relay's
//!    own tokens), interleaved in one run: p50/p99 of each and the p99 the relay adds.
//!
//! Parts 2 and 3 run against a second relay, `trubka-relay serve` as a child process (no
//! integration: seats and events need none), so that its memory is read from its own
//! `/proc/<pid>/status` and not mixed with the clients':
//!
//! 2. Many connected seats (supervisors, so that every event reaches every seat: the widest
//!    fan-out team mode has) while call events arrive at the relay's webhook at 50 per second:
//!    the delay from "about to POST" to "the seat parsed it", p99 over every seat's receipts,
//!    and the relay process's memory.
//! 3. Revocation as another process makes it (the relay's store opened a second time, as
//!    `trubka-relay seats revoke` does): the delay until the seat's open stream ends.
//!
//! Run with `cargo bench -p relay --bench team`. Sizes can be lowered for a quick look with
//! `TEAM_BENCH_CALLS`, `TEAM_BENCH_SEATS`, `TEAM_BENCH_SECS`, `TEAM_BENCH_REVOKE` and
//! `TEAM_BENCH_BACKLOG` (events stored before the seats connect); `TEAM_BENCH_SEATS=0` runs the
//! makeCall part alone. `TEAM_BENCH_DIR` puts the relay's database in another folder (e.g.
//! `/dev/shm`, to tell the relay's own cost from the disk's fsync).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{TimeDelta, Utc};
use futures::StreamExt as _;
use relay::integration::{self, ClientCredentials};
use relay::sealing::{self, Sealer};
use relay::seats::InviteCode;
use relay::store::NoSink;
use relay::store::sqlite::{SqliteOptions, SqliteStore};
use relay::store::team::{NewSeat, SeatRef, TeamStore as _};
use relay::{HookPath, Relay, RelayConfig, RelayHandle};
use serde_json::{Value, json};
use team_api::Role;
use tokio::sync::mpsc;

use common::{env_usize, percentile};

// Only its sizes and percentiles are used here; the rest serves intake.rs and limits.rs.
#[allow(dead_code)]
mod common;

const ANNA: &str = "883140582526566";

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

fn memory() -> String {
    format!(
        "VmRSS {:.1} MB (peak VmHWM {:.1} MB)",
        status_kb("VmRSS:") as f64 / 1024.0,
        status_kb("VmHWM:") as f64 / 1024.0
    )
}

fn load(when: &str) {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("  load {when}: {}", load.trim());
}

fn now_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros()
}

struct Team {
    relay: RelayHandle,
    sim: mtt_sim::SimHandle,
    base: String,
    http: reqwest::Client,
}

/// The simulator (calls that nobody answers end after 300 ms, so the simulator never fills
/// up) and a team relay connected to it through the real authorize → Redirect URI → code
/// exchange, as `team_integration.rs` does.
async fn team(dir: &tempfile::TempDir) -> Team {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = HookPath::generate();
    let redirect_uri = format!("http://127.0.0.1:{port}/{}", hook.expose_secret());
    let mut config = mtt_sim::SimConfig {
        auto_approve: true,
        ..Default::default()
    };
    config.client.redirect_uris = vec![redirect_uri.clone()];
    config.webhook_url = Some(redirect_uri);
    config.timings.operator_answer_ms = None;
    config.timings.operator_no_answer_ms = 300;
    let client_secret = config.client.client_secret.expose().to_owned();
    let sim = mtt_sim::Sim::start(config).await.unwrap();

    let mut config = RelayConfig::new(hook, dir.path().join("team.sqlite3"));
    config.listen = ([127, 0, 0, 1], port).into();
    config.mtt_oauth_url = sim.oauth_url().to_owned();
    config.mtt_api_url = sim.api_url().to_owned();
    // A thousand seats join in one go here; a real team joins over days.
    config.join_attempts_per_minute = 100_000;
    sealing::ensure_key_file(&config.key_file).unwrap();
    let relay = Relay::start(config).await.unwrap();
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(2048)
        .build()
        .unwrap();
    let team = Team {
        base: format!("http://{}", relay.local_addr()),
        relay,
        sim,
        http,
    };

    let state = team.relay.state();
    let url = integration::begin_connect(
        &state.team,
        &Sealer::from_file(&state.config.key_file).unwrap(),
        &state.config,
        team.relay.redirect_uri().expose_secret(),
        ClientCredentials {
            client_id: "ccb350cc-6218-40b0-b134-3d290f00b9e7".into(),
            client_secret: mtt_api::ClientSecret::new(client_secret),
        },
    )
    .await
    .unwrap();
    let landing = team.http.get(&url).send().await.unwrap();
    assert_eq!(landing.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready: Value = team
            .http
            .get(format!("{}/readyz", team.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ready["integration"] == "connected" {
            break;
        }
        assert!(Instant::now() < deadline, "the integration never connected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    team
}

/// A seat, invited and joined through `POST /team/join`: its id and credential.
async fn joined(team: &Team, name: String, role: Role) -> (i64, String) {
    let state = team.relay.state();
    join_at(&team.http, &team.base, state.team.as_ref(), name, role).await
}

/// A seat made and invited through `store`, joined at the relay at `base`.
async fn join_at(
    http: &reqwest::Client,
    base: &str,
    store: &dyn relay::store::team::TeamStore,
    name: String,
    role: Role,
) -> (i64, String) {
    let seat = store
        .add_seat(NewSeat {
            name,
            workplace: ANNA.into(),
            role,
        })
        .await
        .unwrap();
    let code = InviteCode::generate().unwrap();
    store
        .add_invite(
            SeatRef::Id(seat.profile.id),
            code.hash(),
            Utc::now() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    let answer: Value = http
        .post(format!("{base}/team/join"))
        .json(&json!({ "code": code.expose_secret() }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        seat.profile.id,
        answer["credential"].as_str().unwrap().to_owned(),
    )
}

/// What one fsync costs on the store's disk now: the relay's answer to a seat's action waits
/// for one commit (`synchronous=FULL`), so it can be no faster than this.
fn fsync_cost(dir: &std::path::Path) {
    use std::io::Write as _;
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).unwrap();
    let mut costs = Vec::with_capacity(100);
    for _ in 0..100 {
        file.write_all(&[b'x'; 4096]).unwrap();
        let started = Instant::now();
        file.sync_data().unwrap();
        costs.push(started.elapsed());
    }
    drop(file);
    std::fs::remove_file(&path).unwrap();
    costs.sort_unstable();
    println!(
        "  the disk's fsync of 4 KiB: p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        percentile(&costs, 0.50),
        percentile(&costs, 0.99),
        percentile(&costs, 1.0)
    );
}

async fn make_call(team: &Team, calls: usize, dir: &std::path::Path) {
    println!(
        "makeCall: {calls} through the relay's seat API, {calls} straight to the simulator, interleaved"
    );
    load("before");
    fsync_cost(dir);
    // A seat may make 120 requests a minute: enough seats that none is held back.
    let seats = calls.div_ceil(100);
    let mut credentials = Vec::new();
    for n in 0..seats {
        credentials.push(joined(team, format!("Dialler {n}"), Role::Operator).await.1);
    }
    let pbx = team.relay.state().integration.pbx().await.unwrap();
    let from = mtt_api::SipId::parse(ANNA).unwrap();
    let dial_url = format!("{}/team/dial", team.base);
    let mut through_relay = Vec::with_capacity(calls);
    let mut direct = Vec::with_capacity(calls);
    for n in 0..calls + 10 {
        let number = format!("7900{:07}", n * 2);
        let started = Instant::now();
        let response = team
            .http
            .post(&dial_url)
            .bearer_auth(&credentials[n % seats])
            .json(&json!({ "number": number }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.bytes().await.unwrap();
        let elapsed = started.elapsed();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

        let callee = mtt_api::Callee::parse(&format!("7900{:07}", n * 2 + 1)).unwrap();
        let started = Instant::now();
        pbx.make_call(&from, &callee).await.unwrap();
        let elapsed_direct = started.elapsed();
        // The first ten of each warm up connections and the relay's session.
        if n >= 10 {
            through_relay.push(elapsed);
            direct.push(elapsed_direct);
        }
    }
    load("after");
    fsync_cost(dir);
    through_relay.sort_unstable();
    direct.sort_unstable();
    let (relay_p99, direct_p99) = (percentile(&through_relay, 0.99), percentile(&direct, 0.99));
    println!(
        "  through the relay: p50 {:.2?}, p99 {relay_p99:.2?}, max {:.2?}",
        percentile(&through_relay, 0.50),
        percentile(&through_relay, 1.0)
    );
    println!(
        "  straight to the simulator: p50 {:.2?}, p99 {direct_p99:.2?}, max {:.2?}",
        percentile(&direct, 0.50),
        percentile(&direct, 1.0)
    );
    println!(
        "  added by the relay: p50 {:.2?}, p99 {:.2?} (goal: p99 <= 5 ms)",
        percentile(&through_relay, 0.50).saturating_sub(percentile(&direct, 0.50)),
        relay_p99.saturating_sub(direct_p99)
    );
    let live = team
        .http
        .get(format!("{}/calls", team.sim.control_url()))
        .send()
        .await
        .unwrap()
        .json::<Vec<Value>>()
        .await
        .unwrap()
        .len();
    println!("  calls still live at the simulator right after: {live}");
}

fn notification(n: usize, sent_micros: u128) -> String {
    format!(
        r#"{{"event":"callNotifications","result":{{"callInfo":{{"call":{{"id":"team-bench-{n}","tag":"t"}},"caller":{{"id":"7901{n:07}"}},"callee":{{"id":"{ANNA}"}},"startTime":"2026-12-03 11:18:16","state":"trying","transportId":"10.0.0.1:5073","type":"incoming","sent":{sent_micros}}}}}}}"#
    )
}

/// A seat's open stream, read in its own task: every bench event's delay goes to `lags`, and
/// the moment the stream ends to `ended`.
fn read_stream(
    seat: usize,
    response: reqwest::Response,
    lags: mpsc::UnboundedSender<(usize, Duration)>,
    ended: mpsc::UnboundedSender<(usize, Instant)>,
) {
    tokio::spawn(async move {
        let mut body = response.bytes_stream();
        let mut buffer = Vec::new();
        while let Some(Ok(chunk)) = body.next().await {
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.windows(2).position(|pair| pair == b"\n\n") {
                let frame: Vec<u8> = buffer.drain(..end + 2).collect();
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
        let _ = ended.send((seat, Instant::now()));
    });
}

struct Seats {
    ids: Vec<i64>,
    lags: mpsc::UnboundedReceiver<(usize, Duration)>,
    ended: mpsc::UnboundedReceiver<(usize, Instant)>,
}

/// The relay alone in its own process (`trubka-relay serve`), so that its memory is its own.
struct ChildRelay {
    process: std::process::Child,
    base: String,
    events_url: String,
    database: std::path::PathBuf,
    http: reqwest::Client,
}

impl ChildRelay {
    async fn start(dir: &std::path::Path) -> ChildRelay {
        const BINARY: &str = env!("CARGO_BIN_EXE_trubka-relay");
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
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let database = dir.join("child.sqlite3");
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
            format!(
                "listen = \"127.0.0.1:{port}\"\ndatabase = \"{}\"\njoin_attempts_per_minute = 100000\n{text}",
                database.display()
            ),
        )
        .unwrap();
        let process = std::process::Command::new(BINARY)
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .env_remove("TRUBKA_RELAY_HOOK")
            .env_remove("TRUBKA_RELAY_KEY")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(2048)
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|response| response.status() == 200)
        {
            assert!(
                Instant::now() < deadline,
                "trubka-relay serve never came up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ChildRelay {
            process,
            events_url: format!("{base}/{hook}/events"),
            base,
            database,
            http,
        }
    }

    /// The relay's store opened a second time, as `trubka-relay seats …` opens it.
    fn other_process(&self) -> SqliteStore {
        SqliteStore::open(&self.database, SqliteOptions::default(), Arc::new(NoSink)).unwrap()
    }

    fn memory(&self) -> String {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.process.id())).unwrap();
        let kb = |field: &str| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
                .unwrap_or(0) as f64
                / 1024.0
        };
        format!(
            "VmRSS {:.1} MB (peak VmHWM {:.1} MB)",
            kb("VmRSS:"),
            kb("VmHWM:")
        )
    }
}

async fn fan_out(team: &ChildRelay, seats: usize, seconds: usize) -> Seats {
    let rate = 50;
    let events = rate * seconds;
    println!(
        "fan-out: {seats} supervisor seats, each with an open /events/stream; {events} call events at {rate}/s"
    );
    load("before");
    // The in-process relay of part 1 held its calls' events when seats connected; a team's relay
    // holds the day's. Give this one a backlog too (events without a send time, not counted).
    let backlog = env_usize("TEAM_BENCH_BACKLOG", 3_000);
    futures::stream::iter(0..backlog)
        .map(|n| {
            let body = notification(1_000_000 + n, 0).replace(",\"sent\":0", "");
            team.http.post(&team.events_url).body(body).send()
        })
        .buffer_unordered(16)
        .for_each(|response| async move {
            assert_eq!(response.unwrap().status(), 200);
        })
        .await;
    println!("  {backlog} events already stored when the seats connect");
    let memory_before = team.memory();
    let store = team.other_process();
    let joins = futures::stream::iter(0..seats)
        .map(|n| {
            join_at(
                &team.http,
                &team.base,
                &store,
                format!("Seat {n}"),
                Role::Supervisor,
            )
        })
        .buffered(16)
        .collect::<Vec<_>>()
        .await;
    let (lags_in, lags) = mpsc::unbounded_channel();
    let (ended_in, ended) = mpsc::unbounded_channel();
    let mut ids = Vec::with_capacity(seats);
    for (seat, (id, credential)) in joins.into_iter().enumerate() {
        let response = team
            .http
            .get(format!("{}/events/stream", team.base))
            .bearer_auth(&credential)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        read_stream(seat, response, lags_in.clone(), ended_in.clone());
        ids.push(id);
    }
    // Every stream answered 200 and so is subscribed; let the last ones settle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let memory_connected = team.memory();
    let client_connected = memory();

    let url = team.events_url.clone();
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / rate as u64));
    let started = Instant::now();
    let mut posts = Vec::with_capacity(events);
    for n in 0..events {
        ticks.tick().await;
        let (http, url) = (team.http.clone(), url.clone());
        posts.push(tokio::spawn(async move {
            let response = http
                .post(&url)
                .body(notification(n, now_micros()))
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
    load("after");
    let memory_after = team.memory();
    let client_after = memory();
    let mut lags = lags;
    let mut all = Vec::with_capacity(events * seats);
    let mut per_seat: HashMap<usize, usize> = HashMap::new();
    while let Ok((seat, lag)) = lags.try_recv() {
        all.push(lag);
        *per_seat.entry(seat).or_default() += 1;
    }
    all.sort_unstable();
    let complete = per_seat.values().filter(|&&n| n == events).count();
    println!("  events sent in {send_time:.2?}");
    println!(
        "  {complete}/{seats} seats received every event; {} receipts of {}",
        all.len(),
        events * seats,
    );
    println!(
        "  delay (POST start -> seat parsed) p50 {:.2?}, p99 {:.2?}, max {:.2?} (goal: p99 <= 100 ms)",
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        percentile(&all, 1.0)
    );
    println!(
        "  the relay's process (trubka-relay serve, /proc/<pid>/status): before the seats {memory_before}; connected {memory_connected}; after the events {memory_after} (goal: <= 250 MB)"
    );
    println!(
        "  this bench process ({seats} clients, the first relay, the simulator): connected {client_connected}; after the events {client_after}"
    );
    Seats { ids, lags, ended }
}

async fn revocation(team: &ChildRelay, seats: &mut Seats, revocations: usize) {
    println!(
        "revocation: {revocations} seats revoked one after another through the relay's store opened as another process; delay until the seat's stream ends"
    );
    load("before");
    let other_process = team.other_process();
    let mut delays = Vec::with_capacity(revocations);
    for seat in 0..revocations.min(seats.ids.len()) {
        let started = Instant::now();
        other_process
            .revoke_seat(SeatRef::Id(seats.ids[seat]))
            .await
            .unwrap();
        let ended_at = loop {
            let (which, at) = tokio::time::timeout(Duration::from_secs(30), seats.ended.recv())
                .await
                .expect("a revoked seat's stream stayed open 30 s")
                .unwrap();
            if which == seat {
                break at;
            }
            println!("  (seat {which}'s stream ended unasked)");
        };
        delays.push(ended_at.saturating_duration_since(started));
    }
    load("after");
    delays.sort_unstable();
    println!(
        "  revoke -> stream closed p50 {:.2?}, p99 {:.2?}, max {:.2?} (goal: p99 <= 1 s)",
        percentile(&delays, 0.50),
        percentile(&delays, 0.99),
        percentile(&delays, 1.0),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing and only wants the
    // program to build and exit, so run only when asked.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let calls = env_usize("TEAM_BENCH_CALLS", 400);
    let seats = env_usize("TEAM_BENCH_SEATS", 1_000);
    let seconds = env_usize("TEAM_BENCH_SECS", 10);
    let revocations = env_usize("TEAM_BENCH_REVOKE", 100);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // On the build directory's disk, not a RAM-backed /tmp: fsync must cost what it costs
    // (unless `TEAM_BENCH_DIR` says otherwise, to measure without it).
    let base = std::env::var_os("TEAM_BENCH_DIR").map_or_else(
        || env!("CARGO_TARGET_TMPDIR").into(),
        std::path::PathBuf::from,
    );
    let dir = tempfile::tempdir_in(base).unwrap();
    runtime.block_on(async {
        let team = team(&dir).await;
        make_call(&team, calls, dir.path()).await;
        // `TEAM_BENCH_SEATS=0`: the makeCall part alone.
        if seats > 0 {
            let child_dir = dir.path().join("child");
            std::fs::create_dir(&child_dir).unwrap();
            let mut child = ChildRelay::start(&child_dir).await;
            let mut seats = fan_out(&child, seats, seconds).await;
            revocation(&child, &mut seats, revocations).await;
            drop(seats.lags);
            child.process.kill().unwrap();
            child.process.wait().unwrap();
        }
        team.relay.shutdown().await.unwrap();
    });
}
