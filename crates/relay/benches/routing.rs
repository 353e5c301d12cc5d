//! Routing on the relay (issue #16; a plain program, `harness = false`), loopback only, the
//! relay and the simulator in this process as the integration tests have them.
//!
//! The relay's store holds `ROUTING_BENCH_EVENTS` stored call events (1,000,000 by default,
//! appended through the store before the run) and `ROUTING_BENCH_CALLERS` noted caller numbers
//! (20,000); the team phonebook the rules read holds `ROUTING_BENCH_CONTACTS` contacts
//! (100,000), each with a personal manager. The phonebook's relay table belongs to another
//! branch at the time of writing, so the bench seeds them in its own `PersonalManagers`
//! implementation (in memory): the figure covers the relay's own store reads, not the
//! phonebook's. Then the simulator sends parked calls at `ROUTING_BENCH_RATE` per second (20)
//! for `ROUTING_BENCH_SECS` (30) seconds, each from a contact whose manager is free; the relay
//! decides each at intake and transfers it. Measured per call: from the relay's receipt of the
//! parking leg's `trying` (its journal's decision time less the time it took) to the simulator's
//! receipt of `transferCall` (its request log), as the desktop router's bench measured; and the
//! journal's own figure, receipt to the answer of `transferCall`; and the simulator's own view,
//! from placing the call to its receipt of `transferCall`, which also counts the webhook's way
//! to the relay (a relay slow to answer webhooks delays the receipt itself).
//!
//! The same run repeats it on each store `ROUTING_BENCH_STORES` names (`sqlite,postgres,postgres3`
//! by default): SQLite, one relay on Postgres, and three relay instances on one Postgres
//! database (the simulator's webhooks reach the first; every instance sees each parked call and
//! asks for its claim, one decides — the price of deciding exactly once across instances). The
//! Postgres cluster is the tests' own (`initdb` on the build directory's disk, fsync on).
//!
//! Run with `cargo bench -p relay --bench routing`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use futures::StreamExt as _;
use futures::future::BoxFuture;
use relay::integration::{self, ClientCredentials};
use relay::routing::{PersonalManagers, PhonebookMatch};
use relay::sealing::{self, Sealer};
use relay::store::IncomingNotification;
use relay::store::routing::CallerSeen;
use relay::{HookPath, Relay, RelayConfig, RelayError, RelayHandle};
use serde_json::{Value, json};
use team_api::TeamRouting;

use common::{env_usize, percentile};
use relay::store::DatabaseUrl;

// Only its sizes, percentiles and runner are used here.
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
#[path = "../tests/it/pg_cluster.rs"]
mod pg_cluster;

/// The simulator's second external number, parked here.
const PARKED: &str = "74996497803";
/// A workplace of the simulator outside the cabinet's routing groups.
const KUZNETSOV: &str = "883140777551301";

/// The contacts, in memory.
#[derive(Debug)]
struct Phonebook(HashMap<String, String>);

impl PersonalManagers for Phonebook {
    fn manager_of<'a>(
        &'a self,
        number: &'a str,
    ) -> BoxFuture<'a, Result<Option<PhonebookMatch>, RelayError>> {
        Box::pin(async move {
            Ok(self.0.get(number).map(|manager| PhonebookMatch {
                manager: Some(manager.clone()),
            }))
        })
    }
}

fn contact(n: usize) -> String {
    format!("7916{n:07}")
}

