//! The token lifecycle against a stand-in that plays both MTT hosts.

use std::sync::Arc;
use std::time::Duration;

use mtt_api::{Error, HttpConfig, MemoryTokenStore, Session, TokenStore};

use crate::mock::{Mock, Reply, expired_tokens, fresh_tokens, token_answer};

const NUMBERS: &str = r#"{"result":{"total":0,"numbersList":[]}}"#;

/// A stand-in whose API accepts only `good` and whose token endpoint answers `refresh_answer`.
async fn mock_accepting(good: &'static str, refresh_answer: Reply) -> Mock {
    Mock::start(move |seen, _| {
        if seen.path == "/oauth/token" {
            return refresh_answer.clone();
        }
        if seen.header("authorization") == Some(&format!("Bearer {good}")) {
            if seen.path == "/makeCall" {
                Reply::ok(r#"{"result":{"call":{"id":"leg@1"},"success":1}}"#)
            } else {
                Reply::ok(NUMBERS)
            }
        } else {
            Reply::json(401, r#"{"error":"unauthorized"}"#)
        }
    })
    .await
}

#[tokio::test]
async fn a_401_refreshes_once_and_retries_once_with_the_new_token() {
    let mock = mock_accepting("new", Reply::ok(token_answer("new", None))).await;
    // The client believes its token is fresh; the server has revoked it.
    let client = mock.client(Some(fresh_tokens("revoked", "r1")), HttpConfig::default());
    client.pbx.external_numbers().await.unwrap();
    let paths: Vec<_> = mock
        .seen()
        .iter()
        .map(|s| (s.path.clone(), s.header("authorization").map(str::to_owned)))
        .collect();
    assert_eq!(
        paths,
        vec![
            ("/externalNumbersInfo".into(), Some("Bearer revoked".into())),
            ("/oauth/token".into(), None),
            ("/externalNumbersInfo".into(), Some("Bearer new".into())),
        ]
    );
    let stored = client.stored().unwrap();
    assert_eq!(stored.access_token.expose(), "new");
    assert_eq!(
        stored.refresh_token.unwrap().expose(),
        "r1",
        "no refresh token in the answer keeps the old one"
    );
}

#[tokio::test]
async fn a_make_call_answered_401_is_sent_exactly_twice() {
    let mock = mock_accepting("new", Reply::ok(token_answer("new", Some("r2")))).await;
    let client = mock.client(Some(fresh_tokens("revoked", "r1")), HttpConfig::default());
    let call = client
        .pbx
        .make_call(
            &mtt_api::SipId::parse("883140582526566").unwrap(),
            &mtt_api::Callee::parse("79219462761").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(call.id.as_str(), "leg@1");
    assert_eq!(mock.seen_at("/makeCall").len(), 2);
    assert_eq!(
        client.stored().unwrap().refresh_token.unwrap().expose(),
        "r2",
        "a rotated refresh token is kept"
    );
}

#[tokio::test]
async fn a_token_rejected_even_after_refresh_ends_in_sign_in_required_without_a_loop() {
    let mock = mock_accepting("never", Reply::ok(token_answer("still-bad", None))).await;
    let client = mock.client(Some(fresh_tokens("bad", "r")), HttpConfig::default());
    let err = client.pbx.workplaces().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired(_)), "{err:?}");
    assert_eq!(mock.seen_at("/workPlacesInfo").len(), 2);
    assert_eq!(mock.seen_at("/oauth/token").len(), 1);
}

#[tokio::test]
async fn ten_concurrent_calls_with_an_expired_token_cause_exactly_one_refresh() {
    let mock = mock_accepting(
        "fresh",
        // A slow token endpoint widens the window in which callers pile up.
        Reply::ok(token_answer("fresh", Some("r2"))).after(Duration::from_millis(200)),
    )
    .await;
    let client = mock.client(Some(expired_tokens("stale", "r1")), HttpConfig::default());
    let calls = (0..10).map(|_| {
        let pbx = client.pbx.clone();
        tokio::spawn(async move { pbx.external_numbers().await })
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap().unwrap();
    }
    assert_eq!(mock.seen_at("/oauth/token").len(), 1);
    let api_calls = mock.seen_at("/externalNumbersInfo");
    assert_eq!(api_calls.len(), 10);
    assert!(
        api_calls
            .iter()
            .all(|s| s.header("authorization") == Some("Bearer fresh"))
    );
}

#[tokio::test]
async fn ten_concurrent_401s_cause_exactly_one_refresh() {
    let mock = mock_accepting(
        "fresh",
        Reply::ok(token_answer("fresh", Some("r2"))).after(Duration::from_millis(100)),
    )
    .await;
    let client = mock.client(Some(fresh_tokens("revoked", "r1")), HttpConfig::default());
    let calls = (0..10).map(|_| {
        let pbx = client.pbx.clone();
        tokio::spawn(async move { pbx.terminals().await })
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap().unwrap_err(); // the mock's terminals answer is the numbers list: undecodable
    }
    assert_eq!(mock.seen_at("/oauth/token").len(), 1);
}

#[tokio::test]
async fn invalid_grant_clears_the_tokens_and_says_sign_in_required_once() {
    let mock = mock_accepting(
        "fresh",
        Reply::json(
            400,
            r#"{"error":"invalid_grant","error_description":"refresh token expired"}"#,
        ),
    )
    .await;
    let client = mock.client(Some(expired_tokens("stale", "r1")), HttpConfig::default());
    let err = client.pbx.external_numbers().await.unwrap_err();
    assert!(
        matches!(&err, Error::SignInRequired(m) if m.contains("refresh token expired")),
        "{err:?}"
    );
    assert!(client.stored().is_none(), "the store is cleared");
    assert!(!client.session.status().await.signed_in);
    // Further calls fail at once, without asking the server again.
    let err = client.pbx.external_numbers().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired(_)));
    assert_eq!(mock.seen_at("/oauth/token").len(), 1);
    assert!(mock.seen_at("/externalNumbersInfo").is_empty());
}

#[tokio::test]
async fn a_refresh_answered_401_without_a_json_body_also_means_sign_in() {
    let mock = mock_accepting("fresh", Reply::with(401, "text/html", "<h1>401</h1>")).await;
    let client = mock.client(Some(expired_tokens("stale", "r1")), HttpConfig::default());
    let err = client.pbx.external_numbers().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired(_)), "{err:?}");
    assert!(client.stored().is_none());
}

