//! A long-running holder of the integration (the team relay's situation) through `mtt-api`'s
//! own session, on the simulator's scaled clock: with rotating refresh tokens, refreshing ahead
//! of expiry keeps the integration alive for ten simulated days; without rotation it is lost
//! once the refresh token's three days from sign-in are over, whatever the client does.
//!
//! The session keeps the wall clock, as `mtt-api` does: it stamps a token's issue time with the
//! wall clock whatever clock the session is given, so a session on simulated time would judge
//! the refresh token lapsed three simulated days after sign-in even when rotation renewed it.
//! The refreshes are therefore scheduled on the simulated clock, as a relay's refresher
//! would schedule them: once a simulated hour (half the access token's two hours) the client
//! refreshes (`access_token_after_rejection` with the current token forces one refresh, single
//! flight, as the session's own proactive refresh would) and then uses the integration.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use mtt_api::{
    AuthCode, Authorizer, ClientSecret, Endpoints, Error, HttpConfig, MemoryTokenStore,
    OAuthConfig, Pbx, Session, http_client,
};
use mtt_sim::{Sim, SimConfig, SimHandle};
use serde_json::Value;

use crate::oauth::{CLIENT, REDIRECT, SECRET, client, code_from};

/// A simulated day every two real seconds: ten days in twenty, and a refresh token's three
/// days leave six real seconds of slack should the machine stall between two uses.
const SCALE: f64 = 43_200.0;
/// The sign-in's code lives for ten simulated days (20 real seconds): at the default ten simulated
/// minutes it lived 14 real milliseconds, and a loaded machine sometimes took longer between the
/// redirect and the exchange ("the authorization code has expired"). The code is not what these
/// tests are about.
const CODE_LIFETIME_MS: u64 = 10 * 24 * 3600 * 1000;

/// Far beyond the twenty real seconds the scale needs; only a stuck run reaches it.
const CEILING: Duration = Duration::from_secs(300);

/// Signs in through `mtt-api` (auto-approved) and returns the API client with the simulated
/// time just before the sign-in.
async fn signed_in(sim: &SimHandle) -> (Pbx, DateTime<Utc>) {
    let endpoints = Endpoints::new(sim.oauth_url(), sim.api_url()).unwrap();
    let http = http_client(HttpConfig::default()).unwrap();
    let authorizer = Authorizer::new(
        OAuthConfig {
            client_id: CLIENT.to_owned(),
            client_secret: ClientSecret::new(SECRET),
            redirect_uri: REDIRECT.to_owned(),
            endpoints: endpoints.clone(),
            pkce: false,
        },
        http.clone(),
        HttpConfig::default(),
    )
    .unwrap();
    let session = Session::new(authorizer, Arc::new(MemoryTokenStore::new())).unwrap();
    let pending = session.begin_sign_in();
    let r = client().get(pending.url.as_str()).send().await.unwrap();
    let (code, state) = code_from(r.headers()["location"].to_str().unwrap());
    let signed_in_from = sim.state().clock().now();
    session
        .finish_sign_in(pending, &state.unwrap(), AuthCode::new(code))
        .await
        .unwrap();
    let pbx = Pbx::new(&endpoints, http, HttpConfig::default(), Arc::new(session));
    (pbx, signed_in_from)
}

/// Refreshes ahead of expiry and uses the integration once every simulated hour for ten
/// simulated days, or until that fails; returns the failure and the simulated time it came at.
async fn use_hourly_for_ten_days(sim: &SimHandle, pbx: &Pbx) -> Option<(Error, DateTime<Utc>)> {
    let clock = Arc::clone(sim.state().clock());
    let start = clock.now();
    let end = start + chrono::Duration::days(10);
    let mut next = start;
    while next < end {
        next += chrono::Duration::hours(1);
        clock.sleep_until(next).await;
        let used = async {
            let session = pbx.session();
            let current = session.access_token().await?;
            session.access_token_after_rejection(&current).await?;
            pbx.workplaces().await
        };
        match used.await {
            Ok(workplaces) => assert!(!workplaces.is_empty()),
            Err(e) => return Some((e, clock.now())),
        }
    }
    None
}

async fn refreshes(sim: &SimHandle) -> Value {
    let r = client()
        .get(format!("{}/oauth", sim.control_url()))
        .send()
        .await
        .unwrap();
    r.json::<Value>().await.unwrap()["refreshes"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_rotation_refreshing_ahead_keeps_the_integration_alive_for_ten_simulated_days() {
    let mut config = SimConfig {
        auto_approve: true,
        clock_scale: SCALE,
        ..SimConfig::default()
    };
    config.tokens.code_lifetime_ms = CODE_LIFETIME_MS;
    let sim = Sim::start(config).await.unwrap();
    let (pbx, signed_in_from) = signed_in(&sim).await;
    let failure = tokio::time::timeout(CEILING, use_hourly_for_ten_days(&sim, &pbx))
        .await
        .expect("ten simulated days pass well within the ceiling");
    if let Some((e, at)) = failure {
        panic!(
            "the integration was lost after {} simulated hours: {e}",
            (at - signed_in_from).num_hours()
        );
    }
    assert!(sim.state().clock().now() >= signed_in_from + chrono::Duration::days(10));
    let counts = refreshes(&sim).await;
    // More refreshes than three-day lifetimes in ten days: it lived by rotation, not by luck.
    assert!(counts["served"].as_u64().unwrap() > 3, "{counts}");
    assert_eq!(counts["refused"], 0, "{counts}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_rotation_the_integration_is_lost_once_the_refresh_tokens_lifetime_ends() {
    for repeat in [false, true] {
        let mut config = SimConfig {
            auto_approve: true,
            clock_scale: SCALE,
            repeat_kept_refresh_token: repeat,
            ..SimConfig::default()
        };
        config.tokens.rotate_refresh_tokens = false;
        config.tokens.code_lifetime_ms = CODE_LIFETIME_MS;
        let sim = Sim::start(config).await.unwrap();
        let (pbx, signed_in_from) = signed_in(&sim).await;
        let failure = tokio::time::timeout(CEILING, use_hourly_for_ten_days(&sim, &pbx))
            .await
            .expect("the lapse comes well within the ceiling");
        let Some((e, at)) = failure else {
            panic!("repeat={repeat}: a kept refresh token outlived ten simulated days");
        };
        assert!(
            matches!(e, Error::SignInRequired(_)),
            "repeat={repeat}: {e:?}"
        );
        assert!(
            at >= signed_in_from + chrono::Duration::days(3),
            "repeat={repeat}: lost after {} simulated hours, before three days",
            (at - signed_in_from).num_hours()
        );
        let counts = refreshes(&sim).await;
        assert!(counts["served"].as_u64().unwrap() > 3, "{counts}");
        assert_eq!(counts["refused"], 1, "{counts}");
        sim.shutdown().await;
    }
}
