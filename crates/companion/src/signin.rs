//! Receiving the browser's answer to a sign-in.
//!
//! MTT sends the browser to the Redirect URI with `?code=…&state=…`. Where that lands depends on
//! the Redirect URI the account owner registered:
//! - the relay (`https://relay.example.com/<hook>`): the relay keeps the code under its state and
//!   the app fetches it with a long poll, [`from_relay`];
//! - a loopback address (`http://127.0.0.1:<port>/…` or `http://localhost:<port>/…`, as in the
//!   document's own example): the app listens there itself, [`LoopbackListener`];
//! - a `trubka://` link: the desktop shell receives it and hands it over, [`parse_callback`].
//!
//! In every case the state is checked (in constant time, by `mtt-api`) before the code is used.

use std::time::{Duration, Instant};

use mtt_api::AuthCode;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

use crate::error::CompanionError;

/// How long a sign-in may wait for the browser.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(600);

/// What came back from the browser.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The state the answer carries.
    pub state: String,
    /// The code, or why there is none.
    pub outcome: Result<AuthCode, String>,
}

/// Reads a callback address (`…?code=…&state=…`, or `…?error=…`).
pub fn parse_callback(url: &Url) -> Result<Callback, CompanionError> {
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut description = None;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v.into_owned()),
            "error" => error = Some(v.into_owned()),
            "error_description" => description = Some(v.into_owned()),
            _ => {}
        }
    }
    let state = state
        .ok_or_else(|| CompanionError::InvalidInput("the sign-in answer has no state".into()))?;
    let outcome = match (code, error) {
        (Some(code), None) if !code.is_empty() => Ok(AuthCode::new(code)),
        (_, Some(error)) => Err(match description {
            Some(d) => format!("{error}: {d}"),
            None => error,
        }),
        _ => Err("the sign-in answer has no code".into()),
    };
    Ok(Callback { state, outcome })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fetched {
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Waits for the relay to receive the sign-in for `state`, long-polling
/// `GET <relay>/oauth/code/<state>` until it arrives or `timeout` passes.
pub async fn from_relay(
    http: &reqwest::Client,
    relay_base: &Url,
    state: &str,
    timeout: Duration,
) -> Result<Callback, CompanionError> {
    let mut url = relay_base.clone();
    url.path_segments_mut()
        .map_err(|_| {
            CompanionError::InvalidInput(format!(
                "the relay address {relay_base} cannot have paths"
            ))
        })?
        .pop_if_empty()
        .extend(["oauth", "code", state]);
    let deadline = Instant::now() + timeout;
    loop {
        if Instant::now() >= deadline {
            return Err(CompanionError::SignIn(
                "no answer from the browser in time; start the sign-in again".into(),
            ));
        }
        let answer = http
            .get(url.clone())
            .timeout(Duration::from_secs(40))
            .send()
            .await;
        match answer {
            Ok(r) if r.status().is_success() => {
                let fetched: Fetched = r.json().await.map_err(|e| {
                    CompanionError::SignIn(format!("the relay's answer is unreadable: {e}"))
                })?;
                let outcome = match (fetched.code, fetched.error) {
                    (Some(code), _) => Ok(AuthCode::new(code)),
                    (None, Some(error)) => Err(match fetched.error_description {
                        Some(d) => format!("{error}: {d}"),
                        None => error,
                    }),
                    (None, None) => Err("the relay returned neither a code nor an error".into()),
                };
                return Ok(Callback {
                    state: state.to_owned(),
                    outcome,
                });
            }
            // Not there yet (the long poll ran out): ask again.
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => {}
            Ok(r) => {
                return Err(CompanionError::SignIn(format!(
                    "the relay answered HTTP {} while waiting for the sign-in",
                    r.status()
                )));
            }
            Err(e) => {
                tracing::debug!(error = %e, "waiting for the sign-in at the relay");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// A one-shot HTTP listener on the loopback Redirect URI's port.
#[derive(Debug)]
pub struct LoopbackListener {
    listener: TcpListener,
    path: String,
}

impl LoopbackListener {
    /// Binds the port of a loopback Redirect URI; `None` if the URI is not a loopback one.
    pub async fn bind(redirect_uri: &Url) -> Result<Option<Self>, CompanionError> {
        let loopback = matches!(
            redirect_uri.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]")
        );
        if redirect_uri.scheme() != "http" || !loopback {
            return Ok(None);
        }
        let port = redirect_uri.port_or_known_default().unwrap_or(80);
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            CompanionError::SignIn(format!(
                "cannot listen on 127.0.0.1:{port} for the sign-in: {e}"
            ))
        })?;
        Ok(Some(LoopbackListener {
            listener,
            path: redirect_uri.path().to_owned(),
        }))
    }

    /// Waits for the browser, answers it with a short page, and returns what it brought.
    pub async fn accept(self, timeout: Duration) -> Result<Callback, CompanionError> {
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let (mut socket, _) = tokio::time::timeout(remaining, self.listener.accept())
                .await
                .map_err(|_| CompanionError::SignIn("no answer from the browser in time".into()))?
                .map_err(|e| CompanionError::SignIn(e.to_string()))?;
            let mut buffer = vec![0u8; 8192];
            let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buffer))
                .await
                .unwrap_or(Ok(0))
                .unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..n]);
            let target = request
                .lines()
                .next()
                .and_then(|line| line.split_whitespace().nth(1))
                .unwrap_or("/");
            let parsed = Url::parse(&format!("http://127.0.0.1{target}")).ok();
            let callback = parsed
                .as_ref()
                .filter(|u| u.path() == self.path)
                .map(parse_callback);
            let (status, page) = match &callback {
                Some(Ok(c)) if c.outcome.is_ok() => ("200 OK", LANDED),
                Some(_) => ("200 OK", REFUSED),
                None => ("404 Not Found", "not found"),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            if let Some(callback) = callback {
                return callback;
            }
        }
    }
}