#[tokio::test]
async fn a_transport_failure_during_refresh_keeps_the_tokens_and_is_retryable() {
    let api = mock_accepting("fresh", Reply::ok(token_answer("fresh", None))).await;
    // The OAuth host is a port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let mut config = api.oauth_config();
    config.endpoints = mtt_api::Endpoints::new(&format!("http://{closed}"), &api.base).unwrap();
    let http_config = HttpConfig::default();
    let http = mtt_api::http_client(http_config).unwrap();
    let store = Arc::new(MemoryTokenStore::with(expired_tokens("stale", "r1")));
    let session = Arc::new(
        Session::new(
            mtt_api::Authorizer::new(config, http.clone(), http_config).unwrap(),
            store.clone(),
        )
        .unwrap(),
    );
    let pbx = mtt_api::Pbx::new(&api.endpoints(), http, http_config, session);
    let err = pbx.external_numbers().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(
        store.load().unwrap().unwrap().access_token.expose(),
        "stale",
        "tokens kept"
    );
}

#[tokio::test]
async fn tokens_expiring_within_the_margin_are_refreshed_before_the_call() {
    let mock = mock_accepting("fresh", Reply::ok(token_answer("fresh", None))).await;
    let mut tokens = fresh_tokens("soon-stale", "r1");
    tokens.access_expires_at = chrono::Utc::now() + chrono::Duration::minutes(5);
    let client = mock.client(Some(tokens), HttpConfig::default());
    client.pbx.external_numbers().await.unwrap();
    let seen = mock.seen();
    assert_eq!(seen[0].path, "/oauth/token");
    assert_eq!(seen[1].header("authorization"), Some("Bearer fresh"));
}

#[tokio::test]
async fn a_lapsed_refresh_token_needs_a_new_sign_in_without_asking_the_server() {
    let mock = mock_accepting("fresh", Reply::ok(token_answer("fresh", None))).await;
    let mut tokens = expired_tokens("stale", "r1");
    tokens.refresh_expires_at = Some(chrono::Utc::now() - chrono::Duration::seconds(1));
    let client = mock.client(Some(tokens), HttpConfig::default());
    let err = client.pbx.workplaces().await.unwrap_err();
    assert!(
        matches!(&err, Error::SignInRequired(m) if m.contains("three days")),
        "{err:?}"
    );
    assert!(mock.seen().is_empty());
    assert!(client.stored().is_none());
}

#[tokio::test]
async fn sign_in_stores_tokens_and_sign_out_clears_them() {
    let mock = mock_accepting("a1", Reply::ok(token_answer("a1", Some("r1")))).await;
    let client = mock.client(None, HttpConfig::default());
    let pending = client.session.begin_sign_in();
    let state = pending.state().expose().to_owned();
    let status = client
        .session
        .finish_sign_in(pending, &state, mtt_api::AuthCode::new("code"))
        .await
        .unwrap();
    assert!(status.signed_in);
    assert!(status.refresh_expires_at.unwrap() > status.access_expires_at.unwrap());
    assert_eq!(client.stored().unwrap().access_token.expose(), "a1");
    client.pbx.external_numbers().await.unwrap();
    client.session.sign_out().await.unwrap();
    assert!(client.stored().is_none());
    assert!(matches!(
        client.pbx.external_numbers().await,
        Err(Error::SignInRequired(_))
    ));
}
