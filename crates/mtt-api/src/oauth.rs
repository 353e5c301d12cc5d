//! OAuth 2.0 with MTT, configured exactly as the document describes.
//!
//! The `oauth2` crate builds the requests; this module pins the choices the document makes:
//! credentials in the form body (not HTTP Basic), `scope` sent with the code exchange, PKCE off
//! unless asked for, no scope check on the answer. It also turns the crate's errors into ours while
//! keeping the HTTP status and body, which the crate's error type can lose.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};
use url::Url;

use crate::endpoints::{Endpoints, HttpConfig, SCOPE, transport_error};
use crate::error::{Error, body_shape, excerpt};
use crate::secret::{AccessToken, AuthCode, ClientSecret, OAuthState, RefreshToken};
use crate::token::{REFRESH_TOKEN_LIFETIME, TokenSet};

/// Random bytes in each `state`: 256 bits, twice the minimum, so guessing one is hopeless.
const STATE_BYTES: u32 = 32;

/// An integration's credentials, as shown in the МТТ cabinet.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The integration's client id (a UUID).
    pub client_id: String,
    /// The integration's secret.
    pub client_secret: ClientSecret,
    /// The Redirect URI registered for the integration; sent verbatim.
    pub redirect_uri: String,
    /// Where MTT (or the simulator) is.
    pub endpoints: Endpoints,
    /// Send a PKCE challenge. The document does not mention PKCE, so it is off by default.
    pub pkce: bool,
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Signs in and refreshes tokens.
#[derive(Debug, Clone)]
pub struct Authorizer {
    client: Client,
    http: reqwest::Client,
    deadline: StdDuration,
    pkce: bool,
    token_url: Url,
}

/// A sign-in in progress: the address to open in the browser, and what is needed to finish it.
pub struct PendingSignIn {
    /// Open this in the system browser.
    pub url: Url,
    state: OAuthState,
    pkce_verifier: Option<PkceCodeVerifier>,
}

impl PendingSignIn {
    /// The state sent with this sign-in, for code that must route the browser's answer back to
    /// it (the relay hand-off is keyed by it).
    pub fn state(&self) -> &OAuthState {
        &self.state
    }

    /// A sign-in begun elsewhere (another process of the same server, which kept only its
    /// `state`), to be finished here. Without PKCE: a verifier is not kept between processes.
    pub fn resumed(url: Url, state: OAuthState) -> Self {
        PendingSignIn {
            url,
            state,
            pkce_verifier: None,
        }
    }
}

impl fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL carries the state, which is as sensitive as the state itself.
        f.debug_struct("PendingSignIn")
            .field("url", &"[redacted]")
            .field("pkce", &self.pkce_verifier.is_some())
            .finish()
    }
}

impl Authorizer {
    /// Sets up sign-in for one integration.
    pub fn new(
        config: OAuthConfig,
        http: reqwest::Client,
        http_config: HttpConfig,
    ) -> Result<Self, Error> {
        if config.client_id.trim().is_empty() {
            return Err(Error::InvalidInput("the client id is empty".into()));
        }
        if config.client_secret.expose().is_empty() {
            return Err(Error::InvalidInput("the client secret is empty".into()));
        }
        let auth_url = Endpoints::join(&config.endpoints.oauth, "oauth/authorize");
        let token_url = Endpoints::join(&config.endpoints.oauth, "oauth/token");
        let redirect = RedirectUrl::new(config.redirect_uri.trim().to_owned()).map_err(|e| {
            Error::InvalidInput(format!(
                "the Redirect URI {:?} is not a URL: {e}",
                config.redirect_uri
            ))
        })?;
        let client = BasicClient::new(ClientId::new(config.client_id.trim().to_owned()))
            .set_client_secret(oauth2::ClientSecret::new(
                config.client_secret.expose().to_owned(),
            ))
            .set_auth_uri(AuthUrl::from_url(auth_url))
            .set_token_uri(TokenUrl::from_url(token_url.clone()))
            .set_redirect_uri(redirect)
            .set_auth_type(AuthType::RequestBody);
        Ok(Authorizer {
            client,
            http,
            deadline: http_config.request_timeout,
            pkce: config.pkce,
            token_url,
        })
    }

    /// Starts a sign-in: a fresh random state (and PKCE challenge if enabled) and the authorize
    /// address with `response_type=code`, `client_id`, `redirect_uri`, `scope` and `state`.
    pub fn begin(&self) -> PendingSignIn {
        let mut request = self
            .client
            .authorize_url(|| CsrfToken::new_random_len(STATE_BYTES))
            .add_scope(Scope::new(SCOPE.to_owned()));
        let mut pkce_verifier = None;
        if self.pkce {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            pkce_verifier = Some(verifier);
        }
        let (url, state) = request.url();
        PendingSignIn {
            url,
            state: OAuthState::new(state.secret().clone()),
            pkce_verifier,
        }
    }

