//! Refresh tokens that rotate and ones that do not, and token lifetimes on the scaled clock, as
//! team mode needs them tested: set through the control API, waited for with generous
//! ceilings, never timed.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use mtt_sim::{ManualClock, Sim, SimConfig, SimHandle};
use serde_json::{Value, json};

use crate::oauth::{authorize_url, client, code_from, exchange, refresh};

const DAY_MS: i64 = 24 * 3_600_000;
/// How long a test waits for simulated time to bring what it expects: far beyond what the
/// scales below need, so only a stuck simulator fails.
const CEILING: Duration = Duration::from_secs(60);

async fn start(config: SimConfig) -> SimHandle {
    Sim::start(SimConfig {
        auto_approve: true,
        ..config
    })
    .await
    .unwrap()
}

async fn control(
    sim: &SimHandle,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let r = client()
        .request(method, format!("{}{path}", sim.control_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn put(sim: &SimHandle, path: &str, body: Value) -> Value {
    let (status, answer) = control(sim, reqwest::Method::PUT, path, body).await;
    assert_eq!(status, 200, "{path}: {answer}");
    answer
}

/// Simulated time, read through the control API as a client of the simulator would.
async fn sim_now(sim: &SimHandle) -> DateTime<Utc> {
    let r = client()
        .get(format!("{}/clock", sim.control_url()))
        .send()
        .await
        .unwrap();
    let clock: Value = r.json().await.unwrap();
    clock["now"].as_str().unwrap().parse().unwrap()
}

/// Signs in (auto-approved) and returns the token answer, with simulated time read just
/// before and just after the exchange.
async fn sign_in(sim: &SimHandle) -> (Value, DateTime<Utc>, DateTime<Utc>) {
    let base = sim.oauth_url();
    let r = client()
        .get(authorize_url(base, None))
        .send()
        .await
        .unwrap();
    let (code, _) = code_from(r.headers()["location"].to_str().unwrap());
    let before = sim_now(sim).await;
    let (status, tokens) = exchange(base, &code).await;
    let after = sim_now(sim).await;
    assert_eq!(status, 200, "{tokens}");
    (tokens, before, after)
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn with_rotation_every_refresh_replaces_the_token_and_a_used_one_is_refused() {
    // Start without rotation and turn it on through the control API.
    let mut config = SimConfig::default();
    config.tokens.rotate_refresh_tokens = false;
    let sim = start(config).await;
    let settings = put(&sim, "/oauth", json!({"rotate_refresh_tokens": true})).await;
    assert_eq!(settings["rotate_refresh_tokens"], true, "{settings}");
    let base = sim.oauth_url();

    let (tokens, ..) = sign_in(&sim).await;
    let first = text(&tokens, "refresh_token");
    let (status, renewed) = refresh(base, &first).await;
    assert_eq!(status, 200, "{renewed}");
    let second = text(&renewed, "refresh_token");
    assert!(!second.is_empty() && second != first, "{renewed}");

    let (status, refused) = refresh(base, &first).await;
    assert_eq!(
        (status, text(&refused, "error")),
        (400, "invalid_grant".into())
    );
    assert!(
        text(&refused, "error_description").contains("replaced"),
        "{refused}"
    );
    let (status, again) = refresh(base, &second).await;
    assert_eq!(status, 200, "the newest token works: {again}");
    assert_ne!(text(&again, "refresh_token"), second);
    let (status, _) = refresh(base, &second).await;
    assert_eq!(status, 400, "and is refused once used");

    let (_, view) = control(&sim, reqwest::Method::GET, "/oauth", json!({})).await;
    assert_eq!(
        view["refreshes"],
        json!({"served": 2, "refused": 2, "replaced": 2}),
        "{view}"
    );
    sim.shutdown().await;
}

/// The `token` fault's latency holds a request open, and the control API shows it; a request
/// whose client goes away meanwhile is dropped unanswered (nothing served, nothing rotated),
/// which is what lets a test kill a relay in the middle of a refresh.
#[tokio::test]
async fn a_held_token_request_is_counted_open_and_dropped_when_its_client_goes_away() {
    let sim = start(SimConfig::default()).await;
    let (tokens, ..) = sign_in(&sim).await;
    let token = text(&tokens, "refresh_token");
    // Far longer than the ceiling: only the client's going away can end the request in time.
    put(
        &sim,
        "/faults",
        json!({"token": {"latency_ms": 600_000, "failure_rate": 0.0}}),
    )
    .await;
    let base = sim.oauth_url().to_owned();
    let held = tokio::spawn(async move { refresh(&base, &token).await });
    let open = async |sim: &SimHandle| {
        let (_, view) = control(sim, reqwest::Method::GET, "/oauth", json!({})).await;
        (view["open_token_requests"].as_u64().unwrap(), view)
    };
    let deadline = tokio::time::Instant::now() + CEILING;
    while open(&sim).await.0 != 1 {
        assert!(tokio::time::Instant::now() < deadline, "never held");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    held.abort();
    let _ = held.await;
    let view = loop {
        let (count, view) = open(&sim).await;
        if count == 0 {
            break view;
        }
        assert!(tokio::time::Instant::now() < deadline, "still open: {view}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        view["refreshes"],
        json!({"served": 0, "refused": 0, "replaced": 0}),
        "{view}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn without_rotation_the_same_token_works_until_its_lifetime_from_issue_ends() {
    for repeat in [false, true] {
        let sim = start(SimConfig::default()).await;
        put(
            &sim,
            "/oauth",
            json!({"rotate_refresh_tokens": false, "repeat_kept_refresh_token": repeat}),
        )
        .await;
        let base = sim.oauth_url().to_owned();
        let (tokens, issued_from, issued_by) = sign_in(&sim).await;
        let kept = text(&tokens, "refresh_token");
        for _ in 0..3 {
            let (status, renewed) = refresh(&base, &kept).await;
            assert_eq!(status, 200, "{renewed}");
            if repeat {
                assert_eq!(text(&renewed, "refresh_token"), kept, "{renewed}");
            } else {
                assert!(renewed.get("refresh_token").is_none(), "{renewed}");
            }
        }

        // Three simulated days in about two real seconds.
        put(&sim, "/clock", json!({"scale": 129_600.0})).await;
        let lapse = issued_by + chrono::Duration::milliseconds(3 * DAY_MS);
        let deadline = tokio::time::Instant::now() + CEILING;
        let refused = loop {
            let asked_at = sim_now(&sim).await;
            let (status, answer) = refresh(&base, &kept).await;
            if status != 200 {
                break answer;
            }
            assert!(
                asked_at < lapse,
                "the kept token still worked at {asked_at}, past its lapse at {lapse}"
            );
            assert!(tokio::time::Instant::now() < deadline, "never refused");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let refused_by = sim_now(&sim).await;
        assert_eq!(text(&refused, "error"), "invalid_grant", "{refused}");
        assert!(
            text(&refused, "error_description").contains("expired"),
            "{refused}"
        );
        assert!(
            refused_by >= issued_from + chrono::Duration::milliseconds(3 * DAY_MS),
            "refused at {refused_by}, before three days from issue at {issued_from}"
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn access_tokens_expire_on_the_scaled_clock_and_keep_the_documented_expires_in() {
    let sim = start(SimConfig::default()).await;
    let api = format!("{}/workPlacesInfo", sim.api_url());
    let (tokens, issued_from, issued_by) = sign_in(&sim).await;
    // `expires_in` is in simulated seconds, as the document gives it, whatever the scale.
    assert_eq!(tokens["expires_in"], 7200);
    let access = text(&tokens, "access_token");
    let status = |token: String| {
        let api = api.clone();
        async move {
            client()
                .get(&api)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(access.clone()).await, 200);

    // Two simulated hours in about half a real second.
    put(&sim, "/clock", json!({"scale": 14_400.0})).await;
    let lapse = issued_by + chrono::Duration::hours(2);
    let deadline = tokio::time::Instant::now() + CEILING;
    loop {
        let asked_at = sim_now(&sim).await;
        let answer = status(access.clone()).await;
        if answer == 401 {
            break;
        }
        assert_eq!(answer, 200);
        assert!(
            asked_at < lapse,
            "still accepted at {asked_at}, past {lapse}"
        );
        assert!(tokio::time::Instant::now() < deadline, "never expired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(sim_now(&sim).await >= issued_from + chrono::Duration::hours(2));

    // Back at the wall clock's pace, the refresh token (three days) renews it.
    let clock = put(&sim, "/clock", json!({"scale": 1.0})).await;
    assert_eq!(clock["scale"], 1.0);
    let (code, renewed) = refresh(sim.oauth_url(), &text(&tokens, "refresh_token")).await;
    assert_eq!(code, 200, "{renewed}");
    assert_eq!(status(text(&renewed, "access_token")).await, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_clock_and_oauth_controls_refuse_what_they_cannot_do() {
    let sim = start(SimConfig::default()).await;
    for (path, body, needle) in [
        ("/oauth", json!({"rotate": true}), "rotate"),
        (
            "/oauth",
            json!({"refresh_lifetime_ms": 0}),
            "refresh_lifetime_ms",
        ),
        (
            "/oauth",
            json!({"access_lifetime_ms": "2h"}),
            "access_lifetime_ms",
        ),
        ("/clock", json!({"scale": 0.0}), "scale"),
        (
            "/clock",
            json!({"scale": -5.0, "advance_ms": 1000}),
            "scale",
        ),
        ("/clock", json!({"speed": 2.0}), "speed"),
    ] {
        let (status, answer) = control(&sim, reqwest::Method::PUT, path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{path} {body}: {message}");
    }
    let (_, clock) = control(&sim, reqwest::Method::GET, "/clock", json!({})).await;
    assert_eq!(clock["scale"], 1.0, "nothing changed: {clock}");
    let before = sim_now(&sim).await;
    put(&sim, "/clock", json!({"advance_ms": 3 * DAY_MS})).await;
    assert!(sim_now(&sim).await >= before + chrono::Duration::days(3));
    sim.shutdown().await;

    // A manual clock jumps but has no pace to change.
    let clock = ManualClock::new(Utc::now());
    let sim = Sim::start_with_clock(SimConfig::default(), Arc::new(clock))
        .await
        .unwrap();
    let (status, answer) =
        control(&sim, reqwest::Method::PUT, "/clock", json!({"scale": 2.0})).await;
    assert_eq!(status, 409, "{answer}");
    let before = sim_now(&sim).await;
    let moved = put(&sim, "/clock", json!({"advance_ms": 60_000})).await;
    assert!(moved["scale"].is_null(), "{moved}");
    assert_eq!(sim_now(&sim).await, before + chrono::Duration::minutes(1));
    sim.shutdown().await;
}
