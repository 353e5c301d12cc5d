//! Colleagues in the core (issue #16, items 5–6): two seats' apps on one real relay; a call to
//! one seat's workplace reaches the other's core as the colleague talking, an availability set
//! in one core reaches the other's, and a closed app reads Offline to its colleague.

use std::sync::Arc;
use std::time::Duration;

use companion::{Companion, DomainEvent, JoinOffer, MemoryVault, Profile, SecretVault};
use serde_json::json;
use team_api::{Availability, Presence, Role};

use crate::team_seats;
use crate::wait_for;

const ANNA: &str = "883140582526566";
const BORIS: &str = "883140582526567";

struct Desk {
    vault: Arc<MemoryVault>,
    profile: Profile,
    _dir: tempfile::TempDir,
}

fn desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let profile =
        Profile::under("work", &dir.path().join("config"), &dir.path().join("data")).unwrap();
    Desk {
        vault: Arc::new(MemoryVault::default()),
        profile,
        _dir: dir,
    }
}

impl Desk {
    fn open(&self) -> Companion {
        Companion::open(
            self.profile.clone(),
            self.vault.clone() as Arc<dyn SecretVault>,
        )
        .unwrap()
    }
}

/// A seat at `workplace` and its invite link.
async fn invite(relay: &relay::RelayHandle, name: &str, workplace: &str) -> (i64, String) {
    let invited = team_seats::invite(relay, name, workplace, Role::Operator).await;
    (invited.seat, invited.link)
}

/// A core joined with `link`, its live events started and caught up.
async fn joined(desk: &Desk, link: &str) -> Companion {
    let core = desk.open();
    core.join_team(&JoinOffer::read(link, None).unwrap())
        .await
        .unwrap();
    let mut events = core.subscribe();
    core.start_live_events().await.unwrap();
    wait_for(&mut events, "the roster read after the catch-up", |e| {
        matches!(e, DomainEvent::ColleaguesReloaded)
    })
    .await;
    core
}

fn changed(
    event: &DomainEvent,
    seat: i64,
    check: impl Fn(&companion::team::TeamColleague) -> bool,
) -> bool {
    matches!(event, DomainEvent::Colleague { colleague } if colleague.seat == seat && check(colleague))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_core_follows_its_colleagues_presence_and_availability() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = relay::RelayConfig::new(
        relay::HookPath::generate(),
        dir.path().join("relay.sqlite3"),
    );
    config.heartbeat = Duration::from_millis(200);
    config.retry = Duration::from_millis(100);
    let relay = relay::Relay::start(config).await.unwrap();
    let (_, anna_link) = invite(&relay, "Анна", ANNA).await;
    let (boris, boris_link) = invite(&relay, "Борис", BORIS).await;
    let (anna_desk, boris_desk) = (desk(), desk());
    let anna = joined(&anna_desk, &anna_link).await;
    let mut seen = anna.subscribe();
    let boris_core = joined(&boris_desk, &boris_link).await;

    // Boris's app connected: Anna's core hears he is available.
    wait_for(&mut seen, "Boris available", |e| {
        changed(e, boris, |c| c.availability == Availability::Available)
    })
    .await;
    let list = anna.colleagues().await.unwrap();
    let entry = list.iter().find(|c| c.seat == boris).unwrap();
    assert_eq!(entry.name, "Борис");
    assert_eq!(entry.workplace, BORIS);
    assert_eq!(entry.presence, Presence::Free);

    // A call to Boris's workplace: Anna's core sees him talking (and never the caller).
    let hook = format!("{}/events", relay.redirect_uri().expose_secret());
    let call = json!({
        "event": "callNotifications",
        "result": {"callInfo": {
            "state": "connected",
            "type": "incoming",
            "call": {"id": "leg-1", "tag": "t-1"},
            "transportId": "10.0.0.1:5070",
            "caller": {"id": "79001234567", "displayName": "Иван Петров"},
            "callee": {"id": BORIS},
        }}
    });
    let posted = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(&hook)
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    wait_for(&mut seen, "Boris talking", |e| {
        changed(e, boris, |c| c.presence == Presence::Talking)
    })
    .await;

    // Boris takes a break in his app: Anna's core hears it.
    assert_eq!(
        boris_core
            .set_availability(Availability::Break)
            .await
            .unwrap(),
        Availability::Break
    );
    assert_eq!(boris_core.my_availability(), Some(Availability::Break));
    wait_for(&mut seen, "Boris on a break", |e| {
        changed(e, boris, |c| c.availability == Availability::Break)
    })
    .await;
    let offline = boris_core
        .set_availability(Availability::Offline)
        .await
        .unwrap_err();
    assert_eq!(offline.code(), companion::ErrorCode::InvalidInput);

    // Boris closes the app: Offline.
    boris_core.shutdown().await;
    drop(boris_core);
    wait_for(&mut seen, "Boris offline", |e| {
        changed(e, boris, |c| c.availability == Availability::Offline)
    })
    .await;
    let list = anna.colleagues().await.unwrap();
    assert_eq!(
        list.iter().find(|c| c.seat == boris).unwrap().availability,
        Availability::Offline
    );
    anna.shutdown().await;
}
