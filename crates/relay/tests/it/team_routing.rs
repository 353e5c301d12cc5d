//! Routing on the relay, against the simulator, with no desktop app running: the relay is the
//! one decider of parked calls in team mode. The cases of the desktop router's tests (a personal
//! manager, a busy or unavailable one passed over to the next rule, an unknown caller released
//! at once, a transfer slower than the deadline released), each decided by the relay at intake,
//! journalled in its store, and sent on the stream.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use futures::future::BoxFuture;
use relay::RelayError;
use relay::routing::{Availability, PersonalManagers, PhonebookMatch};
use relay::store::routing::CallerSeen;
use serde_json::{Value, json};
use team_api::Role;

use crate::team_integration::{Team, connect, team, wait_for};
use crate::team_seat_api::joined;
use crate::util::SseReader;

/// The parked external number (the simulator's second; the first stays unparked).
const PARKED: &str = "74996497803";
/// Not in the cabinet's routing groups: a call reaching him was sent by routing.
const KUZNETSOV: &str = "883140777551301";
/// In the cabinet's first routing group.
const SMIRNOVA: &str = "883140777551201";
const ADMIN_WORKPLACE: &str = "883140777446532";
const CLIENT: &str = "79161112233";
const STRANGER: &str = "79990004455";

/// A phonebook in memory, optionally slow to answer.
#[derive(Debug, Default)]
struct Phonebook {
    managers: HashMap<String, String>,
    delay: Option<Duration>,
}

impl PersonalManagers for Phonebook {
    fn manager_of<'a>(
        &'a self,
        number: &'a str,
    ) -> BoxFuture<'a, Result<Option<PhonebookMatch>, RelayError>> {
        Box::pin(async move {
            if let Some(delay) = self.delay {
                tokio::time::sleep(delay).await;
            }
            Ok(self.managers.get(number).map(|manager| PhonebookMatch {
                manager: Some(manager.clone()),
            }))
        })
    }
}

/// Operators on a break.
#[derive(Debug, Default)]
struct OnBreak(Mutex<Vec<String>>);

impl Availability for OnBreak {
    fn is_available(&self, workplace: &str) -> bool {
        !self.0.lock().unwrap().iter().any(|w| w == workplace)
    }
}

fn phonebook() -> Phonebook {
    Phonebook {
        managers: [(CLIENT.to_owned(), KUZNETSOV.to_owned())].into(),
        delay: None,
    }
}

fn always_open() -> Value {
    let all = "00:00-24:00";
    json!({"mon": all, "tue": all, "wed": all, "thu": all, "fri": all, "sat": all, "sun": all})
}

