//! Presence in team mode (issue #16, item 7): a webhook at the relay → the colleague's presence
//! change in another seat's app core, with 200 seats connected.
//!
//! One process, loopback only: a team relay (no integration: call events are POSTed to its
//! webhook as the PBX would), 200 operator seats each at its own workplace. 199 of them hold a
//! raw `/events/stream` that is read to its end (every seat gets every presence and availability
//! event, so each change is fanned out 200 times); the 200th is a real `Companion` joined with an
//! invite, its link, pipeline, call log and roster running. Each sample POSTs a call event for
//! one colleague's workplace (connected, then ended, so the presence flips talking ↔ free) and
//! waits for that core's `DomainEvent::Colleague` saying so; the delay is from "about to POST"
//! to the core's announcement (the relay commits the call event, derives the presence, stores it
//! as its own event, streams it; the core applies it to its call log and the roster).
//!
//! `cargo bench -p companion --bench presence` (`PRESENCE_BENCH_SEATS`, `PRESENCE_BENCH_SAMPLES`
//! and `PRESENCE_BENCH_GAP_MS`, the pause between samples, change the sizes).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark program: a panic is a failed run"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use companion::team::Presence;
use companion::{Companion, DomainEvent, JoinOffer, MemoryVault, Profile, SecretVault};
use futures::StreamExt as _;
use relay::seats::InviteCode;
use relay::store::team::{NewSeat, SeatRef};
use serde_json::{Value, json};
use team_api::Role;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn workplace(n: usize) -> String {
    format!("88314{n:010}")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn load(when: &str) {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("  load {when}: {}", load.trim());
}

/// A seat at `workplace` and its invite link.
async fn invite(relay: &relay::RelayHandle, n: usize) -> (i64, team_api::JoinLink) {
    let seat = relay
        .state()
        .team
        .add_seat(NewSeat {
            name: format!("Оператор {n}"),
            workplace: workplace(n),
            role: Role::Operator,
        })
        .await
        .unwrap()
        .profile
        .id;
    let code = InviteCode::generate().unwrap();
    relay
        .state()
        .team
        .add_invite(
            SeatRef::Id(seat),
            code.hash(),
            Utc::now() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    let link = team_api::JoinLink::new(
        &format!("http://{}", relay.local_addr()),
        &code.expose_secret(),
    )
    .unwrap();
    (seat, link)
}

fn call(leg: &str, state: &str, callee: &str) -> Value {
    json!({
        "event": "callNotifications",
        "result": {"callInfo": {
            "state": state,
            "type": "incoming",
            "call": {"id": leg, "tag": format!("t-{leg}")},
            "transportId": "10.0.0.1:5070",
            "caller": {"id": "79001234567"},
            "callee": {"id": callee},
        }}
    })
}

#[tokio::main]
async fn main() {
    let seats = env_usize("PRESENCE_BENCH_SEATS", 200).max(2);
    let samples = env_usize("PRESENCE_BENCH_SAMPLES", 400);
    let gap = Duration::from_millis(env_usize("PRESENCE_BENCH_GAP_MS", 20) as u64);
    let dir = tempfile::tempdir().unwrap();
    let mut config = relay::RelayConfig::new(
        relay::HookPath::generate(),
        dir.path().join("relay.sqlite3"),
    );
    config.streams_max = seats + 16;
    // The seats join one after another from this one address.
    config.join_attempts_per_minute = u32::try_from(seats * 2).unwrap_or(u32::MAX);
    let relay = relay::Relay::start(config).await.unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    // The observing app: a real core, joined and caught up.
    let (_, observer_link) = invite(&relay, 0).await;
    let profile_dir = tempfile::tempdir().unwrap();
    let profile = Profile::under(
        "bench",
        &profile_dir.path().join("config"),
        &profile_dir.path().join("data"),
    )
    .unwrap();
    let vault = Arc::new(MemoryVault::default());
    let core = Companion::open(profile, vault as Arc<dyn SecretVault>).unwrap();
    core.join_team(&JoinOffer::read(&observer_link.to_string(), None).unwrap())
        .await
        .unwrap();
    let mut events = core.subscribe();
    core.start_live_events().await.unwrap();
    loop {
        if let Ok(DomainEvent::ColleaguesReloaded) = events.recv().await {
            break;
        }
    }

    // The other seats: joined, each holding its stream open and read.
    let mut colleagues = Vec::new();
    for n in 1..seats {
        let (seat, link) = invite(&relay, n).await;
        let answer: Value = http
            .post(format!("http://{}/team/join", relay.local_addr()))
            .json(&json!({ "code": link.code }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let credential = answer["credential"]
            .as_str()
            .unwrap_or_else(|| panic!("seat {n} could not join: {answer}"))
            .to_owned();
        let response = http
            .get(relay.stream_url())
            .bearer_auth(&credential)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        tokio::spawn(async move {
            let mut body = response.bytes_stream();
            while let Some(Ok(_)) = body.next().await {}
        });
        colleagues.push((seat, workplace(n)));
    }
    // The roster learns the seats made after it was read at the next catch-up; read it now.
    core.reload_colleagues().await.unwrap();
    println!(
        "{seats} seats connected ({} raw streams and one app core); {samples} samples, {} apart",
        seats - 1,
        ms(gap)
    );
    load("before");

    let hook = format!("{}/events", relay.redirect_uri().expose_secret());
    let mut delays = Vec::with_capacity(samples);
    let mut timeouts = 0;
    for i in 0..samples {
        let (seat, sip) = &colleagues[i % colleagues.len()];
        // Each colleague's call rings through connected and ended in turn.
        let round = i / colleagues.len();
        let expected = Presence::Talking;
        let body = call(&format!("leg-{seat}-{round}"), "connected", sip);
        let started = Instant::now();
        let posted = http.post(&hook).json(&body).send().await.unwrap();
        assert_eq!(posted.status(), 200);
        let seen = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match events.recv().await {
                    Ok(DomainEvent::Colleague { colleague })
                        if colleague.seat == *seat && colleague.presence == expected =>
                    {
                        return;
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        })
        .await;
        match seen {
            Ok(()) => delays.push(started.elapsed()),
            Err(_) => timeouts += 1,
        }
        // The call ends: the colleague is free again before the next sample for them.
        let ended = call(&format!("leg-{seat}-{round}"), "finished", sip);
        let started = Instant::now();
        http.post(&hook).json(&ended).send().await.unwrap();
        let seen = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Ok(DomainEvent::Colleague { colleague }) = events.recv().await
                    && colleague.seat == *seat
                    && colleague.presence == Presence::Free
                {
                    return;
                }
            }
        })
        .await;
        match seen {
            Ok(()) => delays.push(started.elapsed()),
            Err(_) => timeouts += 1,
        }
        tokio::time::sleep(gap).await;
    }
    load("after");
    delays.sort();
    if delays.is_empty() {
        println!("no presence change arrived ({timeouts} timed out)");
        return;
    }
    println!(
        "webhook → presence in another seat's core, {} changes: p50 {}  p90 {}  p99 {}  max {}  ({timeouts} timed out)",
        delays.len(),
        ms(percentile(&delays, 0.50)),
        ms(percentile(&delays, 0.90)),
        ms(percentile(&delays, 0.99)),
        ms(*delays.last().unwrap()),
    );
    core.shutdown().await;
}
