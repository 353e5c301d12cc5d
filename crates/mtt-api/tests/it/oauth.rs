//! Sign-in and refresh requests, checked field by field on the server side.

use mtt_api::{AuthCode, Error, HttpConfig, SCOPE};

use crate::fixture;
use crate::mock::{CLIENT_ID, CLIENT_SECRET, Mock, REDIRECT_URI, Reply, token_answer};

fn pairs(url: &url::Url) -> Vec<(String, String)> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn the_authorize_address_has_exactly_the_documented_parameters() {
    let mock = Mock::start(|_, _| Reply::ok("{}")).await;
    let pending = mock.authorizer(HttpConfig::default()).begin();
    let url = &pending.url;
    assert_eq!(url.path(), "/oauth/authorize");
    assert!(url.as_str().starts_with(&mock.base));
    let q = pairs(url);
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("response_type"), Some("code"));
    assert_eq!(get("client_id"), Some(CLIENT_ID));
    assert_eq!(get("redirect_uri"), Some(REDIRECT_URI));
    assert_eq!(get("scope"), Some(SCOPE));
    let state = get("state").unwrap();
    assert!(
        state.len() >= 43,
        "256 random bits in base64url is 43 characters: {state}"
    );
    assert!(pending.state().matches(state));
    assert_eq!(
        q.len(),
        5,
        "no other parameters (PKCE is off by default): {q:?}"
    );
    // The scope is URL-encoded, not pasted raw.
    assert!(
        url.as_str()
            .contains("scope=https%3A%2F%2Fmtt.ru%2Fauth.tokens.readwrite"),
        "{url}"
    );
    // Each attempt gets its own state.
    let again = mock.authorizer(HttpConfig::default()).begin();
    assert!(!again.state().matches(state));
}

#[tokio::test]
async fn pkce_can_be_switched_on() {
    let mock = Mock::start(|_, _| Reply::ok(token_answer("a", Some("r")))).await;
    let mut config = mock.oauth_config();
    config.pkce = true;
    let http = mtt_api::http_client(HttpConfig::default()).unwrap();
    let auth = mtt_api::Authorizer::new(config, http, HttpConfig::default()).unwrap();
    let pending = auth.begin();
    let q = pairs(&pending.url);
    assert!(
        q.iter()
            .any(|(k, v)| k == "code_challenge_method" && v == "S256")
    );
    let state = q.iter().find(|(k, _)| k == "state").unwrap().1.clone();
    auth.finish(pending, &state, AuthCode::new("c"))
        .await
        .unwrap();
    let form = mock.seen()[0].form();
    assert!(
        form.iter()
            .any(|(k, v)| k == "code_verifier" && v.len() >= 43)
    );
}

#[tokio::test]
async fn the_code_exchange_sends_every_documented_field_in_the_form_body() {
    let mock = Mock::start(|_, _| Reply::ok(fixture("token_code_exchange.json"))).await;
    let auth = mock.authorizer(HttpConfig::default());
    let pending = auth.begin();
    let state = pending.state().expose().to_owned();
    let tokens = auth
        .finish(
            pending,
            &state,
            AuthCode::new("NMI1NGVIMDCNTNTHKOS0ZYTMYLWFKODMTZMRHMG5YWU0MDBL"),
        )
        .await
        .unwrap();

    let seen = mock.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/oauth/token");
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        req.header("authorization"),
        None,
        "credentials go in the body, not HTTP Basic"
    );
    let mut form = req.form();
    form.sort();
    let mut expected = vec![
        ("client_id".to_owned(), CLIENT_ID.to_owned()),
        ("client_secret".to_owned(), CLIENT_SECRET.to_owned()),
        (
            "code".to_owned(),
            "NMI1NGVIMDCNTNTHKOS0ZYTMYLWFKODMTZMRHMG5YWU0MDBL".to_owned(),
        ),
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("redirect_uri".to_owned(), REDIRECT_URI.to_owned()),
        ("scope".to_owned(), SCOPE.to_owned()),
    ];
    expected.sort();
    assert_eq!(form, expected);

    // The document's answer, whose scope differs from the one requested, is accepted.
    assert_eq!(
        tokens.access_token.expose(),
        "MMRLZJU5NTETMTNHZI0ZNIYLWJHOTGTNjY1M2ZMM2YZNMjX"
    );
    assert_eq!(
        tokens.refresh_token.as_ref().unwrap().expose(),
        "YWFHNGFHYMQTMTUYMI01ZTM0LTKZM2QTYZU2YZIWNJQ0MJEO"
    );
    assert_eq!(
        tokens.scope.as_deref(),
        Some("https://mtt.ru/auth/openapi.readwrite")
    );
    let life = tokens.access_expires_at - chrono::Utc::now();
    assert!(life > chrono::Duration::seconds(7190) && life <= chrono::Duration::seconds(7200));
    let refresh_life = tokens.refresh_expires_at.unwrap() - chrono::Utc::now();
    assert!(refresh_life > chrono::Duration::days(3) - chrono::Duration::seconds(10));
}

