//! Team mode's integration custody against the simulator (in-process): the relay connects
//! through authorize → its own Redirect URI → its own code exchange, keeps the tokens sealed
//! (the database and its write-ahead log hold none in clear), refreshes them ahead of expiry,
//! says so loudly when МТТ refuses a refresh while events keep flowing, and re-seals them with
//! `team rotate-key`.
//!
//! The ten-simulated-day runs (with rotation the integration stays alive; without, the admins
//! are warned a day before the lapse) are in `team_ten_days.rs`.

use std::sync::Arc;
use std::time::Duration;

use mtt_api::TokenStore as _;
use relay::RelayError;
use relay::integration::{self, ClientCredentials, SealedTokenStore};
use relay::metrics::RefreshOutcome;
use relay::sealing::{self, Sealer};
use relay::seats::InviteCode;
use relay::store::team::{NewSeat, SeatRef};
use serde_json::{Value, json};
use team_api::Role;

use crate::util::{SseReader, TestRelay, start_with};

const WAIT: Duration = Duration::from_secs(20);

pub(crate) struct Team {
    pub(crate) relay: TestRelay,
    pub(crate) sim: mtt_sim::SimHandle,
    pub(crate) client_secret: String,
}

/// A simulator whose access tokens live 4 s, and a relay (with an at-rest key) that refreshes
/// them 3 s ahead, both on loopback; the simulator sends its notifications to the relay.
pub(crate) async fn team() -> Team {
    team_rotating(true).await
}

pub(crate) async fn team_rotating(rotate: bool) -> Team {
    team_configured(rotate, false).await
}

/// With `public_url`, the relay's public URL is its loopback address (as the admin console's
/// connect and invites need).
pub(crate) async fn team_configured(rotate: bool, public_url: bool) -> Team {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = relay::HookPath::generate();
    let redirect_uri = format!("http://127.0.0.1:{port}/{}", hook.expose_secret());
    let mut config = mtt_sim::SimConfig {
        auto_approve: true,
        ..Default::default()
    };
    config.client.redirect_uris = vec![redirect_uri.clone()];
    config.webhook_url = Some(redirect_uri);
    config.tokens.access_lifetime_ms = 4_000;
    config.tokens.rotate_refresh_tokens = rotate;
    let client_secret = config.client.client_secret.expose().to_owned();
    let sim = mtt_sim::Sim::start(config).await.unwrap();
    let (oauth, api) = (sim.oauth_url().to_owned(), sim.api_url().to_owned());
    let relay = start_with(move |config| {
        config.hook = hook;
        config.listen = ([127, 0, 0, 1], port).into();
        config.mtt_oauth_url = oauth;
        config.mtt_api_url = api;
        config.refresh_margin = Duration::from_secs(3);
        if public_url {
            config.public_url = Some(format!("http://127.0.0.1:{port}"));
        }
        sealing::ensure_key_file(&config.key_file).unwrap();
    })
    .await;
    Team {
        relay,
        sim,
        client_secret,
    }
}