    /// Finishes a sign-in with what the browser brought back. The state is compared in constant
    /// time before anything is sent; a mismatch means the answer belongs to another attempt.
    pub async fn finish(
        &self,
        pending: PendingSignIn,
        returned_state: &str,
        code: AuthCode,
    ) -> Result<TokenSet, Error> {
        if !pending.state.matches(returned_state) {
            tracing::warn!("sign-in answer refused: its state does not match this attempt");
            return Err(Error::StateMismatch);
        }
        if code.expose().trim().is_empty() {
            return Err(Error::InvalidInput(
                "the authorization code is empty".into(),
            ));
        }
        let mut request = self
            .client
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .add_extra_param("scope", SCOPE);
        if let Some(verifier) = pending.pkce_verifier {
            request = request.set_pkce_verifier(verifier);
        }
        let issued_at = Utc::now();
        let exchange = Exchange::new(self);
        let response = request.request_async(&exchange).await;
        tracing::info!(
            outcome = if response.is_ok() { "ok" } else { "failed" },
            "authorization code exchanged"
        );
        let response = response.map_err(|e| exchange.error(e, "the code exchange"))?;
        Ok(token_set(&response, issued_at))
    }

    /// Exchanges a refresh token for new tokens, keeping the old refresh token when the answer
    /// brings none.
    pub async fn refresh(
        &self,
        current: &TokenSet,
        refresh_token: &RefreshToken,
    ) -> Result<TokenSet, Error> {
        self.refresh_at(current, refresh_token, Utc::now()).await
    }

    /// [`Authorizer::refresh`] with the issue time taken from the caller's clock, so that a
    /// session on a simulated clock dates the new tokens on that clock.
    pub async fn refresh_at(
        &self,
        current: &TokenSet,
        refresh_token: &RefreshToken,
        issued_at: DateTime<Utc>,
    ) -> Result<TokenSet, Error> {
        let token = oauth2::RefreshToken::new(refresh_token.expose().to_owned());
        let exchange = Exchange::new(self);
        let response = self
            .client
            .exchange_refresh_token(&token)
            .request_async(&exchange)
            .await
            .map_err(|e| exchange.error(e, "the token refresh"))?;
        Ok(current.renewed_by(token_set(&response, issued_at)))
    }
}

fn token_set(response: &BasicTokenResponse, issued_at: DateTime<Utc>) -> TokenSet {
    // MTT says 7,200 s; an answer without `expires_in` is treated as that, not as "forever".
    let lifetime = response
        .expires_in()
        .and_then(|d| Duration::from_std(d).ok())
        .unwrap_or_else(|| Duration::seconds(7200));
    let refresh_token = response
        .refresh_token()
        .map(|t| RefreshToken::new(t.secret().clone()));
    TokenSet {
        access_token: AccessToken::new(response.access_token().secret().clone()),
        access_expires_at: issued_at + lifetime,
        refresh_expires_at: refresh_token
            .as_ref()
            .map(|_| issued_at + REFRESH_TOKEN_LIFETIME),
        refresh_token,
        scope: response
            .scopes()
            .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
    }
}

/// One token request's HTTP exchange. It remembers the last answer's status and body so that
/// errors keep them even where the `oauth2` crate's own error does not. It is a named type
/// rather than a closure so that the request's future is `Send` for every borrow, which tasks
/// spawned on a multi-threaded runtime need.
struct Exchange {
    http: reqwest::Client,
    token_url: Url,
    deadline: StdDuration,
    last: Arc<Mutex<Option<LastAnswer>>>,
}

/// The token endpoint's last answer: what an error needs to say what came back without saying
/// what was in it.
struct LastAnswer {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl<'c> AsyncHttpClient<'c> for Exchange {
    type Error = SendError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, SendError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// A failure to get any answer from the token endpoint.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SendError(String);

impl Exchange {
    fn new(authorizer: &Authorizer) -> Self {
        Exchange {
            http: authorizer.http.clone(),
            token_url: authorizer.token_url.clone(),
            deadline: authorizer.deadline,
            last: Arc::new(Mutex::new(None)),
        }
    }

