//! Parked calls decided end to end, on loopback, with a full-size call log: the time from the
//! relay's receipt of a parking leg's `trying` to the simulator's receipt of the `transferCall`
//! that sends it to the caller's personal manager. Goal: p99 ≤ 300 ms.
//!
//! The call log holds 1,000,000 calls and 100,000 contacts. Generating it takes a while, so it
//! is kept between runs under the target directory (`CARGO_TARGET_TMPDIR`, or the system's
//! temporary directory) and reused; delete `routing-bench/` there to build it again. Each run
//! starts a simulator and a relay, signs the core in, parks a number, marks the core as the
//! router and places N parked calls (default 1,000; first argument) from N different clients
//! with managers, at a steady rate (default 20 per second; second argument). Prints p50, p90,
//! p99 and max of relay receipt → transferCall received, and the journal's share in time.
//!
//! Run it on a quiet machine: `cargo bench -p companion --bench routing`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark program: a panic is a failed run"
)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use call_log::{CallLog, CallLogConfig, EventBody, LoggedEvent};
use chrono::{DateTime, Utc};
use companion::{Companion, MemoryVault, Profile, ProfileSecrets, RelayKey};
use serde_json::{Value, json};

const CALLS: usize = 1_000_000;
const CONTACTS: usize = 100_000;
/// Distinct numbers in the history; the first `CONTACTS` of them are in the phonebook.
const PEERS: usize = 250_000;
const PARKED: &str = "74996497803";
/// The simulator's workplaces that managers are chosen from (its default account's).
const WORKPLACES: [&str; 5] = [
    "883140582526566",
    "883140777716581",
    "883140777446532",
    "883140777551201",
    "883140777551301",
];
const DATA_VERSION: &str = "routing-bench-v1";

fn peer(i: usize) -> String {
    format!("7916{i:07}")
}

/// The cached log's base directory (the profile "bench" lives under it).
fn data_base() -> PathBuf {
    let base = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    base.join("routing-bench")
}

/// Builds the full-size log if it is not there yet.
async fn ensure_log(profile: &Profile) {
    let marker = profile.data_dir().join(DATA_VERSION);
    if marker.exists() {
        println!(
            "reusing the call log at {}",
            profile.call_log_path().display()
        );
        return;
    }
    std::fs::create_dir_all(profile.data_dir()).unwrap();
    let _ = std::fs::remove_file(profile.call_log_path());
    let started = Instant::now();
    let log = CallLog::open(profile.call_log_path(), CallLogConfig::default()).unwrap();
    let now = Utc::now();
    let span = chrono::Duration::days(365);
    let step = span.num_microseconds().unwrap() / CALLS as i64;
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..CALLS {
        // A spread of callers: some call often, most a few times.
        let p = (i * 7919 + i / 3) % PEERS;
        let answered = i % 2 == 0;
        let callee = if answered {
            WORKPLACES[i % WORKPLACES.len()]
        } else {
            PARKED
        };
        let body = json!({"event":"callNotifications","result":{"callInfo":{
            "call":{"id":format!("hist-{i}"),"tag":"t"},
            "caller":{"accountId":format!("{}@pstn", peer(p)),"displayId":peer(p),"forwarderList":[],"id":peer(p)},
            "callee":{"accountId":callee,"displayId":callee,"forwarderList":[],"id":callee},
            "state": if answered { "connected" } else { "finished" },
            "duration": 0, "reason": "Normal",
            "transportId":"10.133.33.136:5073","type":"incoming"
        }}});
        batch.push(LoggedEvent {
            relay_id: i as i64 + 1,
            received_at: now - span + chrono::Duration::microseconds(step * i as i64),
            body: EventBody::parse(body.to_string().as_bytes()),
        });
        if batch.len() == 10_000 {
            log.apply(std::mem::take(&mut batch)).await.unwrap();
        }
        if i % 100_000 == 99_999 {
            println!("  {} calls in {:.0?}", i + 1, started.elapsed());
        }
    }
    if !batch.is_empty() {
        log.apply(batch).await.unwrap();
    }
    let mut csv = String::from("name,phone,manager\n");
    for j in 0..CONTACTS {
        let manager = if j % 2 == 0 {
            WORKPLACES[j % WORKPLACES.len()]
        } else {
            ""
        };
        csv.push_str(&format!("Клиент {j},{},{manager}\n", peer(j)));
    }
    let report = log.import_contacts_csv(csv.into_bytes()).await.unwrap();
    assert_eq!(report.added, CONTACTS, "{:?}", report.problems.first());
    log.close().await.unwrap();
    std::fs::write(&marker, "generated").unwrap();
    println!(
        "generated {CALLS} calls and {CONTACTS} contacts in {:.0?}",
        started.elapsed()
    );
}

