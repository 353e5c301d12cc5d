//! No secret ever reaches the logs: everything traced through a full sign-in, a refresh, a 401
//! and several calls is captured and searched for every secret involved.

use std::io::Write;
use std::sync::{Arc, Mutex};

use mtt_api::{AuthCode, Callee, HttpConfig, SipId};
use tracing_subscriber::fmt::MakeWriter;

use crate::mock::{CLIENT_SECRET, Mock, Reply, token_answer};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

const ACCESS_1: &str = "ACCESSoneMMRLZJU5NTETMTNHZI0Z";
const ACCESS_2: &str = "ACCESStwoNIYLWJHOTGTNjY1M2ZMM";
const REFRESH_1: &str = "REFRESHoneYWFHNGFHYMQTMTUYMI01";
const REFRESH_2: &str = "REFRESHtwoZTM0LTKZM2QTYZU2YZIW";
const CODE: &str = "CODEnmi1NGVIMDCNTNTHKOS0ZYTMYLW";

// The current-thread runtime keeps every task, the client's and the stand-in server's, on the
// thread whose default subscriber captures them.
#[tokio::test(flavor = "current_thread")]
async fn no_token_secret_code_or_state_appears_in_any_log_line() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mock = Mock::start(|seen, i| match (seen.path.as_str(), i) {
        ("/oauth/token", 0) => Reply::ok(token_answer(ACCESS_1, Some(REFRESH_1))),
        ("/oauth/token", _) => Reply::ok(token_answer(ACCESS_2, Some(REFRESH_2))),
        // The first API call is refused, forcing a refresh.
        (_, 1) => Reply::json(401, r#"{"error":"expired"}"#),
        ("/makeCall", _) => Reply::ok(r#"{"result":{"call":{"id":"leg@1"},"success":1}}"#),
        ("/workPlacesInfo", _) => Reply::ok(r#"{"result":{"total":0,"workplacesList":[]}}"#),
        _ => Reply::ok(r#"{"result":{"total":0,"numbersList":[]}}"#),
    })
    .await;
    let client = mock.client(None, HttpConfig::default());
    let pending = client.session.begin_sign_in();
    let state = pending.state().expose().to_owned();
    tracing::info!(?pending, "pending sign-in");

    // A forged answer first, then the real one.
    let forged = client.session.begin_sign_in();
    assert!(
        client
            .session
            .finish_sign_in(forged, &state, AuthCode::new(CODE))
            .await
            .is_err()
    );
    client
        .session
        .finish_sign_in(pending, &state, AuthCode::new(CODE))
        .await
        .unwrap();
    client.pbx.external_numbers().await.unwrap();
    client.pbx.workplaces().await.unwrap();
    client
        .pbx
        .make_call(
            &SipId::parse("883140582526566").unwrap(),
            &Callee::parse("79219462761").unwrap(),
        )
        .await
        .unwrap();
    let tokens = client.stored().unwrap();
    tracing::info!(?tokens, session = ?client.session, "final state");
    assert_eq!(
        tokens.access_token.expose(),
        ACCESS_2,
        "the scenario did refresh"
    );

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("access token refreshed"),
        "the capture works:\n{log}"
    );
    for secret in [
        ACCESS_1,
        ACCESS_2,
        REFRESH_1,
        REFRESH_2,
        CODE,
        CLIENT_SECRET,
        state.as_str(),
    ] {
        assert!(
            !log.contains(secret),
            "a secret leaked into the logs:\n{log}"
        );
    }
    assert!(log.contains("[redacted]"));
}

const ACCESS_3: &str = "ACCESSthreeQZU5NTETMTNHZI0ZxyzW";
const REFRESH_3: &str = "REFRESHthreeWFHNGFHYMQTMTUYMI0K";

/// A token answer that cannot be read may still hold the tokens: whatever goes wrong with it, no
/// part of its body reaches an error's words or a log line, on sign-in or on refresh.
#[tokio::test(flavor = "current_thread")]
async fn a_token_answer_that_cannot_be_read_is_never_quoted() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Tokens in answers that fail to parse: a wrong type, a missing field, bad JSON, HTML, and a
    // refusal whose body is not OAuth's error shape.
    let broken = [
        (
            200,
            "application/json",
            format!(
                r#"{{"access_token":"{ACCESS_3}","refresh_token":"{REFRESH_3}","token_type":"Bearer","expires_in":"{ACCESS_3}"}}"#
            ),
        ),
        (
            200,
            "application/json",
            format!(r#"{{"access_token":"{ACCESS_3}","refresh_token":"{REFRESH_3}"}}"#),
        ),
        (
            200,
            "application/json",
            format!(r#"{{"access_token":"{ACCESS_3}","refresh_token":"{REFRESH_3}","#),
        ),
        (200, "text/html", format!("<p>{ACCESS_3} {REFRESH_3}</p>")),
        (400, "text/plain", format!("{ACCESS_3} {REFRESH_3}")),
        (502, "text/plain", format!("{ACCESS_3} {REFRESH_3}")),
    ];
    let answers = broken.clone();
    let mock = Mock::start(move |_, i| {
        let (status, kind, body) = &answers[i % answers.len()];
        Reply::with(*status, kind, body.clone())
    })
    .await;
    let mut words = String::new();
    for _ in 0..broken.len() {
        let client = mock.client(None, HttpConfig::default());
        let pending = client.session.begin_sign_in();
        let state = pending.state().expose().to_owned();
        let err = client
            .session
            .finish_sign_in(pending, &state, AuthCode::new(CODE))
            .await
            .unwrap_err();
        // The app logs what went wrong and shows it; so does the CLI.
        tracing::warn!(error = %err, debug = ?err, "sign-in failed");
        words.push_str(&format!("{err}\n{err:?}\n"));
    }
    for _ in 0..broken.len() {
        let client = mock.client(
            Some(crate::mock::expired_tokens(ACCESS_1, REFRESH_1)),
            HttpConfig::default(),
        );
        let err = client.pbx.workplaces().await.unwrap_err();
        tracing::warn!(error = %err, debug = ?err, "refresh failed");
        words.push_str(&format!("{err}\n{err:?}\n"));
    }

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("sign-in failed"), "the capture works:\n{log}");
    for secret in [
        ACCESS_3,
        REFRESH_3,
        ACCESS_1,
        REFRESH_1,
        CODE,
        CLIENT_SECRET,
    ] {
        assert!(
            !words.contains(secret),
            "a token reached an error:\n{words}"
        );
        assert!(!log.contains(secret), "a token reached the logs:\n{log}");
    }
    // What is said instead: the answer's size and shape.
    assert!(
        words.contains("a JSON object with the fields access_token, refresh_token"),
        "{words}"
    );
}
