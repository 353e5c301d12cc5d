//! The OAuth server: authorize (form and auto-approve), code exchange, refresh, errors.

use std::sync::Arc;
use std::time::Duration;

use mtt_sim::{ManualClock, SCOPE, Sim, SimConfig, SimHandle};
use serde_json::Value;

pub const CLIENT: &str = "ccb350cc-6218-40b0-b134-3d290f00b9e7";
pub const SECRET: &str = "iNmTWpDLeYkyzkUTVuCQwa";
pub const REDIRECT: &str = "https://oauth.myanycrm.ru";

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn authorize_url(base: &str, state: Option<&str>) -> String {
    let mut url = url::Url::parse(&format!("{base}/oauth/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", SCOPE);
    if let Some(state) = state {
        url.query_pairs_mut().append_pair("state", state);
    }
    url.to_string()
}

pub fn code_from(location: &str) -> (String, Option<String>) {
    let url = url::Url::parse(location).unwrap();
    assert_eq!(url.origin().ascii_serialization(), REDIRECT);
    let get = |k: &str| {
        url.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.to_string())
    };
    (get("code").unwrap(), get("state"))
}

pub async fn token(base: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = client()
        .post(format!("{base}/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

pub async fn exchange(base: &str, code: &str) -> (u16, Value) {
    token(
        base,
        &[
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("scope", SCOPE),
            ("grant_type", "authorization_code"),
        ],
    )
    .await
}

pub async fn refresh(base: &str, refresh_token: &str) -> (u16, Value) {
    token(
        base,
        &[
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("refresh_token", refresh_token),
            ("grant_type", "refresh_token"),
        ],
    )
    .await
}

/// A simulator that approves every sign-in at once (no login form).
async fn approving_sim() -> SimHandle {
    Sim::start(SimConfig {
        auto_approve: true,
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// The code an approving simulator at `base` gives for a sign-in without `state`.
async fn approved_code(base: &str) -> String {
    let r = client()
        .get(authorize_url(base, None))
        .send()
        .await
        .unwrap();
    code_from(r.headers()["location"].to_str().unwrap()).0
}

#[tokio::test]
async fn the_login_form_leads_to_a_code_and_the_code_to_tokens_that_open_the_api() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let base = sim.oauth_url().to_owned();
    let page = client()
        .get(authorize_url(&base, Some("a b&c")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"login\"") && html.contains("name=\"password\""));
    assert!(html.contains("simulator"));

    let mut form = vec![
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", REDIRECT),
        ("scope", SCOPE),
        ("state", "a b&c"),
        ("login", "demo"),
        ("password", "wrong"),
    ];
    let r = client()
        .post(format!("{base}/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a wrong password shows the form again");
    assert!(r.text().await.unwrap().contains("id=\"error\""));
    form[6] = ("password", "demo");
    let r = client()
        .post(format!("{base}/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let (code, state) = code_from(r.headers()["location"].to_str().unwrap());
    assert_eq!(state.as_deref(), Some("a b&c"));

    let (status, tokens) = exchange(&base, &code).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["expires_in"], 7200);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], SCOPE);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(access.len(), 48);
    let r = client()
        .get(format!("{}/workPlacesInfo", sim.api_url()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A code works once.
    let (status, body) = exchange(&base, &code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The API is not served on the OAuth host.
    let r = client()
        .get(format!("{base}/workPlacesInfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn bad_authorize_parameters_get_an_error_page_and_no_redirect() {
    let sim = approving_sim().await;
    let base = sim.oauth_url();
    let good = authorize_url(base, Some("xyz"));
    let r = client().get(&good).send().await.unwrap();
    assert_eq!(r.status(), 302, "auto-approve redirects at once");
    let (_, state) = code_from(r.headers()["location"].to_str().unwrap());
    assert_eq!(state.as_deref(), Some("xyz"));
    for (from, to) in [
        ("response_type=code", "response_type=token"),
        (CLIENT, "00000000-0000-0000-0000-000000000000"),
        ("oauth.myanycrm.ru", "evil.example"),
        ("auth.tokens.readwrite", "auth%2Fopenapi.readwrite"),
    ] {
        let bad = good.replace(from, to);
        assert_ne!(bad, good);
        let r = client().get(&bad).send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert!(!r.headers().contains_key("location"));
        assert!(r.text().await.unwrap().contains("Authorization error"));
    }
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let sim = approving_sim().await;
    let base = sim.oauth_url().to_owned();
    let r = client()
        .post(format!("{base}/oauth/token"))
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");

    let (status, body) = token(
        &base,
        &[
            ("client_id", CLIENT),
            ("client_secret", "guess"),
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token(
        &base,
        &[
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("grant_type", "password"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = exchange(&base, "NOSUCHCODE").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A code is bound to its redirect URI and needs the scope.
    let code = approved_code(&base).await;
    let (status, body) = token(
        &base,
        &[
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("code", &code),
            ("redirect_uri", "https://other.example"),
            ("scope", SCOPE),
            ("grant_type", "authorization_code"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = token(
        &base,
        &[
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("grant_type", "authorization_code"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("scope")
    );
}

#[tokio::test]
async fn refresh_rotates_or_keeps_the_refresh_token_as_configured_and_lifetimes_expire() {
    for rotate in [true, false] {
        let clock = ManualClock::new(chrono::Utc::now());
        let mut config = SimConfig {
            auto_approve: true,
            ..SimConfig::default()
        };
        config.tokens.rotate_refresh_tokens = rotate;
        config.tokens.access_lifetime_ms = 10_000;
        config.tokens.refresh_lifetime_ms = 60_000;
        let sim = Sim::start_with_clock(config, Arc::new(clock.clone()))
            .await
            .unwrap();
        let base = sim.oauth_url().to_owned();
        let code = approved_code(&base).await;
        let (_, tokens) = exchange(&base, &code).await;
        assert_eq!(tokens["expires_in"], 10);
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        let first_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        let api = format!("{}/terminalsInfo", sim.api_url());

        clock.advance(Duration::from_secs(11));
        let r = client()
            .get(&api)
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "the access token outlived its lifetime");

        let (status, renewed) = refresh(&base, &first_refresh).await;
        assert_eq!(status, 200, "{renewed}");
        let r = client()
            .get(&api)
            .bearer_auth(renewed["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (status, again) = refresh(&base, &first_refresh).await;
        if rotate {
            assert!(renewed["refresh_token"].is_string());
            assert_ne!(renewed["refresh_token"], first_refresh.as_str());
            assert_eq!(status, 400, "a rotated refresh token is revoked: {again}");
        } else {
            assert!(renewed.get("refresh_token").is_none(), "{renewed}");
            assert_eq!(status, 200, "the old refresh token stays valid");
        }
        // Refresh tokens expire a fixed time after issue.
        clock.advance(Duration::from_secs(60));
        let latest = renewed["refresh_token"]
            .as_str()
            .unwrap_or(&first_refresh)
            .to_owned();
        let (status, body) = refresh(&base, &latest).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        // Codes expire after their lifetime too.
        let code = approved_code(&base).await;
        clock.advance(Duration::from_secs(601));
        let (status, body) = exchange(&base, &code).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_new_client_secret_is_taken_from_then_on_and_the_old_one_refused() {
    let sim = approving_sim().await;
    let base = sim.oauth_url().to_owned();
    let code = approved_code(&base).await;
    let (status, tokens) = exchange(&base, &code).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();

    let control = format!("{}/client_secret", sim.control_url());
    for bad in [
        r#"{"client_secret": ""}"#,
        r#"{"client_secret": "x", "extra": 1}"#,
        "not json",
    ] {
        let r = client()
            .put(&control)
            .header("content-type", "application/json")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    let (status, _) = refresh(&base, &refresh_token).await;
    assert_eq!(status, 200, "the secret is unchanged after refused changes");

    let r = client()
        .put(&control)
        .json(&serde_json::json!({"client_secret": "the-new-one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, body) = refresh(&base, "anything").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "the old secret is refused"
    );
    let (status, _) = token(
        &base,
        &[
            ("client_id", CLIENT),
            ("client_secret", "the-new-one"),
            ("grant_type", "refresh_token"),
            ("refresh_token", "not-issued"),
        ],
    )
    .await;
    assert_eq!(status, 400, "the new secret passes the client check");
}