#[tokio::test]
async fn a_wrong_state_is_refused_before_anything_is_sent() {
    let mock = Mock::start(|_, _| Reply::ok(token_answer("a", Some("r")))).await;
    let auth = mock.authorizer(HttpConfig::default());
    let pending = auth.begin();
    let mut forged = pending.state().expose().to_owned();
    forged.push('x');
    let err = auth
        .finish(pending, &forged, AuthCode::new("code"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StateMismatch), "{err:?}");
    let pending = auth.begin();
    let err = auth
        .finish(pending, "", AuthCode::new("code"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StateMismatch), "{err:?}");
    assert!(mock.seen().is_empty());
}

#[tokio::test]
async fn refused_codes_and_broken_token_answers_are_typed_errors() {
    let mock = Mock::start(|_, i| match i {
        0 => Reply::json(
            400,
            r#"{"error":"invalid_grant","error_description":"code expired"}"#,
        ),
        1 => Reply::with(502, "text/html", "<html><body>Bad Gateway</body></html>"),
        2 => Reply::with(200, "text/html", "<html>login</html>"),
        3 => Reply::ok(""),
        _ => Reply::with(500, "text/plain", ""),
    })
    .await;
    let auth = mock.authorizer(HttpConfig::default());
    let mut errors = Vec::new();
    for _ in 0..5 {
        let pending = auth.begin();
        let state = pending.state().expose().to_owned();
        errors.push(
            auth.finish(pending, &state, AuthCode::new("c"))
                .await
                .unwrap_err(),
        );
    }
    assert!(
        matches!(&errors[0], Error::SignInRequired(m) if m.contains("code expired")),
        "{:?}",
        errors[0]
    );
    assert!(
        // Said by its shape, never quoted: a token endpoint's answer may hold tokens.
        matches!(&errors[1], Error::Api { status: 502, body, .. }
            if body.contains("37 bytes of text/html") && !body.contains("Bad Gateway")),
        "{:?}",
        errors[1]
    );
    assert!(
        matches!(&errors[2], Error::Undecodable { excerpt, .. }
            if excerpt.contains("text/html, not JSON") && !excerpt.contains("login")),
        "{:?}",
        errors[2]
    );
    assert!(
        matches!(&errors[3], Error::Undecodable { .. }),
        "{:?}",
        errors[3]
    );
    assert!(
        matches!(&errors[4], Error::Api { status: 500, .. }),
        "{:?}",
        errors[4]
    );
}

#[tokio::test]
async fn the_refresh_request_has_exactly_the_documented_fields() {
    let mock = Mock::start(|_, _| Reply::ok(fixture("token_refresh.json"))).await;
    let auth = mock.authorizer(HttpConfig::default());
    let current = crate::mock::expired_tokens("old-access", "old-refresh");
    let refreshed = auth
        .refresh(&current, current.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    let req = &mock.seen()[0];
    assert_eq!(req.path, "/oauth/token");
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(req.header("authorization"), None);
    let mut form = req.form();
    form.sort();
    assert_eq!(
        form,
        vec![
            ("client_id".to_owned(), CLIENT_ID.to_owned()),
            ("client_secret".to_owned(), CLIENT_SECRET.to_owned()),
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), "old-refresh".to_owned()),
        ]
    );
    assert_eq!(
        refreshed.access_token.expose(),
        "MMRLZJU5NTETMTNHZI0ZNIYLVJHOTGTNJY1M2ZMM2YZNMYX"
    );
    assert_eq!(
        refreshed.refresh_token.unwrap().expose(),
        "YWFHNGFHYMQTMTUYMI01ZTM0LTKZM2QTYZU2YZIWNJQ0MJE0",
        "a rotated refresh token replaces the old one"
    );
}

#[test]
fn bad_credentials_are_refused_when_configured() {
    let http = mtt_api::http_client(HttpConfig::default()).unwrap();
    let mut config = mtt_api::OAuthConfig {
        client_id: " ".into(),
        client_secret: mtt_api::ClientSecret::new("s"),
        redirect_uri: REDIRECT_URI.into(),
        endpoints: mtt_api::Endpoints::mtt(),
        pkce: false,
    };
    let err =
        mtt_api::Authorizer::new(config.clone(), http.clone(), HttpConfig::default()).unwrap_err();
    assert!(err.to_string().contains("client id"));
    config.client_id = CLIENT_ID.into();
    config.redirect_uri = "not a url".into();
    let err = mtt_api::Authorizer::new(config, http, HttpConfig::default()).unwrap_err();
    assert!(err.to_string().contains("Redirect URI"));
}
