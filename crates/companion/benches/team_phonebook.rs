//! An edit of the team phonebook at the relay → the change applied in another seat's core, on
//! loopback (issue #16 item 4: p99 ≤ 1 s).
//!
//! Starts a real relay (SQLite, durable commits) holding N contacts (default 10,000; first
//! argument), imported as `trubka-relay contacts import` does, and a real core (call log, link,
//! pipeline, the phonebook's sync) joined as an operator through an invite; times the join's
//! first sync of the whole phonebook. Then a supervisor edits contacts through the seat API, one
//! at a time, M edits (default 150; second argument) with a pause between them (default 600 ms;
//! third argument: each edit costs every app one `GET /team/contacts`, and a seat may make 120
//! seat API requests a minute, so faster edits are a burst the apps catch up with after the
//! seat's rate allows; try `-- 10000 300 50`), and for each measures from the
//! start of its `PUT /team/contacts/{id}` to the moment the operator's core has applied that
//! version to its call log (the relay's `phonebook` stream event, the sync's
//! `GET /team/contacts?since=`, the call log's commit). Prints p50, p90, p99 and max.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark program: a panic is a failed run"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use companion::{Companion, JoinOffer, MemoryVault, Profile, SecretVault};
use relay::seats::InviteCode;
use relay::store::team::{NewSeat, SeatRef};
use serde_json::{Value, json};
use team_api::Role;

async fn invite(relay: &relay::RelayHandle, name: &str, workplace: &str, role: Role) -> String {
    let seat = relay
        .state()
        .team
        .add_seat(NewSeat {
            name: name.into(),
            workplace: workplace.into(),
            role,
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
    code.expose_secret()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let contacts: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let edits: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(150);
    let pause = Duration::from_millis(
        std::env::args()
            .nth(3)
            .and_then(|a| a.parse().ok())
            .unwrap_or(600),
    );
    println!("load before: {}", loadavg());
    let dir = tempfile::tempdir().unwrap();
    let relay = relay::Relay::start(relay::RelayConfig::new(
        relay::HookPath::generate(),
        dir.path().join("relay.sqlite3"),
    ))
    .await
    .unwrap();
    let base = format!("http://{}", relay.local_addr());

    // The team's phonebook, as an import makes it.
    let mut csv = String::from("name;company;phone;manager\n");
    for n in 0..contacts {
        csv.push_str(&format!(
            "Клиент {n};Компания {};+7 916 {:07};8831405825{:05}\n",
            n % 500,
            n,
            n % 100
        ));
    }
    let parsed = relay::contacts_file::parse_file(std::path::Path::new("team.csv"), csv.as_bytes());
    let started = Instant::now();
    let imported = relay
        .state()
        .phonebook
        .store()
        .import_contacts(parsed, true)
        .await
        .unwrap();
    println!(
        "imported {} contacts at the relay in {:.2} s",
        imported.added,
        started.elapsed().as_secs_f64()
    );
    let ids: Vec<i64> = relay
        .state()
        .phonebook
        .store()
        .team_contacts()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .take(1000)
        .collect();

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let code = invite(&relay, "Сергей", "883140777446532", Role::Supervisor).await;
    let answer: Value = http
        .post(format!("{base}/team/join"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let supervisor = answer["credential"].as_str().unwrap().to_owned();

    let desk = tempfile::tempdir().unwrap();
    let profile = Profile::under(
        "bench",
        &desk.path().join("config"),
        &desk.path().join("data"),
    )
    .unwrap();
    let core = Companion::open(
        profile,
        Arc::new(MemoryVault::default()) as Arc<dyn SecretVault>,
    )
    .unwrap();
    let code = invite(&relay, "Анна", "883140582526566", Role::Operator).await;
    let link = team_api::JoinLink::new(&base, &code).unwrap().to_string();
    core.join_team(&JoinOffer::read(&link, None).unwrap())
        .await
        .unwrap();
    let mut applied = core.team_phonebook_applied();
    let version = relay
        .state()
        .phonebook
        .store()
        .phonebook_version()
        .await
        .unwrap();
    let started = Instant::now();
    core.start_live_events().await.unwrap();
    applied.wait_for(|v| *v >= version).await.unwrap();
    println!(
        "the operator's first sync of {contacts} contacts: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let local = core.log().contacts(None, usize::MAX).await.unwrap().len();
    assert_eq!(local, contacts, "the copy holds the whole phonebook");
    // Let the first catch-up's own sync settle.
    tokio::time::sleep(Duration::from_millis(500)).await;

    println!("load before the edits: {}", loadavg());
    let mut delays = Vec::with_capacity(edits);
    for n in 0..edits {
        let id = ids[n % ids.len()];
        let started = Instant::now();
        let saved: Value = http
            .put(format!("{base}/team/contacts/{id}"))
            .bearer_auth(&supervisor)
            .json(&json!({"name": format!("Правка {n}"), "numbers": [format!("+7 916 {:07}", id)]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let version = saved["contact"]["version"].as_i64().unwrap();
        tokio::time::timeout(Duration::from_secs(30), applied.wait_for(|v| *v >= version))
            .await
            .expect("the edit reached the operator's core")
            .unwrap();
        delays.push(started.elapsed());
        tokio::time::sleep(pause).await;
    }
    println!("load after: {}", loadavg());
    delays.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{edits} edits {} ms apart, relay PUT → applied in the operator's call log: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pause.as_millis(),
        ms(percentile(&delays, 0.50)),
        ms(percentile(&delays, 0.90)),
        ms(percentile(&delays, 0.99)),
        ms(*delays.last().unwrap()),
    );
    core.shutdown().await;
}