fn follow_like_a_browser(url: &url::Url) {
    let url = url.clone();
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .unwrap();
        client.get(url).send().await.unwrap();
    });
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000);
    let rate: f64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20.0);
    assert!(
        total <= CONTACTS / 2,
        "at most {} distinct clients",
        CONTACTS / 2
    );
    let scratch = tempfile::tempdir().unwrap();
    let profile = Profile::under("bench", &scratch.path().join("config"), &data_base()).unwrap();
    ensure_log(&profile).await;
    {
        // The stored events came from no relay; the relay started below numbers its events
        // from 1, so they go after everything already in the log.
        let log = CallLog::open(profile.call_log_path(), CallLogConfig::default()).unwrap();
        log.rebase_relay(0).await.unwrap();
        log.close().await.unwrap();
    }

    let relay = relay::Relay::start(relay::RelayConfig::new(
        relay::HookPath::generate(),
        scratch.path().join("relay.sqlite3"),
    ))
    .await
    .unwrap();
    // A new seed each run: the log is reused, and the same seed would give the same leg ids,
    // which the log would take for the previous run's legs.
    let mut config = mtt_sim::SimConfig {
        auto_approve: true,
        seed: Utc::now().timestamp_micros() as u64,
        ..Default::default()
    };
    config.client.redirect_uris = vec![relay.redirect_uri().expose_secret().to_owned()];
    config.timings.incoming_answer_ms = None;
    let sim = mtt_sim::Sim::start(config.clone()).await.unwrap();

    let mut settings = profile.load_settings().unwrap();
    settings.account.client_id = Some(config.client.client_id.clone());
    settings.account.redirect_uri = Some(relay.redirect_uri().expose_secret().to_owned());
    settings.account.relay_url = Some(format!("http://{}", relay.local_addr()));
    settings.account.oauth_url = Some(sim.oauth_url().to_owned());
    settings.account.api_url = Some(sim.api_url().to_owned());
    settings.router = true;
    for day in [
        &mut settings.routing.hours.mon,
        &mut settings.routing.hours.tue,
        &mut settings.routing.hours.wed,
        &mut settings.routing.hours.thu,
        &mut settings.routing.hours.fri,
        &mut settings.routing.hours.sat,
        &mut settings.routing.hours.sun,
    ] {
        *day = "00:00-24:00".into();
    }
    profile.save_settings(&settings).unwrap();
    let key = relay::ClientKey::generate();
    relay
        .state()
        .store
        .add_client_key("bench".into(), key.hash())
        .await
        .unwrap();
    let vault: Arc<dyn companion::SecretVault> = Arc::new(MemoryVault::default());
    let secrets = ProfileSecrets::new(Arc::clone(&vault), profile.name());
    secrets
        .set_client_secret(&mtt_api::ClientSecret::new(
            config.client.client_secret.expose(),
        ))
        .unwrap();
    secrets
        .set_relay_key(&RelayKey::new(key.expose_secret()))
        .unwrap();
    let app = Companion::open(profile.clone(), vault).unwrap();
    app.start_live_events().await.unwrap();
    app.sign_in(follow_like_a_browser).await.unwrap();
    app.refresh_directory().await.unwrap();
    app.set_parking(&[PARKED.into()], true).await.unwrap();
    assert!(app.is_deciding());

    let http = reqwest::Client::new();
    let incoming = format!("{}/incoming", sim.control_url());
    let gap = if rate > 0.0 {
        Duration::from_secs_f64(1.0 / rate)
    } else {
        Duration::ZERO
    };
    println!("{total} parked calls at {rate} per second…");
    let started = Instant::now();
    let mut parking_legs = Vec::with_capacity(total);
    for k in 0..total {
        let due = started + gap * k as u32;
        tokio::time::sleep_until(due.into()).await;
        // Client j = 2k·… has a manager (every even contact does); all distinct.
        let client = peer((k * 2 * 37) % CONTACTS);
        let answer: Value = http
            .post(&incoming)
            .json(
                &json!({"from": client, "to": PARKED, "manual": true, "caller_gives_up_ms": 1_500}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        parking_legs.push(answer["parking_leg_id"].as_str().unwrap().to_owned());
    }
    // Decisions are counted from the journal: the event channel drops what a slow listener
    // misses, the journal does not.
    let since = Utc::now() - chrono::Duration::seconds(started.elapsed().as_secs() as i64 + 5);
    let wait = Instant::now() + Duration::from_secs(30);
    let mine = loop {
        let journal = app.routing_journal(total).await.unwrap();
        let mine: Vec<_> = journal
            .decisions
            .into_iter()
            .filter(|d| d.decided_at >= since)
            .collect();
        if mine.len() >= total || Instant::now() > wait {
            break mine;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut results: HashMap<String, usize> = HashMap::new();
    for d in &mine {
        *results
            .entry(format!(
                "{:?}/{}",
                d.outcome,
                d.rule.as_deref().unwrap_or("-")
            ))
            .or_default() += 1;
    }
    println!("decided {} of {total}: {results:?}", mine.len());

    let requests: Vec<Value> = http
        .get(format!(
            "{}/requests?method=transferCall",
            sim.control_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let received: HashMap<String, DateTime<Utc>> = requests
        .iter()
        .filter_map(|r| {
            Some((
                r["leg_id"].as_str()?.to_owned(),
                r["received_at"].as_str()?.parse().ok()?,
            ))
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    let mut missing = 0;
    for leg in &parking_legs {
        let at_relay = app.log().call(leg).await.unwrap().map(|c| c.started_at);
        match (at_relay, received.get(leg)) {
            (Some(relay_at), Some(sim_at)) => {
                latencies.push((*sim_at - relay_at).num_microseconds().unwrap() as f64 / 1000.0);
            }
            _ => missing += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    let met = mine.iter().filter(|d| d.met_deadline).count();
    if latencies.is_empty() {
        println!("no transferCall arrived ({missing} calls without one)");
    } else {
        println!(
            "relay receipt → transferCall at the simulator, {} calls ({missing} without one): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            latencies.len(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.90),
            percentile(&latencies, 0.99),
            latencies[latencies.len() - 1],
        );
    }
    println!(
        "journal: {met} of {} decisions met the {} ms deadline",
        mine.len(),
        settings.routing.deadline_ms
    );
    app.shutdown().await;
    sim.shutdown().await;
    relay.shutdown().await.unwrap();
}
