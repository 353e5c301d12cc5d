//! Parked calls decided by the routing engine, end to end on loopback: the simulated PBX parks
//! the call and posts its parking leg to a real relay, the core signed in to the simulator
//! decides by its rules and calls transferCall or terminateCall, and the simulator shows where
//! the call went. Every decision is checked in the call log's journal too.

use std::sync::Arc;
use std::time::Duration;

use companion::{
    Companion, DomainEvent, MemoryVault, Profile, ProfileSecrets, RelayKey, RoutingSettings, Rule,
    SecretVault,
};
use serde_json::{Value, json};

use crate::{control, wait_for};

/// The parked external number (the simulator's second number; the first stays unparked).
pub const PARKED: &str = "74996497803";
pub const UNPARKED: &str = "78005560251";
/// Not in the cabinet's routing groups, so a call reaching him was sent by our routing.
pub const KUZNETSOV: &str = "883140777551301";
/// In the cabinet's first routing group.
const SMIRNOVA: &str = "883140777551201";
pub const CLIENT: &str = "79161112233";
const STRANGER: &str = "79990004455";

/// A simulator and a relay, and the apps signed in to them.
pub struct World {
    pub sim: mtt_sim::SimHandle,
    pub relay: relay::RelayHandle,
    dir: tempfile::TempDir,
}

