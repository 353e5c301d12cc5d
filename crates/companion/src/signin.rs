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

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use mtt_api::{AuthCode, OAuthState};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::Instant;
use url::{Host, Url};

use crate::address::{RELAY_CARRIES, is_loopback_host, secure_url};
use crate::error::{CompanionError, InvalidSetting};

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

/// The least time between two polls of the relay, however fast it answers: a relay (or whatever
/// the address really points at) that answers at once must not be asked thousands of times a
/// second.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// A "not found" that comes back sooner than this was not a long poll running out: the address
/// is probably not the relay's (the Redirect URI pasted as the relay address, say).
const QUICK_NOT_FOUND: Duration = Duration::from_secs(5);

/// Waits for the relay to receive the sign-in for `state`, long-polling
/// `GET <relay>/oauth/code/<state>` until it arrives or `timeout` passes.
///
/// The relay answers 404 while it has nothing for the state (its long poll ran out) and 410 once
/// the sign-in was taken or has expired, which is final. Polls start at least
/// [`MIN_POLL_INTERVAL`] apart. The relay must be https unless it is on this computer: the code
/// comes back over this connection.
pub async fn from_relay(
    http: &reqwest::Client,
    relay_base: &Url,
    state: &str,
    timeout: Duration,
) -> Result<Callback, CompanionError> {
    let relay =
        secure_url(relay_base.as_str(), RELAY_CARRIES).map_err(|reason| InvalidSetting {
            key: "account.relay_url",
            reason,
        })?;
    let mut url = relay.clone();
    url.path_segments_mut()
        .map_err(|_| {
            CompanionError::InvalidInput(format!(
                "the relay address {relay_base} cannot have paths"
            ))
        })?
        .pop_if_empty()
        .extend(["oauth", "code", state]);
    let deadline = Instant::now() + timeout;
    // Whether every answer so far was a "not found" that came back at once.
    let mut only_quick_not_found = None;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(CompanionError::SignIn(match only_quick_not_found {
                Some(true) => format!(
                    "no sign-in arrived in time, and {relay} answered \"not found\" at once every time it was asked: is that the relay's address (not the Redirect URI)? Check the relay address and start the sign-in again"
                ),
                _ => "no answer from the browser in time; start the sign-in again".into(),
            }));
        }
        let next_poll = now + MIN_POLL_INTERVAL;
        let answer = http
            .get(url.clone())
            .timeout(Duration::from_secs(40).min(deadline - now + Duration::from_secs(1)))
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
            // Nothing for this state yet (the long poll ran out): ask again.
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => {
                let quick = now.elapsed() < QUICK_NOT_FOUND;
                if quick && only_quick_not_found.is_none() {
                    tracing::warn!(
                        relay = %relay,
                        "the relay answered \"not found\" at once; is that the relay's address?"
                    );
                }
                only_quick_not_found = Some(quick && only_quick_not_found.unwrap_or(true));
            }
            Ok(r) if r.status() == reqwest::StatusCode::GONE => {
                return Err(CompanionError::SignIn(
                    "the relay no longer has this sign-in (already taken or expired); start the sign-in again".into(),
                ));
            }
            Ok(r) => {
                return Err(CompanionError::SignIn(format!(
                    "the relay answered HTTP {} while waiting for the sign-in",
                    r.status()
                )));
            }
            Err(e) => {
                tracing::debug!(error = %e, "waiting for the sign-in at the relay");
                only_quick_not_found = Some(false);
            }
        }
        tokio::time::sleep_until(next_poll.min(deadline)).await;
    }
}

/// An HTTP listener on the loopback Redirect URI's address and port, for one sign-in.
#[derive(Debug)]
pub struct LoopbackListener {
    listeners: Vec<TcpListener>,
    path: String,
}

impl LoopbackListener {
    /// Listens where a loopback Redirect URI points: the address it names (`127.0.0.1`, any
    /// other 127.x address, or `[::1]`), or for `localhost` both 127.0.0.1 and ::1, since a
    /// browser may try either. `None` if the URI is not a loopback one.
    pub async fn bind(redirect_uri: &Url) -> Result<Option<Self>, CompanionError> {
        if redirect_uri.scheme() != "http" || !is_loopback_host(redirect_uri) {
            return Ok(None);
        }
        let port = redirect_uri.port_or_known_default().unwrap_or(80);
        let (required, optional): (IpAddr, Option<IpAddr>) = match redirect_uri.host() {
            Some(Host::Ipv4(ip)) => (ip.into(), None),
            Some(Host::Ipv6(ip)) => (ip.into(), None),
            _ => (Ipv4Addr::LOCALHOST.into(), Some(Ipv6Addr::LOCALHOST.into())),
        };
        let mut listeners = vec![TcpListener::bind((required, port)).await.map_err(|e| {
            CompanionError::SignIn(format!(
                "cannot listen on {} for the sign-in: {e}",
                SocketAddr::from((required, port))
            ))
        })?];
        if let Some(ip) = optional {
            match TcpListener::bind((ip, port)).await {
                Ok(l) => listeners.push(l),
                Err(e) => tracing::debug!(error = %e, "no sign-in listener on ::1"),
            }
        }
        Ok(Some(LoopbackListener {
            listeners,
            path: redirect_uri.path().to_owned(),
        }))
    }

    /// Waits for the browser's answer to the sign-in whose state is `expected`, answers it with
    /// a short page, and returns what it brought. Anything else is answered and ignored, so that
    /// no other web page can end the sign-in: a request for another path gets 404, and one on
    /// the path without this sign-in's state (compared in constant time) gets 400.
    pub async fn accept(
        self,
        expected: &OAuthState,
        timeout: Duration,
    ) -> Result<Callback, CompanionError> {
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let accepted =
                futures::future::select_all(self.listeners.iter().map(|l| Box::pin(l.accept())));
            // Never empty: `bind` makes at least one listener.
            let (accepted, _, _) = tokio::time::timeout(remaining, accepted)
                .await
                .map_err(|_| CompanionError::SignIn("no answer from the browser in time".into()))?;
            let (mut socket, _) = accepted.map_err(|e| CompanionError::SignIn(e.to_string()))?;
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
            let (status, page, answer) = match callback {
                Some(Ok(c)) if expected.matches(&c.state) => match &c.outcome {
                    Ok(_) => ("200 OK", LANDED, Some(c)),
                    Err(_) => ("200 OK", REFUSED, Some(c)),
                },
                Some(_) => {
                    tracing::warn!(
                        "a request to the sign-in address without this sign-in's state was refused"
                    );
                    ("400 Bad Request", NOT_THIS_SIGN_IN, None)
                }
                None => ("404 Not Found", "not found", None),
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            if let Some(callback) = answer {
                return Ok(callback);
            }
        }
    }
}

const LANDED: &str = "<!doctype html><meta charset=\"utf-8\"><title>Trubka</title><p>Вход выполнен — вернитесь в приложение.</p><p>Signed in — return to the app.</p>";
const REFUSED: &str = "<!doctype html><meta charset=\"utf-8\"><title>Trubka</title><p>Вход не выполнен — вернитесь в приложение.</p><p>Sign-in failed — return to the app.</p>";
const NOT_THIS_SIGN_IN: &str = "<!doctype html><meta charset=\"utf-8\"><title>Trubka</title><p>Этот ответ не относится к текущему входу.</p><p>This answer does not belong to the sign-in in progress.</p>";

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
        let expected = OAuthState::new("xyz");
        let waiting =
            tokio::spawn(async move { listener.accept(&expected, Duration::from_secs(5)).await });
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
