//! A supervisor's app against a real relay connected to the simulator: a colleague's call comes
//! on the supervisor's stream, is listed as not mine with whose it is (the workplace's name from
//! the relay's directory), raises no popup, and the supervisor hangs it up through the core's
//! team seam (the PBX hears of it).

use std::sync::Arc;
use std::time::Duration;

use companion::{Companion, DomainEvent, JoinOffer, MemoryVault, Profile, SecretVault};
use relay::integration::{self, ClientCredentials};
use relay::sealing::{self, Sealer};
use serde_json::{Value, json};
use team_api::Role;

use crate::team_seats;
use crate::wait_for;

const SUPERVISOR: &str = "883140582526566";
const COLLEAGUE: &str = "883140777446532";
const WAIT: Duration = Duration::from_secs(20);

struct Team {
    relay: relay::RelayHandle,
    sim: mtt_sim::SimHandle,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// The simulator and a relay on loopback, the relay's integration connected the way
/// `trubka-relay team connect` does it (the simulator approves at once).
async fn connected_team() -> Team {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = relay::HookPath::generate();
    let redirect_uri = format!("http://127.0.0.1:{port}/{}", hook.expose_secret());
    let mut sim_config = mtt_sim::SimConfig {
        auto_approve: true,
        ..Default::default()
    };
    sim_config.client.redirect_uris = vec![redirect_uri.clone()];
    sim_config.webhook_url = Some(redirect_uri);
    let client_secret = sim_config.client.client_secret.expose().to_owned();
    let sim = mtt_sim::Sim::start(sim_config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = relay::RelayConfig::new(hook, dir.path().join("relay.sqlite3"));
    config.heartbeat = Duration::from_millis(200);
    config.retry = Duration::from_millis(100);
    config.listen = ([127, 0, 0, 1], port).into();
    config.mtt_oauth_url = sim.oauth_url().to_owned();
    config.mtt_api_url = sim.api_url().to_owned();
    sealing::ensure_key_file(&config.key_file).unwrap();
    let relay = relay::Relay::start(config).await.unwrap();
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
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
    let team = Team {
        relay,
        sim,
        http,
        _dir: dir,
    };
    team.wait_for("the integration to be connected", async |team| {
        let ready: Value = team
            .http
            .get(format!("http://{}/readyz", team.relay.local_addr()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ready["integration"] == "connected"
    })
    .await;
    team
}

impl Team {
    async fn wait_for(&self, what: &str, mut done: impl AsyncFnMut(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(self).await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited in vain for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A seat and its invite link, as `trubka-relay seats add` and `seats invite` make them.
    async fn invite(&self, name: &str, workplace: &str, role: Role) -> String {
        team_seats::invite(&self.relay, name, workplace, role)
            .await
            .link
    }

    async fn sim_requests(&self, method: &str) -> Vec<Value> {
        self.http
            .get(format!(
                "{}/requests?method={method}",
                self.sim.control_url()
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_sees_a_colleagues_call_as_not_mine_with_whose_it_is_and_hangs_it_up() {
    let team = connected_team().await;
    let link = team
        .invite("Иванова Анна", SUPERVISOR, Role::Supervisor)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let profile =
        Profile::under("work", &dir.path().join("config"), &dir.path().join("data")).unwrap();
    let vault = Arc::new(MemoryVault::default());
    let core = Companion::open(profile, vault as Arc<dyn SecretVault>).unwrap();
    core.join_team(&JoinOffer::read(&link, None).unwrap())
        .await
        .unwrap();
    core.refresh_directory().await.unwrap();
    let mut events = core.subscribe();
    core.start_live_events().await.unwrap();
    wait_for(
        &mut events,
        "the link connected",
        |e| matches!(e, DomainEvent::Link { state, .. } if state == "connected"),
    )
    .await;

    // A colleague's call, live at the PBX (nobody answers by themselves).
    let started = team
        .http
        .post(format!("{}/outgoing", team.sim.control_url()))
        .json(&json!({ "caller_id": COLLEAGUE, "callee_id": "79005550000", "manual": true }))
        .send()
        .await
        .unwrap();
    assert!(started.status().is_success());
    let started = wait_for(&mut events, "the colleague's call", |e| {
        matches!(e, DomainEvent::CallStarted { call, .. } if call.workplaces.contains(COLLEAGUE))
    })
    .await;
    let DomainEvent::CallStarted { call, .. } = started else {
        unreachable!()
    };
    assert!(!call.mine, "a colleague's call is not mine: {call:?}");
    let whose = call.whose.clone().expect("whose the call is");
    assert_eq!(whose.workplace, COLLEAGUE);
    assert_eq!(whose.name.as_deref(), Some("Петров Сергей"));
    assert!(!core.wants_popup(&call), "no popup for a colleague's call");
    assert!(
        core.live_calls()
            .iter()
            .any(|c| c.leg == call.leg && !c.mine && c.whose.is_some())
    );

    // The supervisor hangs it up through the seam: the relay allows it and the PBX hears of it.
    assert!(team.sim_requests("terminateCall").await.is_empty());
    core.hang_up(&call.leg).await.unwrap();
    team.wait_for("the PBX to hear of the hang-up", async |team| {
        !team.sim_requests("terminateCall").await.is_empty()
    })
    .await;
    wait_for(
        &mut events,
        "the colleague's call to end",
        |e| matches!(e, DomainEvent::CallEnded { call: ended, .. } if ended.leg == call.leg),
    )
    .await;
    core.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_started_like_the_cli_names_whose_a_call_is_and_counts_only_mine_today() {
    // What `trubka events` does: a process of its own that opens the joined profile and starts
    // the live events, nothing else (the app reads the directory at its start; the CLI did not,
    // so a colleague's call came with the workplace but no name).
    let team = connected_team().await;
    let link = team
        .invite("Иванова Анна", SUPERVISOR, Role::Supervisor)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let profile =
        || Profile::under("work", &dir.path().join("config"), &dir.path().join("data")).unwrap();
    let vault = Arc::new(MemoryVault::default());
    let joining = Companion::open(profile(), Arc::clone(&vault) as Arc<dyn SecretVault>).unwrap();
    joining
        .join_team(&JoinOffer::read(&link, None).unwrap())
        .await
        .unwrap();
    joining.shutdown().await;
    drop(joining);

    let core = Companion::open(profile(), vault as Arc<dyn SecretVault>).unwrap();
    let mut events = core.subscribe();
    core.start_live_events().await.unwrap();
    let started = team
        .http
        .post(format!("{}/outgoing", team.sim.control_url()))
        .json(&json!({ "caller_id": COLLEAGUE, "callee_id": "79005550000", "manual": true }))
        .send()
        .await
        .unwrap();
    assert!(started.status().is_success());
    let started = wait_for(&mut events, "the colleague's call", |e| {
        matches!(e, DomainEvent::CallStarted { call, .. } if call.workplaces.contains(COLLEAGUE))
    })
    .await;
    let DomainEvent::CallStarted { call, .. } = started else {
        unreachable!()
    };
    let whose = call.whose.clone().expect("whose the call is");
    assert_eq!(whose.workplace, COLLEAGUE);
    assert_eq!(whose.name.as_deref(), Some("Петров Сергей"), "{call:?}");

    // Today's card counts my calls: the colleague's call is in the log, not in my figures.
    let now = chrono::Utc::now();
    assert_eq!(core.log().day_stats(now).await.unwrap().calls, 1);
    let (today, hours) = core.today(now).await.unwrap();
    assert_eq!(today.calls, 0, "{today:?}");
    assert_eq!(hours.iter().map(|h| h.calls).sum::<i64>(), 0);
    core.shutdown().await;
}