pub(crate) async fn readyz(relay: &TestRelay) -> (u16, Value) {
    let response = relay
        .http
        .get(format!("{}/readyz", relay.base))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

pub(crate) async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited in vain for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sealer(relay: &TestRelay) -> Sealer {
    Sealer::from_file(&relay.handle.state().config.key_file).unwrap()
}

/// `team connect`, then the browser: the simulator approves and sends it to the relay's
/// Redirect URI, where the relay exchanges the code itself.
pub(crate) async fn connect(team: &Team) {
    let relay = &team.relay;
    let state = relay.handle.state();
    let (status, before) = readyz(relay).await;
    assert_eq!(
        (status, before["integration"].as_str()),
        (200, Some("not_connected"))
    );
    let url = integration::begin_connect(
        &state.team,
        &sealer(relay),
        &state.config,
        relay.handle.redirect_uri().expose_secret(),
        ClientCredentials {
            client_id: "ccb350cc-6218-40b0-b134-3d290f00b9e7".into(),
            client_secret: mtt_api::ClientSecret::new(team.client_secret.clone()),
        },
    )
    .await
    .unwrap();
    assert!(url.starts_with(team.sim.oauth_url()), "{url}");
    let landing = reqwest::get(&url).await.unwrap();
    assert_eq!(landing.status(), 200);
    assert!(
        landing
            .text()
            .await
            .unwrap()
            .contains("Integration connected")
    );
    wait_for("the integration to be connected", async || {
        readyz(relay).await.1["integration"] == "connected"
    })
    .await;
}

async fn stored_tokens(relay: &TestRelay) -> mtt_api::TokenSet {
    let store = SealedTokenStore::new(
        Arc::clone(&relay.handle.state().team),
        sealer(relay),
        tokio::runtime::Handle::current(),
    );
    tokio::task::spawn_blocking(move || store.load())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_connects_itself_refreshes_ahead_of_expiry_and_keeps_no_secret_in_clear() {
    let team = team().await;
    let relay = &team.relay;
    let key_stream = |relay: &TestRelay| {
        relay
            .http
            .get(format!("{}/events/stream", relay.base))
            .bearer_auth(relay.key.expose_secret())
            .send()
    };
    assert_eq!(key_stream(relay).await.unwrap().status(), 200);
    connect(&team).await;
    // Team mode: the personal-mode client key is refused from now on.
    assert_eq!(key_stream(relay).await.unwrap().status(), 403);
    let first = stored_tokens(relay).await;
    let metrics = &relay.handle.state().metrics;
    wait_for("three refreshes ahead of expiry", async || {
        metrics.integration_refreshes(RefreshOutcome::Ok) >= 3
    })
    .await;
    let (status, ready) = readyz(relay).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["refreshRotates"], true);
    assert!(ready["lastRefreshAt"].is_string());
    let now = stored_tokens(relay).await;
    assert_ne!(now.access_token, first.access_token);
    assert_eq!(metrics.integration_refreshes(RefreshOutcome::Refused), 0);
    // The PBX is reachable with the relay's tokens (what the seats' API will call).
    let pbx = relay.handle.state().integration.pbx().await.unwrap();
    assert!(!pbx.workplaces().await.unwrap().is_empty());

    // A seat joins, so that its credential and invite code are in the files too, if anywhere.
    let state = relay.handle.state();
    let seat = state
        .team
        .add_seat(NewSeat {
            name: "Alice".into(),
            workplace: "883140582526566".into(),
            role: Role::Operator,
        })
        .await
        .unwrap();
    let code = InviteCode::generate().unwrap();
    state
        .team
        .add_invite(
            SeatRef::Id(seat.profile.id),
            code.hash(),
            chrono::Utc::now() + chrono::TimeDelta::hours(1),
        )
        .await
        .unwrap();
    let joined: Value = relay
        .http
        .post(format!("{}/team/join", relay.base))
        .json(&json!({ "code": code.expose_secret() }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let credential = joined["credential"].as_str().unwrap().to_owned();

    let database = state.config.database.clone();
    let mut wal = database.clone().into_os_string();
    wal.push("-wal");
    let mut bytes = std::fs::read(&database).unwrap();
    bytes.extend(std::fs::read(&wal).unwrap_or_default());
    assert!(bytes.len() > 4096);
    let secrets = [
        team.client_secret.clone(),
        first.access_token.expose().to_owned(),
        first.refresh_token.as_ref().unwrap().expose().to_owned(),
        now.access_token.expose().to_owned(),
        now.refresh_token.as_ref().unwrap().expose().to_owned(),
        credential,
        code.expose_secret(),
        code.expose_secret().replace('-', ""),
    ];
    for secret in &secrets {
        assert!(secret.len() >= 16, "{secret}");
        assert!(
            !bytes
                .windows(secret.len())
                .any(|window| window == secret.as_bytes()),
            "a secret is in the database or its write-ahead log in clear"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_tokens_that_do_not_rotate_are_kept_and_reported() {
    let team = team_rotating(false).await;
    let relay = &team.relay;
    connect(&team).await;
    let first = stored_tokens(relay).await;
    let metrics = &relay.handle.state().metrics;
    wait_for("two refreshes", async || {
        metrics.integration_refreshes(RefreshOutcome::Ok) >= 2
    })
    .await;
    let (status, ready) = readyz(relay).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["refreshRotates"], false);
    // Three days away: no warning yet (the day-before warning waits for the simulator's
    // expiring refresh tokens on a scaled clock).
    assert_eq!(ready["lapseWarning"], false);
    let now = stored_tokens(relay).await;
    assert_eq!(now.refresh_token, first.refresh_token);
    assert_eq!(now.refresh_expires_at, first.refresh_expires_at);
    assert_ne!(now.access_token, first.access_token);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_refresh_is_reported_loudly_while_events_keep_flowing() {
    let team = team().await;
    let relay = &team.relay;
    connect(&team).await;
    let state = relay.handle.state();
    // An admin's stream, to see the notice and the events after the refusal.
    let seat = state
        .team
        .add_seat(NewSeat {
            name: "Bob".into(),
            workplace: "883140582526566".into(),
            role: Role::Admin,
        })
        .await
        .unwrap();
    let code = InviteCode::generate().unwrap();
    state
        .team
        .add_invite(
            SeatRef::Id(seat.profile.id),
            code.hash(),
            chrono::Utc::now() + chrono::TimeDelta::hours(1),
        )
        .await
        .unwrap();
    let joined: Value = relay
        .http
        .post(format!("{}/team/join", relay.base))
        .json(&json!({ "code": code.expose_secret() }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let credential = joined["credential"].as_str().unwrap().to_owned();

    // МТТ refuses every refresh from now on.
    let faults = relay
        .http
        .put(format!("{}/faults", team.sim.control_url()))
        .json(&json!({ "token": { "latency_ms": 0, "failure_rate": 1.0, "failure_status": 400 } }))
        .send()
        .await
        .unwrap();
    assert!(faults.status().is_success());
    wait_for("the refusal to be reported", async || {
        let (status, ready) = readyz(relay).await;
        status == 503 && ready["integration"] == "refresh_failing"
    })
    .await;
    assert!(state.metrics.integration_refreshes(RefreshOutcome::Refused) >= 1);
    let (_, ready) = readyz(relay).await;
    assert!(
        ready["lastError"].as_str().unwrap().contains("refused"),
        "{ready}"
    );
    let metrics_text = relay
        .http
        .get(format!("{}/metrics", relay.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics_text.contains("trubka_relay_integration_refreshes_total{outcome=\"refused\"} "),
        "{metrics_text}"
    );
    // `team status` reads what the running relay recorded.
    wait_for("the status to be recorded", async || {
        integration::recorded_status(&state.team)
            .await
            .unwrap()
            .is_some_and(|status| status.integration == team_api::IntegrationState::RefreshFailing)
    })
    .await;

    // Events still arrive from the PBX and reach the seat.
    let mut events = SseReader::new(
        relay
            .http
            .get(format!("{}/events/stream", relay.base))
            .bearer_auth(&credential)
            .send()
            .await
            .unwrap(),
    );
    let incoming = relay
        .http
        .post(format!("{}/incoming", team.sim.control_url()))
        .json(&json!({ "from": "79161234567", "to": "78005560251" }))
        .send()
        .await
        .unwrap();
    assert!(
        incoming.status().is_success(),
        "{}",
        incoming.text().await.unwrap()
    );
    // The admin was told (a `team` event), and the PBX's events still arrive.
    let mut told = false;
    let mut call = false;
    while !(told && call) {
        let event = events
            .next_event(WAIT)
            .await
            .expect("a notice and an event after the refusal");
        match event.event.as_deref() {
            Some("team") => {
                assert_eq!(event.json()["body"]["notice"], "refresh_failing");
                told = true;
            }
            Some("callNotifications") => call = true,
            _ => {}
        }
    }
}

/// A refresh that is under way when the relay is asked to stop lands before `shutdown` returns:
/// whoever opens the store next (`team rotate-key`, a restarted relay) sees the last tokens, and
/// nothing writes to the store after the relay said it had stopped.
#[tokio::test(flavor = "multi_thread")]
async fn shutdown_waits_for_a_refresh_under_way_to_land() {
    let team = team().await;
    connect(&team).await;
    let relay = team.relay;
    let metrics = relay.handle.state().metrics.clone();
    // МТТ answers each refresh after 2 s; the relay refreshes 1 s after each refresh (tokens live
    // 4 s, refreshed 3 s ahead), so 1.5 s after one lands the next is waiting for its answer.
    let faults = reqwest::Client::new()
        .put(format!("{}/faults", team.sim.control_url()))
        .json(&json!({"token": {"latency_ms": 2000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(faults.status(), 200);
    let landed = metrics.integration_refreshes(RefreshOutcome::Ok);
    wait_for("a slow refresh to land", async || {
        metrics.integration_refreshes(RefreshOutcome::Ok) > landed + 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let key_file = relay.handle.state().config.key_file.clone();
    let database = relay.handle.state().config.database.clone();
    let landed = metrics.integration_refreshes(RefreshOutcome::Ok);
    relay.handle.shutdown().await.unwrap();
    // Cut short, a refresh МТТ has already answered would lose the rotated refresh token (the
    // old one is refused from then on) and with it the integration.
    assert_eq!(
        metrics.integration_refreshes(RefreshOutcome::Ok),
        landed + 1,
        "the refresh under way was not let finish"
    );

    let stored = || {
        let store: relay::store::team::SharedTeamStore = Arc::new(
            relay::store::sqlite::SqliteStore::open(
                &database,
                Default::default(),
                Arc::new(relay::store::NoSink),
            )
            .unwrap(),
        );
        let tokens = SealedTokenStore::new(
            store,
            Sealer::from_file(&key_file).unwrap(),
            tokio::runtime::Handle::current(),
        );
        async move {
            tokio::task::spawn_blocking(move || tokens.load())
                .await
                .unwrap()
                .unwrap()
                .unwrap()
        }
    };
    let at_shutdown = stored().await;
    // Longer than the refresh that was under way had left to wait.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        stored().await,
        at_shutdown,
        "tokens were written to the store after the relay had shut down"
    );
    drop(team.sim);
}

#[tokio::test(flavor = "multi_thread")]
async fn rotate_key_reseals_everything_and_the_old_key_no_longer_opens_it() {
    let team = team().await;
    connect(&team).await;
    let relay = team.relay;
    let old = sealer(&relay);
    let key_file = relay.handle.state().config.key_file.clone();
    let database = relay.handle.state().config.database.clone();
    // Not while the relay runs: it would go on sealing with the old key.
    let location = relay::store::StoreLocation::Sqlite(database.clone());
    let running = sealing::rotate_key(&key_file, &location).await.unwrap_err();
    assert!(matches!(running, RelayError::StoreInUse(_)), "{running}");
    assert!(sealing::old_key_files(&key_file).unwrap().is_empty());
    relay.handle.shutdown().await.unwrap();
    drop(team.sim);
    let open_store = || -> relay::store::team::SharedTeamStore {
        Arc::new(
            relay::store::sqlite::SqliteStore::open(
                &database,
                Default::default(),
                Arc::new(relay::store::NoSink),
            )
            .unwrap(),
        )
    };
    let store = open_store();
    let sealed = store
        .sealed(integration::INTEGRATION_TOKENS.into())
        .await
        .unwrap()
        .unwrap();
    let before: mtt_api::TokenSet =
        serde_json::from_slice(&old.open(integration::INTEGRATION_TOKENS, &sealed).unwrap())
            .unwrap();
    drop(store);

    let deadline = tokio::time::Instant::now() + WAIT;
    let rotated = loop {
        match sealing::rotate_key(&key_file, &location).await {
            Err(RelayError::StoreInUse(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => break other.unwrap(),
        }
    };
    assert!(!rotated.finished_earlier);
    assert!(rotated.resealed >= 2, "{rotated:?}");
    assert!(sealing::old_key_files(&key_file).unwrap().is_empty());
    let new = Sealer::from_file(&key_file).unwrap();
    assert_ne!(new.key().id(), old.key().id());

    let store = open_store();
    let sealed = store
        .sealed(integration::INTEGRATION_TOKENS.into())
        .await
        .unwrap()
        .unwrap();
    let opened: mtt_api::TokenSet =
        serde_json::from_slice(&new.open(integration::INTEGRATION_TOKENS, &sealed).unwrap())
            .unwrap();
    assert_eq!(opened, before);
    let wrong = old
        .open(integration::INTEGRATION_TOKENS, &sealed)
        .unwrap_err()
        .to_string();
    assert!(wrong.contains(&key_file.display().to_string()), "{wrong}");
    assert!(wrong.contains("sealed with key"), "{wrong}");
}