/// The team connected, an admin joined, and `PARKED` parked by the admin through the seat API
/// with the default rules open all week; the admin's credential.
async fn routed_team(deadline_ms: u64) -> (Team, String) {
    let team = team().await;
    connect(&team).await;
    let admin = joined(&team.relay, "Админ", ADMIN_WORKPLACE, Role::Admin).await;
    let response = team
        .relay
        .http
        .put(format!("{}/team/routing", team.relay.base))
        .bearer_auth(&admin)
        .json(&json!({
            "settings": {"hours": always_open(), "deadline_ms": deadline_ms},
            "parked": [PARKED],
            "timeZone": "Europe/Moscow",
        }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let saved: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["parked"], json!([PARKED]));
    assert!(
        saved["settings"]["parking_applied_at"].is_string(),
        "{saved}"
    );
    let state = sim_get(&team, "/state").await;
    assert_eq!(state["account"]["parked"], json!([PARKED]), "{state}");
    (team, admin)
}

async fn sim_get(team: &Team, path: &str) -> Value {
    team.relay
        .http
        .get(format!("{}{path}", team.sim.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Starts a parked call from `from` that nobody answers; returns (parking leg, main leg).
async fn parked_call(team: &Team, from: &str) -> (String, String) {
    let started: Value = team
        .relay
        .http
        .post(format!("{}/incoming", team.sim.control_url()))
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

/// The relay's journal entry for a parking leg, once there.
async fn decision(team: &Team, admin: &str, parking: &str) -> Value {
    let mut found = Value::Null;
    wait_for("the relay's decision in its journal", async || {
        let journal: Value = team
            .relay
            .http
            .get(format!("{}/team/routing/journal", team.relay.base))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match journal["decisions"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["entry"]["leg"] == parking))
        {
            Some(entry) => {
                found = entry["entry"].clone();
                true
            }
            None => false,
        }
    })
    .await;
    found
}

/// The simulator's requests for a leg.
async fn requests_for(team: &Team, leg: &str) -> Vec<Value> {
    sim_get(team, "/requests")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["leg_id"] == leg)
        .cloned()
        .collect()
}

/// The simulator's call with this main leg, once `done` accepts it.
async fn call_when(team: &Team, main: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut found = Value::Null;
    wait_for("the simulator's call", async || {
        let calls = sim_get(team, "/calls?all=true").await;
        let call = calls.as_array().unwrap().iter().find(|c| {
            c["legs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["id"] == main)
        });
        match call.filter(|c| done(c)) {
            Some(call) => {
                found = call.clone();
                true
            }
            None => false,
        }
    })
    .await;
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_sends_a_client_to_their_personal_manager_journals_it_and_streams_it() {
    let (team, admin) = routed_team(4_000).await;
    let state = team.relay.handle.state();
    state.routing.use_managers(Arc::new(phonebook()));
    let mut stream = SseReader::new(
        team.relay
            .http
            .get(format!("{}/events/stream", team.relay.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    );
    let (parking, main) = parked_call(&team, CLIENT).await;
    let entry = decision(&team, &admin, &parking).await;
    assert_eq!(entry["outcome"], "transferred", "{entry}");
    assert_eq!(entry["rule"], "manager");
    assert_eq!(entry["target"], KUZNETSOV);
    assert!(
        entry["took_ms"].as_i64().unwrap() <= entry["deadline_ms"].as_i64().unwrap(),
        "{entry}"
    );
    let call = call_when(&team, &main, |c| c["phase"] == "ringing").await;
    assert_eq!(call["ringing"], json!([KUZNETSOV]), "{call}");
    let requests = requests_for(&team, &parking).await;
    assert_eq!(
        requests.len(),
        1,
        "one transferCall, nothing else: {requests:?}"
    );
    assert_eq!(requests[0]["method"], "transferCall");

    // The decision reaches the stream as a `routing` event.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let frame = stream
            .next_event(Duration::from_secs(20))
            .await
            .expect("a routing event on the stream");
        let data = frame.json();
        if data["kind"] == team_api::ROUTING_KIND {
            assert_eq!(data["body"]["entry"]["leg"], parking.as_str(), "{data}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no routing event");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manager_on_a_break_passes_the_call_to_the_next_rule_the_last_operator() {
    let (team, admin) = routed_team(4_000).await;
    let state = team.relay.handle.state();
    state.routing.use_managers(Arc::new(phonebook()));
    let on_break = Arc::new(OnBreak::default());
    on_break.0.lock().unwrap().push(KUZNETSOV.to_owned());
    state
        .routing
        .use_availability(Arc::clone(&on_break) as Arc<dyn Availability>);
    // Smirnova answered this client three days ago: the relay's own fact, whatever the events'
    // retention.
    state
        .team
        .note_caller(CallerSeen {
            number_key: CLIENT.into(),
            at: Utc::now() - TimeDelta::days(3),
            answered_by: Some(SMIRNOVA.into()),
        })
        .await
        .unwrap();
    let (parking, _main) = parked_call(&team, CLIENT).await;
    let entry = decision(&team, &admin, &parking).await;
    assert_eq!(
        (
            entry["outcome"].as_str(),
            entry["rule"].as_str(),
            entry["target"].as_str()
        ),
        (Some("transferred"), Some("last_operator"), Some(SMIRNOVA)),
        "{entry}"
    );
    assert!(
        entry["detail"].as_str().unwrap().contains("not available"),
        "{entry}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_caller_is_released_at_once_by_the_relay() {
    let (team, admin) = routed_team(4_000).await;
    let (parking, main) = parked_call(&team, STRANGER).await;
    let entry = decision(&team, &admin, &parking).await;
    assert_eq!(
        (entry["outcome"].as_str(), entry["rule"].as_str()),
        (Some("released"), Some("unknown_caller")),
        "{entry}"
    );
    let requests = requests_for(&team, &parking).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        (
            requests[0]["method"].as_str(),
            requests[0]["status"].as_u64()
        ),
        (Some("terminateCall"), Some(200)),
        "released by the API, not after the window: {requests:?}"
    );
    let call = call_when(&team, &main, |c| c["phase"] == "ringing").await;
    assert_eq!(call["ringing"].as_array().unwrap().len(), 3, "{call}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_slower_than_the_deadline_releases_the_call() {
    let (team, admin) = routed_team(400).await;
    let state = team.relay.handle.state();
    state.routing.use_managers(Arc::new(Phonebook {
        delay: Some(Duration::from_secs(2)),
        ..phonebook()
    }));
    let (parking, _main) = parked_call(&team, CLIENT).await;
    let entry = decision(&team, &admin, &parking).await;
    assert_eq!(
        (entry["outcome"].as_str(), entry["rule"].as_str()),
        (Some("timed_out"), Some("deadline")),
        "{entry}"
    );
    assert!(
        entry["detail"]
            .as_str()
            .unwrap()
            .contains("deadline passed"),
        "{entry}"
    );
    let requests = requests_for(&team, &parking).await;
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["method"], "terminateCall", "{requests:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transfer_slower_than_the_deadline_is_given_up_and_the_call_released() {
    let (team, admin) = routed_team(400).await;
    team.relay
        .handle
        .state()
        .routing
        .use_managers(Arc::new(phonebook()));
    let faults = team
        .relay
        .http
        .put(format!("{}/faults", team.sim.control_url()))
        .json(&json!({"transferCall": {"latency_ms": 2_000}}))
        .send()
        .await
        .unwrap();
    assert!(faults.status().is_success());
    let (parking, _main) = parked_call(&team, CLIENT).await;
    let entry = decision(&team, &admin, &parking).await;
    assert_eq!(entry["outcome"], "timed_out", "{entry}");
    assert_eq!(entry["rule"], "manager", "{entry}");
    let methods: Vec<String> = requests_for(&team, &parking)
        .await
        .iter()
        .map(|r| r["method"].as_str().unwrap().to_owned())
        .collect();
    // The transfer was never sent again (the simulator logs a request it finished; this one was
    // given up at the deadline); the release followed it.
    assert!(
        methods.iter().filter(|m| *m == "transferCall").count() <= 1,
        "{methods:?}"
    );
    assert!(methods.iter().any(|m| m == "terminateCall"), "{methods:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_admins_read_or_change_the_routing_and_bad_rules_are_named() {
    let (team, admin) = routed_team(4_000).await;
    let relay = &team.relay;
    let operator = joined(relay, "Оператор", SMIRNOVA, Role::Operator).await;
    for path in ["/team/routing", "/team/routing/journal"] {
        let response = relay
            .http
            .get(format!("{}{path}", relay.base))
            .bearer_auth(&operator)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "role_required", "{body}");
    }
    let response = relay
        .http
        .put(format!("{}/team/routing", relay.base))
        .bearer_auth(&admin)
        .json(&json!({"settings": {"deadline_ms": 9000}, "parked": [PARKED]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("deadline_ms"),
        "{body}"
    );
    // Nothing changed.
    let shown: Value = relay
        .http
        .get(format!("{}/team/routing", relay.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["settings"]["deadline_ms"], 4000, "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_manager_passes_the_call_to_the_next_rule_the_last_operator() {
    let (team, admin) = routed_team(4_000).await;
    let state = team.relay.handle.state();
    state.routing.use_managers(Arc::new(phonebook()));
    state
        .team
        .note_caller(CallerSeen {
            number_key: CLIENT.into(),
            at: Utc::now() - TimeDelta::days(3),
            answered_by: Some(SMIRNOVA.into()),
        })
        .await
        .unwrap();
    // Kuznetsov is talking: his own call out, connected.
    let started = team
        .relay
        .http
        .post(format!("{}/outgoing", team.sim.control_url()))
        .json(&json!({
            "caller_id": KUZNETSOV,
            "callee_id": "79005550000",
            "operator_answer_ms": 10,
            "callee_answer_ms": 10,
            "talk_ms": 60_000,
        }))
        .send()
        .await
        .unwrap();
    assert!(
        started.status().is_success(),
        "{}",
        started.text().await.unwrap()
    );
    wait_for("the relay to see Kuznetsov talking", async || {
        state
            .calls
            .live_calls(Some(KUZNETSOV))
            .iter()
            .any(|call| call.state == "connected")
    })
    .await;
    let (parking, _main) = parked_call(&team, CLIENT).await;
    let entry = decision(&team, &admin, &parking).await;
    assert_eq!(
        (
            entry["outcome"].as_str(),
            entry["rule"].as_str(),
            entry["target"].as_str()
        ),
        (Some("transferred"), Some("last_operator"), Some(SMIRNOVA)),
        "{entry}"
    );
    assert!(
        entry["detail"].as_str().unwrap().contains("on a call"),
        "{entry}"
    );
}

/// `PUT /team/parking` as an admin; the answer's status and body.
async fn put_parking(team: &Team, admin: &str, numbers: &[&str], on: bool) -> (u16, Value) {
    let response = team
        .relay
        .http
        .put(format!("{}/team/parking", team.relay.base))
        .bearer_auth(admin)
        .json(&json!({"numbers": numbers, "parking": on}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn shown_routing(team: &Team, admin: &str) -> Value {
    team.relay
        .http
        .get(format!("{}/team/routing", team.relay.base))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_number_parked_through_team_parking_is_decided_by_the_router_and_unparked_is_not() {
    let team = team().await;
    connect(&team).await;
    let admin = joined(&team.relay, "Админ", ADMIN_WORKPLACE, Role::Admin).await;
    // The rules are set with nothing parked; parking comes only from `/team/parking`.
    let response = team
        .relay
        .http
        .put(format!("{}/team/routing", team.relay.base))
        .bearer_auth(&admin)
        .json(&json!({
            "settings": {"hours": always_open(), "deadline_ms": 4_000},
            "parked": [],
            "timeZone": "Europe/Moscow",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let (status, body) = put_parking(&team, &admin, &[PARKED], true).await;
    assert_eq!(status, 200, "{body}");
    let state = sim_get(&team, "/state").await;
    assert_eq!(state["account"]["parked"], json!([PARKED]), "{state}");
    // One truth: the routing's parked numbers, in the store and in the running router.
    let shown = shown_routing(&team, &admin).await;
    assert_eq!(shown["parked"], json!([PARKED]), "{shown}");
    assert!(
        shown["settings"]["parking_applied_at"].is_string(),
        "{shown}"
    );
    let stored = team.relay.handle.state().team.routing().await.unwrap();
    assert_eq!(stored.map(|r| r.parked), Some(vec![PARKED.to_owned()]));

    let (parking, _main) = parked_call(&team, STRANGER).await;
    let entry = decision(&team, &admin, &parking).await;
    assert_eq!(
        (entry["outcome"].as_str(), entry["rule"].as_str()),
        (Some("released"), Some("unknown_caller")),
        "{entry}"
    );

    // Unparked the same way: gone from the routing too.
    let (status, body) = put_parking(&team, &admin, &[PARKED], false).await;
    assert_eq!(status, 200, "{body}");
    let shown = shown_routing(&team, &admin).await;
    assert_eq!(shown["parked"], json!([]), "{shown}");
    let stored = team.relay.handle.state().team.routing().await.unwrap();
    assert_eq!(stored.map(|r| r.parked), Some(Vec::<String>::new()));
    // The rules an admin set are kept.
    assert_eq!(shown["settings"]["deadline_ms"], 4000, "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn routing_journal_retention_days_set_how_long_decisions_are_kept() {
    use call_routing::{JournalEntry, RoutingOutcome};
    let text = format!(
        "hook = {:?}\nrouting_journal_retention_days = 10",
        relay::HookPath::generate().expose_secret()
    );
    let file: relay::config::ConfigFile = toml::from_str(&text).unwrap();
    let configured = file
        .into_config(std::path::Path::new("/tmp"))
        .unwrap()
        .routing_journal_retention;
    assert_eq!(configured, Duration::from_secs(10 * 24 * 3600));
    let relay = crate::util::start_with(|c| {
        c.routing_journal_retention = configured;
        c.prune_interval = Duration::from_millis(100);
    })
    .await;
    let team = relay.handle.state().team.clone();
    let entry = |leg: &str, days_ago| JournalEntry {
        leg: leg.into(),
        caller_number: Some(STRANGER.into()),
        line_number: Some(PARKED.into()),
        rule: Some("unknown_caller".into()),
        target: None,
        outcome: RoutingOutcome::Released,
        detail: None,
        decided_at: Utc::now() - TimeDelta::days(days_ago),
        took_ms: 3,
        deadline_ms: 4000,
    };
    team.record_decision(entry("park-old", 20)).await.unwrap();
    team.record_decision(entry("park-new", 5)).await.unwrap();
    wait_for(
        "the relay's retention to prune the old decision",
        async || {
            let legs: Vec<String> = team
                .decisions(10)
                .await
                .unwrap()
                .into_iter()
                .map(|d| d.entry.leg)
                .collect();
            legs == ["park-new"]
        },
    )
    .await;
}

/// `PUT /team/availability` for the seat itself; what colleagues now see of it.
async fn set_availability(team: &Team, credential: &str, set: &str) -> String {
    let response = team
        .relay
        .http
        .put(format!("{}/team/availability", team.relay.base))
        .bearer_auth(credential)
        .json(&json!({ "availability": set }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{answer}");
    answer["availability"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_phonebook_and_availability_send_a_client_to_the_manager_only_while_available() {
    // Three numbers of one contact: a caller's repeated parked call within seconds is taken as
    // one, so each case below calls from a number of its own.
    const ON_BREAK: &str = "79161112233";
    const AVAILABLE: &str = "79161112234";
    const OFFLINE: &str = "79161112235";
    let (team, admin) = routed_team(4_000).await;
    let state = team.relay.handle.state();
    // The team phonebook (no stand-in): the client's personal manager is Kuznetsov.
    let response = team
        .relay
        .http
        .post(format!("{}/team/contacts", team.relay.base))
        .bearer_auth(&admin)
        .json(
            &json!({"name": "Иван Петров", "numbers": [ON_BREAK, AVAILABLE, OFFLINE],
                      "manager": KUZNETSOV}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    wait_for("the phonebook's index to know the manager", async || {
        [ON_BREAK, AVAILABLE, OFFLINE]
            .iter()
            .all(|n| state.phonebook.manager_of(n).as_deref() == Some(KUZNETSOV))
    })
    .await;
    // The next rule, "last operator": Smirnova answered the client before.
    for number in [ON_BREAK, AVAILABLE, OFFLINE] {
        state
            .team
            .note_caller(CallerSeen {
                number_key: number.into(),
                at: Utc::now() - TimeDelta::days(3),
                answered_by: Some(SMIRNOVA.into()),
            })
            .await
            .unwrap();
    }
    // Kuznetsov's seat, its app connected (a stream open), on a break.
    let kuznetsov = joined(&team.relay, "Кузнецов", KUZNETSOV, Role::Operator).await;
    let app = SseReader::new(
        team.relay
            .http
            .get(format!("{}/events/stream", team.relay.base))
            .bearer_auth(&kuznetsov)
            .send()
            .await
            .unwrap(),
    );
    let mut seen = String::new();
    wait_for("Kuznetsov's break, with his app connected", async || {
        seen = set_availability(&team, &kuznetsov, "break").await;
        seen == "break"
    })
    .await;

    let routed = async |from: &str| {
        let (parking, _main) = parked_call(&team, from).await;
        let entry = decision(&team, &admin, &parking).await;
        (
            entry["outcome"].as_str().map(str::to_owned),
            entry["rule"].as_str().map(str::to_owned),
            entry["target"].as_str().map(str::to_owned),
            entry["detail"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let transferred = |rule: &str, to: &str| {
        (
            Some("transferred".to_owned()),
            Some(rule.to_owned()),
            Some(to.to_owned()),
        )
    };

    let (outcome, rule, target, detail) = routed(ON_BREAK).await;
    assert_eq!(
        (outcome, rule, target),
        transferred("last_operator", SMIRNOVA),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("manager: {KUZNETSOV} is not available")),
        "{detail}"
    );

    assert_eq!(
        set_availability(&team, &kuznetsov, "available").await,
        "available"
    );
    let (outcome, rule, target, detail) = routed(AVAILABLE).await;
    assert_eq!(
        (outcome, rule, target),
        transferred("manager", KUZNETSOV),
        "{detail}"
    );

    // His app closes: Offline, though he last set Available.
    drop(app);
    wait_for("Kuznetsov's seat to read offline", async || {
        !state.availability.is_available(KUZNETSOV)
    })
    .await;
    let (outcome, rule, target, detail) = routed(OFFLINE).await;
    assert_eq!(
        (outcome, rule, target),
        transferred("last_operator", SMIRNOVA),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("manager: {KUZNETSOV} is not available")),
        "{detail}"
    );

    // His seat is revoked (from the command line, another process): nobody sits at his
    // workplace any more, so it is no longer passed over as Offline (it was, until a restart).
    state
        .team
        .revoke_seat(relay::store::team::SeatRef::Id(
            seat_id(state, "Кузнецов").await,
        ))
        .await
        .unwrap();
    wait_for(
        "the revoked seat to stop speaking for its workplace",
        async || {
            // Any request brings the relay's view of the seats up to date.
            let _ = team
                .relay
                .http
                .get(format!("{}/team/colleagues", team.relay.base))
                .bearer_auth(&admin)
                .send()
                .await;
            state.availability.is_available(KUZNETSOV)
        },
    )
    .await;
}

async fn seat_id(state: &relay::RelayState, name: &str) -> i64 {
    state
        .team
        .seats()
        .await
        .unwrap()
        .into_iter()
        .find(|seat| seat.profile.name == name)
        .unwrap()
        .profile
        .id
}
