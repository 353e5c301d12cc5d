//! A stand-in for MTT's two hosts on 127.0.0.1 that records every request exactly as it arrived
//! and answers with whatever the test scripts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use mtt_api::{
    AccessToken, Authorizer, ClientSecret, Endpoints, HttpConfig, MemoryTokenStore, OAuthConfig,
    Pbx, RefreshToken, Session, TokenSet, TokenStore,
};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(&self.body).unwrap()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Reply {
            status,
            content_type: "application/json",
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn ok(body: impl Into<String>) -> Self {
        Self::json(200, body)
    }

    pub fn with(status: u16, content_type: &'static str, body: impl Into<String>) -> Self {
        Reply {
            status,
            content_type,
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Script = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

#[derive(Clone)]
struct MockState {
    seen: Arc<Mutex<Vec<Seen>>>,
    count: Arc<AtomicUsize>,
    script: Arc<Script>,
}

/// The running stand-in.
pub struct Mock {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    _server: tokio::task::JoinHandle<()>,
}

impl Mock {
    /// Starts a server whose answers come from `script(request, index of this request)`.
    pub async fn start(script: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Mock {
        let state = MockState {
            seen: Arc::default(),
            count: Arc::default(),
            script: Arc::new(script),
        };
        let seen = state.seen.clone();
        let app = Router::new().fallback(handle).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Mock {
            base: format!("http://{addr}"),
            seen,
            _server: server,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }

    pub fn endpoints(&self) -> Endpoints {
        Endpoints::new(&self.base, &self.base).unwrap()
    }

    pub fn oauth_config(&self) -> OAuthConfig {
        OAuthConfig {
            client_id: CLIENT_ID.into(),
            client_secret: ClientSecret::new(CLIENT_SECRET),
            redirect_uri: REDIRECT_URI.into(),
            endpoints: self.endpoints(),
            pkce: false,
        }
    }

    pub fn authorizer(&self, http_config: HttpConfig) -> Authorizer {
        let http = mtt_api::http_client(http_config).unwrap();
        Authorizer::new(self.oauth_config(), http, http_config).unwrap()
    }

    /// A session holding `tokens` and an API client over it.
    pub fn client(&self, tokens: Option<TokenSet>, http_config: HttpConfig) -> Client {
        let store: Arc<MemoryTokenStore> = Arc::new(match tokens {
            Some(t) => MemoryTokenStore::with(t),
            None => MemoryTokenStore::new(),
        });
        let session = Arc::new(Session::new(self.authorizer(http_config), store.clone()).unwrap());
        let http = mtt_api::http_client(http_config).unwrap();
        let pbx = Pbx::new(&self.endpoints(), http, http_config, session.clone());
        Client {
            store,
            session,
            pbx,
        }
    }
}

pub struct Client {
    pub store: Arc<MemoryTokenStore>,
    pub session: Arc<Session>,
    pub pbx: Pbx,
}

impl Client {
    pub fn stored(&self) -> Option<TokenSet> {
        self.store.load().unwrap()
    }
}

pub const CLIENT_ID: &str = "23c9ddf7-caec-8caa-88e6-b8f758ce0186";
pub const CLIENT_SECRET: &str = "LMZkfataV6EZFergkB36im";
pub const REDIRECT_URI: &str = "https://oauth.myanycrm.ru";

/// A token set valid for two hours, with a refresh token valid for three days.
pub fn fresh_tokens(access: &str, refresh: &str) -> TokenSet {
    let now = chrono::Utc::now();
    TokenSet {
        access_token: AccessToken::new(access),
        access_expires_at: now + chrono::Duration::hours(2),
        refresh_token: Some(RefreshToken::new(refresh)),
        refresh_expires_at: Some(now + chrono::Duration::days(3)),
        scope: None,
    }
}

/// A token set whose access token has expired but whose refresh token is good.
pub fn expired_tokens(access: &str, refresh: &str) -> TokenSet {
    let mut t = fresh_tokens(access, refresh);
    t.access_expires_at = chrono::Utc::now() - chrono::Duration::minutes(1);
    t
}

pub fn token_answer(access: &str, refresh: Option<&str>) -> String {
    let mut v = serde_json::json!({
        "access_token": access,
        "expires_in": 7200,
        "scope": "https://mtt.ru/auth.tokens.readwrite",
        "token_type": "Bearer",
    });
    if let Some(r) = refresh {
        v["refresh_token"] = r.into();
    }
    v.to_string()
}

async fn handle(
    State(state): State<MockState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body,
    };
    let index = state.count.fetch_add(1, Ordering::SeqCst);
    state.seen.lock().unwrap().push(seen.clone());
    let reply = (state.script)(&seen, index);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    (
        StatusCode::from_u16(reply.status).unwrap(),
        [("content-type", reply.content_type)],
        reply.body,
    )
        .into_response()
}