/// The simulator (transferred calls ring 300 ms, then end) and a team relay connected to it —
/// `instances` of them on `postgres` if given (the first gets the webhooks), else one on SQLite.
async fn team(
    dir: &tempfile::TempDir,
    postgres: Option<&str>,
    instances: usize,
) -> (Vec<RelayHandle>, mtt_sim::SimHandle, reqwest::Client) {
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
    config.timings.ring_timeout_ms = 300;
    let client_secret = config.client.client_secret.expose().to_owned();
    let sim = mtt_sim::Sim::start(config).await.unwrap();

    let mut config = RelayConfig::new(hook, dir.path().join("routing.sqlite3"));
    config.mtt_oauth_url = sim.oauth_url().to_owned();
    config.mtt_api_url = sim.api_url().to_owned();
    config.postgres = postgres.map(|url| DatabaseUrl::recognise(url).unwrap().unwrap());
    sealing::ensure_key_file(&config.key_file).unwrap();
    let mut relays = Vec::new();
    for n in 0..instances.max(1) {
        let mut config = config.clone();
        if n == 0 {
            config.listen = ([127, 0, 0, 1], port).into();
        }
        relays.push(Relay::start(config).await.unwrap());
    }
    let relay = &relays[0];
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let state = relay.state();
    let url = integration::begin_connect(
        &state.team,
        &Sealer::from_file(&state.config.key_file).unwrap(),
        &state.config,
        relay.redirect_uri().expose_secret(),
        ClientCredentials {
            client_id: "ccb350cc-6218-40b0-b134-3d290f00b9e7".into(),
            client_secret: mtt_api::ClientSecret::new(client_secret),
        },
    )
    .await
    .unwrap();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    // The first connects; the others take the integration from the database.
    let deadline = Instant::now() + Duration::from_secs(30);
    for relay in &relays {
        let base = format!("http://{}", relay.local_addr());
        loop {
            let ready: Value = http
                .get(format!("{base}/readyz"))
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
    }
    (relays, sim, http)
}

/// A finished call event (stored, not live): what a day's traffic leaves in the store.
fn stored_call(n: usize) -> IncomingNotification {
    IncomingNotification::new(
        "callNotifications".into(),
        format!(
            r#"{{"event":"callNotifications","result":{{"callInfo":{{"call":{{"id":"seed-{n}","tag":"t"}},"caller":{{"id":"{}"}},"callee":{{"id":"74996497803"}},"startTime":"2020-06-02 11:18:16","state":"finished","transportId":"10.0.0.1:5073","type":"incoming"}}}}}}"#,
            contact(n % 1_000_000)
        ),
    )
    .unwrap()
}

fn main() {
    let stores = std::env::var("ROUTING_BENCH_STORES")
        .unwrap_or_else(|_| "sqlite,postgres,postgres3".into());
    common::run(|dir| async move {
        for store in stores.split(',').map(str::trim) {
            let (url, instances) = match store {
                "sqlite" => (None, 1),
                "postgres" => (
                    Some(pg_cluster::database_in(pg_cluster::durable_cluster()).await),
                    1,
                ),
                "postgres3" => (
                    Some(pg_cluster::database_in(pg_cluster::durable_cluster()).await),
                    3,
                ),
                other => {
                    panic!("ROUTING_BENCH_STORES: {other:?} is not sqlite, postgres or postgres3")
                }
            };
            println!(
                "== {store}: {instances} relay instance(s); load {}",
                loadavg()
            );
            let dir = tempfile::tempdir_in(dir.path()).unwrap();
            bench(&dir, url.as_deref(), instances).await;
        }
    });
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

async fn bench(dir: &tempfile::TempDir, postgres: Option<&str>, instances: usize) {
    {
        let events = env_usize("ROUTING_BENCH_EVENTS", 1_000_000);
        let callers = env_usize("ROUTING_BENCH_CALLERS", 20_000);
        let contacts = env_usize("ROUTING_BENCH_CONTACTS", 100_000);
        let rate = env_usize("ROUTING_BENCH_RATE", 20);
        let seconds = env_usize("ROUTING_BENCH_SECS", 30);
        let (relays, sim, http) = team(dir, postgres, instances).await;
        let state = relays[0].state();

        let seeding = Instant::now();
        futures::stream::iter(0..events)
            .for_each_concurrent(512, |n| {
                let store = Arc::clone(&state.store);
                async move {
                    store.append(stored_call(n)).await.unwrap();
                }
            })
            .await;
        println!(
            "seeded {events} stored call events in {:?}",
            seeding.elapsed()
        );
        let seeding = Instant::now();
        futures::stream::iter(0..callers)
            .for_each_concurrent(64, |n| {
                let team = Arc::clone(&state.team);
                async move {
                    team.note_caller(CallerSeen {
                        number_key: contact(n),
                        at: Utc::now() - TimeDelta::days(1),
                        answered_by: Some("883140777551201".into()),
                    })
                    .await
                    .unwrap();
                }
            })
            .await;
        println!("seeded {callers} caller facts in {:?}", seeding.elapsed());
        let phonebook = Arc::new(Phonebook(
            (0..contacts)
                .map(|n| (contact(n), KUZNETSOV.to_owned()))
                .collect(),
        ));
        for relay in &relays {
            relay
                .state()
                .routing
                .use_managers(Arc::clone(&phonebook) as _);
        }
        let mut routing = TeamRouting {
            parked: vec![PARKED.into()],
            ..TeamRouting::default()
        };
        let all = "00:00-24:00".to_owned();
        routing.settings.hours.mon.clone_from(&all);
        routing.settings.hours.tue.clone_from(&all);
        routing.settings.hours.wed.clone_from(&all);
        routing.settings.hours.thu.clone_from(&all);
        routing.settings.hours.fri.clone_from(&all);
        routing.settings.hours.sat.clone_from(&all);
        routing.settings.hours.sun.clone_from(&all);
        for relay in &relays {
            relay.state().routing.set(routing.clone()).await.unwrap();
        }

        let calls = rate * seconds;
        let every = Duration::from_secs(1) / u32::try_from(rate.max(1)).unwrap();
        let mut ticks = tokio::time::interval(every);
        let control = format!("{}/incoming", sim.control_url());
        let mut sent = Vec::with_capacity(calls);
        // When each caller's call was placed: the simulator's own view of the wait includes
        // the webhook's way to the relay, which the relay's receipt time does not.
        let mut placed: HashMap<String, chrono::DateTime<Utc>> = HashMap::new();
        for n in 0..calls {
            ticks.tick().await;
            placed.insert(contact(n * 7 % contacts.max(1)), Utc::now());
            let (http, control) = (http.clone(), control.clone());
            sent.push(tokio::spawn(async move {
                http.post(control)
                    .json(&json!({"from": contact(n * 7 % contacts.max(1)), "to": PARKED, "manual": true}))
                    .send()
                    .await
                    .unwrap();
            }));
        }
        for call in sent {
            call.await.unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let decisions = loop {
            let decisions = state.team.decisions(calls).await.unwrap();
            if decisions.len() >= calls || Instant::now() > deadline {
                break decisions;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let transferred = decisions
            .iter()
            .filter(|d| d.entry.outcome == call_routing::RoutingOutcome::Transferred)
            .count();
        // Anything else is a finding: say what it was, once per kind.
        let mut others: std::collections::BTreeMap<&str, (usize, String)> = Default::default();
        for d in decisions
            .iter()
            .filter(|d| d.entry.outcome != call_routing::RoutingOutcome::Transferred)
        {
            let seen = others
                .entry(d.entry.outcome.as_text())
                .or_insert_with(|| (0, d.entry.detail.clone().unwrap_or_default()));
            seen.0 += 1;
        }
        for (outcome, (count, detail)) in &others {
            println!("  {count} decided {outcome}, the first: {detail}");
        }
        let mut took: Vec<Duration> = decisions
            .iter()
            .map(|d| Duration::from_millis(u64::try_from(d.entry.took_ms).unwrap_or(0)))
            .collect();
        took.sort();
        // The simulator stamps each request's receipt (before any injected delay); the relay's
        // receipt of the leg is its decision time less what the journal says it took.
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
        let at_sim: HashMap<String, chrono::DateTime<Utc>> = requests
            .iter()
            .filter_map(|r| {
                Some((
                    r["leg_id"].as_str()?.to_owned(),
                    r["received_at"].as_str()?.parse().ok()?,
                ))
            })
            .collect();
        let all_decisions = state.team.decisions(calls * 3).await.unwrap();
        let legs: std::collections::HashSet<&str> =
            all_decisions.iter().map(|d| d.entry.leg.as_str()).collect();
        println!(
            "  journal: {} decisions of {} legs; the simulator got {} transferCall requests for {} legs",
            all_decisions.len(),
            legs.len(),
            requests.len(),
            at_sim.len()
        );
        let mut to_sim: Vec<Duration> = decisions
            .iter()
            .filter_map(|d| {
                let at_relay = d.entry.decided_at - TimeDelta::milliseconds(d.entry.took_ms);
                let sim = at_sim.get(&d.entry.leg)?;
                // The journal keeps whole milliseconds, so the fastest come out a little
                // negative: they count as zero.
                Some((*sim - at_relay).to_std().unwrap_or_default())
            })
            .collect();
        to_sim.sort();
        let mut from_placing: Vec<Duration> = decisions
            .iter()
            .filter_map(|d| {
                let placed = placed.get(d.entry.caller_number.as_deref()?)?;
                Some(
                    (*at_sim.get(&d.entry.leg)? - *placed)
                        .to_std()
                        .unwrap_or_default(),
                )
            })
            .collect();
        from_placing.sort();
        println!(
            "parked calls: {calls} at {rate}/s; decided {}, transferred {transferred}, {} transferCall requests matched",
            decisions.len(),
            to_sim.len()
        );
        println!(
            "relay receipt of trying -> transferCall received at the simulator: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
            percentile(&to_sim, 0.50),
            percentile(&to_sim, 0.90),
            percentile(&to_sim, 0.99),
            to_sim.last().copied().unwrap_or_default()
        );
        println!(
            "call placed at the simulator -> transferCall received there ({} matched): p50 {:?}, p99 {:?}, max {:?}",
            from_placing.len(),
            percentile(&from_placing, 0.50),
            percentile(&from_placing, 0.99),
            from_placing.last().copied().unwrap_or_default()
        );
        println!(
            "journal (receipt -> transferCall answered): p50 {:?}, p99 {:?}, max {:?}; {} of {} met the deadline",
            percentile(&took, 0.50),
            percentile(&took, 0.99),
            took.last().copied().unwrap_or_default(),
            decisions.iter().filter(|d| d.entry.met_deadline()).count(),
            decisions.len()
        );
        sim.shutdown().await;
        for relay in relays {
            relay.shutdown().await.unwrap();
        }
    }
}