    async fn send(&self, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, SendError> {
        let (parts, body) = request.into_parts();
        let started = std::time::Instant::now();
        let response = self
            .http
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                let err = transport_error(&self.token_url, &e, self.deadline);
                return Err(SendError(err.to_string()));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| {
            SendError(transport_error(&self.token_url, &e, self.deadline).to_string())
        })?;
        tracing::debug!(
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "token endpoint answered"
        );
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(LastAnswer {
            status: status.as_u16(),
            content_type,
            body: bytes.to_vec(),
        });
        let mut out = http::Response::builder().status(status);
        if let Some(h) = out.headers_mut() {
            *h = headers;
        }
        out.body(bytes.to_vec())
            .map_err(|e| SendError(format!("could not read the answer: {e}")))
    }

    /// Our error for a failed token request. The body of a token answer is never quoted, not even
    /// in part: a successful answer holds the tokens, and one that fails to parse may well too.
    /// Errors say its length and shape instead ([`body_shape`]), and keep the standard OAuth
    /// `error` and `error_description` of a refusal, which carry no secret.
    fn error(
        &self,
        e: RequestTokenError<SendError, oauth2::basic::BasicErrorResponse>,
        what: &str,
    ) -> Error {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner()).take();
        let host = self.token_url.host_str().unwrap_or_default().to_owned();
        let shape = |answer: &LastAnswer| body_shape(&answer.body, answer.content_type.as_deref());
        match (e, last) {
            (RequestTokenError::Request(SendError(detail)), _) => Error::Transport {
                host,
                detail: format!("{what} failed: {detail}"),
                // A token request changes nothing the user would mind repeating, but it may
                // have consumed a single-use code; the caller decides.
                retryable: true,
                timeout: None,
            },
            (RequestTokenError::ServerResponse(body), last) => {
                let status = last.as_ref().map(|a| a.status).unwrap_or(400);
                let code = error_code(body.error());
                let refused = matches!(body.error(), BasicErrorResponseType::InvalidGrant)
                    || status == 400
                    || status == 401;
                let message = body
                    .error_description()
                    .cloned()
                    .unwrap_or_else(|| format!("{what} was refused ({code})"));
                if refused {
                    Error::SignInRequired(format!("{what} was refused by MTT: {message}"))
                } else {
                    Error::Api {
                        status,
                        code: Some(code),
                        message: Some(message),
                        body: last.as_ref().map(shape).unwrap_or_default(),
                    }
                }
            }
            (other, Some(answer)) => {
                let status = answer.status;
                if (200..300).contains(&status) {
                    Error::Undecodable {
                        what: what.to_owned(),
                        detail: parse_failure(&other),
                        excerpt: shape(&answer),
                    }
                } else if status == 400 || status == 401 {
                    Error::SignInRequired(format!(
                        "{what} was refused by MTT (HTTP {status}; {})",
                        shape(&answer)
                    ))
                } else {
                    Error::Api {
                        status,
                        code: None,
                        message: None,
                        body: shape(&answer),
                    }
                }
            }
            (other, None) => Error::Undecodable {
                what: what.to_owned(),
                detail: parse_failure(&other),
                excerpt: String::from("no answer was kept"),
            },
        }
    }
}

/// Why a token answer could not be read, naming the field but never quoting a value (serde's
/// own messages quote the offending value, which may be a token).
fn parse_failure(e: &RequestTokenError<SendError, oauth2::basic::BasicErrorResponse>) -> String {
    match e {
        RequestTokenError::Parse(e, _) => {
            let kind = match e.inner().classify() {
                serde_json::error::Category::Data => "a field is missing or of the wrong type",
                serde_json::error::Category::Syntax => "it is not valid JSON",
                serde_json::error::Category::Eof => "it ends too early",
                serde_json::error::Category::Io => "it could not be read",
            };
            let path = e.path().to_string();
            if path.is_empty() || path == "." {
                format!("not a token answer: {kind}")
            } else {
                format!("not a token answer: {kind} (at `{}`)", excerpt(&path, 80))
            }
        }
        // The crate's own words (an unexpected media type, an empty body) quote no content.
        RequestTokenError::Other(why) => format!("not a token answer: {}", excerpt(why, 200)),
        other => other.to_string(),
    }
}

fn error_code(kind: &BasicErrorResponseType) -> String {
    match kind {
        BasicErrorResponseType::InvalidClient => "invalid_client".into(),
        BasicErrorResponseType::InvalidGrant => "invalid_grant".into(),
        BasicErrorResponseType::InvalidRequest => "invalid_request".into(),
        BasicErrorResponseType::InvalidScope => "invalid_scope".into(),
        BasicErrorResponseType::UnauthorizedClient => "unauthorized_client".into(),
        BasicErrorResponseType::UnsupportedGrantType => "unsupported_grant_type".into(),
        BasicErrorResponseType::Extension(s) => s.clone(),
    }
}