const LANDED: &str = "<!doctype html><meta charset=\"utf-8\"><title>Trubka</title><p>Вход выполнен — вернитесь в приложение.</p><p>Signed in — return to the app.</p>";
const REFUSED: &str = "<!doctype html><meta charset=\"utf-8\"><title>Trubka</title><p>Вход не выполнен — вернитесь в приложение.</p><p>Sign-in failed — return to the app.</p>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_are_read_with_their_errors() {
        let ok = parse_callback(
            &Url::parse("http://localhost:9090/oauth2?code=Yzk5ZDczMzRINDEwY&state=xyz").unwrap(),
        )
        .unwrap();
        assert_eq!(ok.state, "xyz");
        assert_eq!(ok.outcome.unwrap().expose(), "Yzk5ZDczMzRINDEwY");
        let refused = parse_callback(
            &Url::parse("trubka://signin?error=access_denied&error_description=no&state=s")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(refused.outcome.unwrap_err(), "access_denied: no");
        assert!(parse_callback(&Url::parse("trubka://signin?code=c").unwrap()).is_err());
    }

    #[tokio::test]
    async fn the_loopback_listener_takes_the_documents_example_redirect() {
        // Port 0 cannot be registered as a Redirect URI, so bind a free port first.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let redirect = Url::parse(&format!("http://localhost:{port}/oauth2")).unwrap();
        let listener = LoopbackListener::bind(&redirect).await.unwrap().unwrap();
        let waiting = tokio::spawn(listener.accept(Duration::from_secs(5)));
        let page = reqwest::get(format!(
            "http://127.0.0.1:{port}/oauth2?code=Yzk5ZDczMzRINDEwY&state=xyz"
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        assert!(page.contains("Signed in"));
        let callback = waiting.await.unwrap().unwrap();
        assert_eq!(callback.state, "xyz");
        assert!(
            LoopbackListener::bind(&Url::parse("https://relay.example.com/h").unwrap())
                .await
                .unwrap()
                .is_none()
        );
    }
}