impl World {
    pub async fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        let relay = relay::Relay::start(relay::RelayConfig::new(
            relay::HookPath::generate(),
            dir.path().join("relay.sqlite3"),
        ))
        .await
        .unwrap();
        let mut config = mtt_sim::SimConfig {
            auto_approve: true,
            ..Default::default()
        };
        config.client.redirect_uris = vec![relay.redirect_uri().expose_secret().to_owned()];
        // The PBX's real window: "released at once" must be visibly shorter than it.
        config.timings.parking_window_ms = 5_000;
        config.timings.incoming_answer_ms = None;
        let sim = mtt_sim::Sim::start(config).await.unwrap();
        World { sim, relay, dir }
    }

    /// An app on profile `name`, signed in, streaming live events, with the directory read.
    async fn app(&self, name: &str, is_router: bool) -> Arc<Companion> {
        self.app_and_vault(name, is_router).await.0
    }

    /// The profile `name` in this world's directories.
    pub fn profile(&self, name: &str) -> Profile {
        Profile::under(
            name,
            &self.dir.path().join("config"),
            &self.dir.path().join("data"),
        )
        .unwrap()
    }

    /// As [`World::app`], with the vault that holds the app's secrets (to open it again).
    pub async fn app_and_vault(
        &self,
        name: &str,
        is_router: bool,
    ) -> (Arc<Companion>, Arc<dyn SecretVault>) {
        let profile = self.profile(name);
        let mut settings = profile.load_settings().unwrap();
        let sim_config = mtt_sim::SimConfig::default();
        settings.account.client_id = Some(sim_config.client.client_id.clone());
        settings.account.redirect_uri = Some(self.relay.redirect_uri().expose_secret().to_owned());
        settings.account.relay_url = Some(format!("http://{}", self.relay.local_addr()));
        settings.account.oauth_url = Some(self.sim.oauth_url().to_owned());
        settings.account.api_url = Some(self.sim.api_url().to_owned());
        settings.router = is_router;
        // Open all week, so the tests do not depend on the hour they run at.
        settings.routing.hours = always_open();
        profile.save_settings(&settings).unwrap();
        let key = relay::ClientKey::generate();
        self.relay
            .state()
            .store
            .add_client_key(name.into(), key.hash())
            .await
            .unwrap();
        let vault: Arc<dyn SecretVault> = Arc::new(MemoryVault::default());
        let secrets = ProfileSecrets::new(Arc::clone(&vault), profile.name());
        secrets
            .set_client_secret(&mtt_api::ClientSecret::new(
                sim_config.client.client_secret.expose(),
            ))
            .unwrap();
        secrets
            .set_relay_key(&RelayKey::new(key.expose_secret()))
            .unwrap();
        let app = Arc::new(Companion::open(profile, Arc::clone(&vault)).unwrap());
        let mut events = app.subscribe();
        app.start_live_events().await.unwrap();
        wait_for(
            &mut events,
            "link up",
            |e| matches!(e, DomainEvent::Link { state, .. } if state == "connected"),
        )
        .await;
        app.sign_in(follow_like_a_browser).await.unwrap();
        app.refresh_directory().await.unwrap();
        (app, vault)
    }

    /// The router app, with `PARKED` parked and a client whose personal manager is Kuznetsov.
    async fn router(&self) -> Arc<Companion> {
        self.router_and_vault().await.0
    }

    /// As [`World::router`], with the vault that holds its secrets.
    pub async fn router_and_vault(&self) -> (Arc<Companion>, Arc<dyn SecretVault>) {
        let (app, vault) = self.app_and_vault("router", true).await;
        app.set_parking(&[PARKED.into()], true).await.unwrap();
        assert!(app.is_deciding(), "{:?}", app.parking_state());
        app.log()
            .add_contact(call_log::NewContact {
                name: "Клиент с менеджером".into(),
                company: None,
                numbers: vec![CLIENT.into()],
                manager_sip_id: Some(KUZNETSOV.into()),
                notes: None,
            })
            .await
            .unwrap();
        (app, vault)
    }

    pub async fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.sim.control_url());
        reqwest::get(url).await.unwrap().json().await.unwrap()
    }

    /// Starts a parked call from `from` nobody answers; returns (parking leg, main leg).
    pub async fn parked_call(&self, from: &str) -> (String, String) {
        let url = format!("{}/incoming", self.sim.control_url());
        let started: Value = reqwest::Client::new()
            .post(url)
            .json(&json!({"from": from, "to": PARKED, "manual": true}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            started["parking_leg_id"].as_str().unwrap().to_owned(),
            started["leg_id"].as_str().unwrap().to_owned(),
        )
    }

    /// The simulator's view of the call with this main leg, once `done` accepts it.
    async fn call_when(&self, main_leg: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let calls = self.get("/calls?all=true").await;
            let call = calls
                .as_array()
                .unwrap()
                .iter()
                .find(|c| {
                    c["legs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|l| l["id"] == main_leg)
                })
                .cloned();
            if let Some(call) = call.filter(&done) {
                return call;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {what} within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// transferCall and terminateCall requests the simulator received for a leg.
    pub async fn requests_for(&self, leg: &str) -> Vec<Value> {
        self.get("/requests")
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["leg_id"] == leg)
            .cloned()
            .collect()
    }

    pub async fn shutdown(self, apps: &[&Arc<Companion>]) {
        for app in apps {
            app.shutdown().await;
        }
        self.sim.shutdown().await;
        self.relay.shutdown().await.unwrap();
    }
}

fn always_open() -> companion::BusinessHours {
    let all = || "00:00-24:00".to_owned();
    companion::BusinessHours {
        mon: all(),
        tue: all(),
        wed: all(),
        thu: all(),
        fri: all(),
        sat: all(),
        sun: all(),
        holidays: Vec::new(),
    }
}

/// Plays the browser: the simulator approves at once and redirects to the relay's hook.
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

/// The next routing decision announced for this parking leg.
pub async fn routed(
    events: &mut tokio::sync::broadcast::Receiver<DomainEvent>,
    leg: &str,
) -> companion::RoutingOutcome {
    let DomainEvent::Routed { outcome } = wait_for(
        events,
        "a routing decision",
        |e| matches!(e, DomainEvent::Routed { outcome } if outcome.leg == leg),
    )
    .await
    else {
        unreachable!()
    };
    outcome
}

/// Whether the parking leg was ended by a terminateCall the PBX accepted: proof that the call
/// did not wait out the 5-second window (after it, the leg is gone and terminateCall fails).
async fn released_by_api(w: &World, parking: &str) -> bool {
    w.requests_for(parking)
        .await
        .iter()
        .any(|r| r["method"] == "terminateCall" && r["status"] == 200)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_with_a_personal_manager_rings_the_managers_phone_not_the_cabinets_group() {
    let w = World::start().await;
    let app = w.router().await;
    let mut events = app.subscribe();
    let (parking, main) = w.parked_call(CLIENT).await;
    let outcome = routed(&mut events, &parking).await;
    assert_eq!(
        outcome.result,
        call_log::RoutingOutcome::Transferred,
        "{outcome:?}"
    );
    assert_eq!(outcome.choice.rule(), "manager");
    assert!(outcome.in_time, "{outcome:?}");
    let call = w
        .call_when(&main, "the manager ringing", |c| c["phase"] == "ringing")
        .await;
    assert_eq!(call["ringing"], json!([KUZNETSOV]), "{call}");

    // The journal says why, from the parking leg and from the call's main leg alike.
    let journal = app.routing_journal(100).await.unwrap();
    assert_eq!(journal.decisions.len(), 1);
    let entry = &journal.decisions[0];
    assert_eq!(
        (entry.rule.as_deref(), entry.target.as_deref()),
        (Some("manager"), Some(KUZNETSOV))
    );
    assert_eq!(journal.met, 1);
    assert_eq!(journal.share, Some(1.0));
    // The History row of the call's main leg finds the reason too, once the app has seen it.
    wait_for(
        &mut events,
        "the main leg",
        |e| matches!(e, DomainEvent::CallStarted { call, .. } if call.leg == main),
    )
    .await;
    let why = app.routing_reason(&main).await.unwrap().expect("a reason");
    assert_eq!(why.leg, parking);
    w.shutdown(&[&app]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_manager_passes_the_call_to_the_next_rule_the_last_operator() {
    let w = World::start().await;
    let app = w.router().await;
    let mut events = app.subscribe();
    // Earlier, Smirnova talked with the client (on the unparked number).
    control(
        &w.sim,
        false,
        "/incoming",
        json!({"from": CLIENT, "to": UNPARKED, "answer_after_ms": 20, "answer_by": SMIRNOVA, "talk_ms": 30}),
    )
    .await;
    wait_for(&mut events, "the earlier call ended", |e| {
        matches!(e, DomainEvent::CallEnded { call, .. } if call.answered_by.as_deref() == Some(SMIRNOVA))
    })
    .await;
    // Kuznetsov is on a call now.
    control(
        &w.sim,
        false,
        "/outgoing",
        json!({"caller_id": KUZNETSOV, "callee_id": "79035550000", "operator_answer_ms": 10, "callee_answer_ms": 10, "talk_ms": 60_000}),
    )
    .await;
    wait_for(&mut events, "Kuznetsov talking", |e| {
        matches!(e, DomainEvent::CallUpdated { call, .. } if call.phase == companion::CallPhase::Connected
            && call.workplaces.contains(KUZNETSOV))
    })
    .await;

    let (parking, main) = w.parked_call(CLIENT).await;
    let outcome = routed(&mut events, &parking).await;
    assert_eq!(outcome.choice.rule(), "last_operator", "{outcome:?}");
    assert!(
        outcome
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("on a call"),
        "{outcome:?}"
    );
    let call = w
        .call_when(&main, "the last operator ringing", |c| {
            c["phase"] == "ringing"
        })
        .await;
    assert_eq!(call["ringing"], json!([SMIRNOVA]), "{call}");
    w.shutdown(&[&app]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_caller_is_released_at_once_not_after_the_window() {
    let w = World::start().await;
    let app = w.router().await;
    let mut events = app.subscribe();
    let (parking, main) = w.parked_call(STRANGER).await;
    let outcome = routed(&mut events, &parking).await;
    assert_eq!(
        outcome.result,
        call_log::RoutingOutcome::Released,
        "{outcome:?}"
    );
    assert_eq!(outcome.choice.rule(), "unknown_caller");
    // The parking leg ended by terminateCall (its only request), and the cabinet's routing
    // took over.
    assert_eq!(w.requests_for(&parking).await.len(), 1);
    assert!(released_by_api(&w, &parking).await);
    let call = w
        .call_when(&main, "the cabinet's group ringing", |c| {
            c["phase"] == "ringing"
        })
        .await;
    assert_eq!(call["ringing"].as_array().unwrap().len(), 3, "{call}");
    let reason = app.routing_reason(&parking).await.unwrap().unwrap();
    assert_eq!(reason.rule.as_deref(), Some("unknown_caller"));
    w.shutdown(&[&app]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_business_hours_the_call_is_released_even_for_a_client_with_a_manager() {
    let w = World::start().await;
    let app = w.router().await;
    let mut routing = app.routing_settings();
    routing.hours = companion::BusinessHours {
        mon: String::new(),
        tue: String::new(),
        wed: String::new(),
        thu: String::new(),
        fri: String::new(),
        sat: String::new(),
        sun: String::new(),
        holidays: Vec::new(),
    };
    // Hours first: even a client with a personal manager is released after hours.
    routing.rules = vec![
        Rule::OutsideHours { enabled: true },
        Rule::Manager { enabled: true },
        Rule::UnknownCaller {
            enabled: true,
            to: None,
        },
    ];
    let err = app
        .set_routing_settings(RoutingSettings {
            deadline_ms: 9_000,
            ..routing.clone()
        })
        .unwrap_err();
    assert!(err.to_string().contains("deadline_ms"), "{err}");
    app.set_routing_settings(routing).unwrap();

    let mut events = app.subscribe();
    let (parking, _main) = w.parked_call(CLIENT).await;
    let outcome = routed(&mut events, &parking).await;
    assert_eq!(
        outcome.result,
        call_log::RoutingOutcome::Released,
        "{outcome:?}"
    );
    assert_eq!(outcome.choice.rule(), "outside_hours");
    assert_eq!(w.requests_for(&parking).await.len(), 1);
    assert!(released_by_api(&w, &parking).await);
    w.shutdown(&[&app]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_slower_than_the_deadline_is_given_up_and_the_call_released() {
    let w = World::start().await;
    let app = w.router().await;
    let routing = RoutingSettings {
        deadline_ms: 400,
        ..app.routing_settings()
    };
    app.set_routing_settings(routing).unwrap();
    control(
        &w.sim,
        true,
        "/faults",
        json!({"transferCall": {"latency_ms": 2_000}}),
    )
    .await;
    let mut events = app.subscribe();
    let (parking, main) = w.parked_call(CLIENT).await;
    let outcome = routed(&mut events, &parking).await;
    assert_eq!(
        outcome.result,
        call_log::RoutingOutcome::TimedOut,
        "{outcome:?}"
    );
    assert!(!outcome.in_time);
    assert!(
        outcome
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("deadline passed"),
        "{outcome:?}"
    );
    // Released by terminateCall at the deadline: the cabinet's group rings, not the manager.
    let call = w
        .call_when(&main, "the cabinet's group ringing", |c| {
            c["phase"] == "ringing"
        })
        .await;
    assert!(released_by_api(&w, &parking).await);
    assert!(
        !call["ringing"]
            .as_array()
            .unwrap()
            .contains(&json!(KUZNETSOV)),
        "{call}"
    );
    let journal = app.routing_journal(100).await.unwrap();
    let entry = &journal.decisions[0];
    assert_eq!(entry.outcome, call_log::RoutingOutcome::TimedOut);
    assert!(
        entry.detail.as_deref().unwrap().contains("deadline passed"),
        "{entry:?}"
    );
    assert!(!entry.met_deadline);
    assert_eq!((journal.met, journal.share), (0, Some(0.0)));
    w.shutdown(&[&app]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_transfer_releases_the_call_and_the_journal_says_why() {
    let w = World::start().await;
    let app = w.router().await;
    control(
        &w.sim,
        true,
        "/faults",
        json!({"transferCall": {"failure_rate": 1.0, "failure_status": 503}}),
    )
    .await;
    let mut events = app.subscribe();
    let (parking, _main) = w.parked_call(CLIENT).await;
    let outcome = routed(&mut events, &parking).await;
    assert_eq!(
        outcome.result,
        call_log::RoutingOutcome::Failed,
        "{outcome:?}"
    );
    let methods: Vec<Value> = w
        .requests_for(&parking)
        .await
        .iter()
        .map(|r| json!([r["method"], r["status"]]))
        .collect();
    assert_eq!(
        methods,
        [json!(["transferCall", 503]), json!(["terminateCall", 200])]
    );
    let entry = app.routing_reason(&parking).await.unwrap().unwrap();
    let detail = entry.detail.unwrap();
    assert!(
        detail.contains("transferCall to")
            && detail.contains("failed")
            && detail.contains("released instead"),
        "{detail}"
    );
    w.shutdown(&[&app]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_apps_only_the_one_marked_router_decides_each_call_once() {
    let w = World::start().await;
    let router = w.router().await;
    let watcher = w.app("watcher", false).await;
    // The watcher knows the number is parked too; it still must not decide.
    watcher.set_parking(&[PARKED.into()], true).await.unwrap();
    assert!(router.is_deciding() && !watcher.is_deciding());
    let mut watching = watcher.subscribe();
    let callers = [CLIENT, "79035551122", "79035553344"];
    for (i, caller) in callers.iter().enumerate().skip(1) {
        router
            .log()
            .add_contact(call_log::NewContact {
                name: format!("Клиент {i}"),
                company: None,
                numbers: vec![(*caller).into()],
                manager_sip_id: Some(KUZNETSOV.into()),
                notes: None,
            })
            .await
            .unwrap();
    }
    let mut legs = Vec::new();
    for caller in callers {
        let mut events = router.subscribe();
        let (parking, _) = w.parked_call(caller).await;
        routed(&mut events, &parking).await;
        legs.push(parking);
    }
    // The watcher saw the calls ring but decided none.
    wait_for(&mut watching, "a call seen by the watcher", |e| {
        matches!(e, DomainEvent::CallStarted { .. })
    })
    .await;
    for leg in &legs {
        let decisions = w.requests_for(leg).await;
        assert_eq!(decisions.len(), 1, "{leg}: {decisions:?}");
        assert_eq!(
            decisions[0]["method"], "transferCall",
            "{leg}: {decisions:?}"
        );
    }
    let transfers = w.get("/requests?method=transferCall").await;
    assert_eq!(transfers.as_array().unwrap().len(), 3, "{transfers}");
    assert!(
        watcher
            .routing_journal(100)
            .await
            .unwrap()
            .decisions
            .is_empty()
    );
    assert_eq!(
        router.routing_journal(100).await.unwrap().decisions.len(),
        3
    );
    w.shutdown(&[&router, &watcher]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parking_is_applied_again_after_each_sign_in() {
    let w = World::start().await;
    let app = w.router().await;
    let first = app.parking_state().applied_at.expect("applied when set");
    // The cabinet (or another app) turned parking off meanwhile.
    let token = reqwest::Client::new()
        .post(format!("{}/tokens", w.sim.control_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = reqwest::Client::new()
        .post(format!("{}/setParkingNumbers", w.sim.api_url()))
        .bearer_auth(token)
        .json(&json!({"params": {"numbers": [PARKED], "isParking": false}}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    let parked_in_sim = |state: &Value| {
        state["account"]["parked"]
            .as_array()
            .is_some_and(|p| p.contains(&json!(PARKED)))
    };
    assert!(!parked_in_sim(&w.get("/state").await));
    app.sign_in(follow_like_a_browser).await.unwrap();
    let state = app.parking_state();
    assert!(state.applied_at.unwrap() > first, "{state:?}");
    assert_eq!(state.numbers, [PARKED]);
    assert!(
        parked_in_sim(&w.get("/state").await),
        "{}",
        w.get("/state").await
    );

    // When applying fails, the sign-in still succeeds and the failure is announced.
    control(
        &w.sim,
        true,
        "/faults",
        json!({"setParkingNumbers": {"failure_rate": 1.0}}),
    )
    .await;
    let mut events = app.subscribe();
    app.sign_in(follow_like_a_browser).await.unwrap();
    let trouble = wait_for(
        &mut events,
        "the parking trouble",
        |e| matches!(e, DomainEvent::Trouble { code, .. } if *code == companion::ErrorCode::Parking),
    )
    .await;
    assert!(
        format!("{trouble:?}").contains("could not be applied"),
        "{trouble:?}"
    );
    assert_eq!(
        app.parking_state().applied_at,
        state.applied_at,
        "unchanged"
    );
    w.shutdown(&[&app]).await;
}

/// The checks on the settings file itself need no simulator.
#[test]
fn routing_rules_from_a_file_are_checked_before_they_are_saved() {
    let dir = tempfile::tempdir().unwrap();
    let profile = Profile::under("rules", &dir.path().join("c"), &dir.path().join("d")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _guard = runtime.enter();
    let app = Companion::open(profile.clone(), Arc::new(MemoryVault::default())).unwrap();
    let err = app
        .set_routing_settings_toml("rules = [{ kind = \"last_operator\", days = 1000 }]")
        .unwrap_err();
    assert_eq!(err.code().as_str(), "invalid_input");
    assert!(err.to_string().contains("days must be 1–365"), "{err}");
    let saved = app
        .set_routing_settings_toml(
            "[routing]\ndeadline_ms = 3500\nrules = [{ kind = \"manager\" }]\n",
        )
        .unwrap();
    assert_eq!(saved.deadline_ms, 3500);
    let reread = profile.load_settings().unwrap().routing;
    assert_eq!(reread, saved);
}
