//! The router and [`Relay::start`], which serves it on a socket.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::RelayConfig;
use crate::connection::{CutoffListener, Peer};
use crate::error::RelayError;
use crate::metrics::RejectReason;
use crate::state::RelayState;
use crate::{intake, oauth, stream};

/// The relay's routes. The hook path is checked inside the handlers (in constant time), so
/// that a wrong hook is indistinguishable from any other unknown path.
pub fn router(state: RelayState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/events/stream", get(stream::stream_events))
        .route("/oauth/code/{state}", get(oauth::fetch_code))
        // Any other method on the hook paths is an unknown path too: no 405 that would confirm
        // a guessed hook's shape.
        .route("/{hook}", get(oauth::landing).fallback(not_found))
        .route("/{hook}/events", post(intake::receive).fallback(not_found))
        .fallback(not_found)
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn metrics(State(state): State<RelayState>) -> Response {
    let store_bytes = state.store.size_bytes().await.ok();
    let mut response = state.metrics.render(store_bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

async fn not_found(State(state): State<RelayState>, method: Method) -> Response {
    if method == Method::POST {
        state.metrics.rejected(RejectReason::UnknownPath);
    }
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// The relay as a server.
#[derive(Debug)]
pub struct Relay;

impl Relay {
    /// Opens the store, binds `config.listen`, and serves until the handle is shut down or
    /// dropped. Retention runs in the background.
    pub async fn start(config: RelayConfig) -> Result<RelayHandle, RelayError> {
        let state = RelayState::open(config)?;
        Self::start_with_state(state).await
    }

    /// Serves prepared state (for another store, or to keep a handle on the state).
    pub async fn start_with_state(state: RelayState) -> Result<RelayHandle, RelayError> {
        let listen = state.config.listen;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| RelayError::Bind {
                addr: listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| RelayError::Bind {
            addr: listen,
            source,
        })?;
        let base = state
            .config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local_addr}"));
        let redirect_uri = format!("{base}/{}", state.config.hook.expose_secret());
        let stream_url = format!("{base}/events/stream");
        let shutdown = state.shutdown.clone();

        let pruner = tokio::spawn(run_retention(state.clone()));
        let app = router(state.clone()).into_make_service_with_connect_info::<Peer>();
        let server = tokio::spawn(
            axum::serve(CutoffListener::new(listener), app)
                .with_graceful_shutdown(shutdown.clone().cancelled_owned())
                .into_future(),
        );
        tracing::info!(%local_addr, "relay listening");
        Ok(RelayHandle {
            local_addr,
            redirect_uri: RedirectUri(redirect_uri),
            stream_url,
            state,
            shutdown,
            server: Some(server),
            pruner,
        })
    }
}

async fn run_retention(state: RelayState) {
    let mut ticks = tokio::time::interval(state.config.prune_interval);
    loop {
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match state.prune_once().await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "retention removed old events"),
            Err(err) => tracing::warn!(error = %err, "retention failed; it will run again"),
        }
    }
}

/// The Redirect URI to register in the МТТ cabinet. It contains the hook, so it prints as
/// `[redacted]` in logs; [`RedirectUri::expose_secret`] gives the text.
#[derive(Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// The URI itself, to show the operator or to hand to the OAuth client. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RedirectUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedirectUri([redacted])")
    }
}

/// A running relay. Dropping it stops the server; [`RelayHandle::shutdown`] also waits for it.
#[derive(Debug)]
pub struct RelayHandle {
    local_addr: SocketAddr,
    redirect_uri: RedirectUri,
    stream_url: String,
    state: RelayState,
    shutdown: CancellationToken,
    server: Option<JoinHandle<std::io::Result<()>>>,
    pruner: JoinHandle<()>,
}

impl RelayHandle {
    /// The address the relay listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The Redirect URI (`<public url>/<hook>`); notifications go to `<this>/events`.
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    /// The event stream's URL.
    pub fn stream_url(&self) -> &str {
        &self.stream_url
    }

    /// The running relay's state (its store, metrics and configuration).
    pub fn state(&self) -> &RelayState {
        &self.state
    }

    /// Stops accepting, ends streams and long polls, and waits for open requests to finish.
    pub async fn shutdown(mut self) -> Result<(), RelayError> {
        self.shutdown.cancel();
        self.state.fanout.disconnect_all();
        match self.server.take() {
            Some(server) => match server.await {
                Ok(result) => result.map_err(RelayError::Serve),
                Err(join) => Err(RelayError::Serve(std::io::Error::other(join))),
            },
            None => Ok(()),
        }
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.state.fanout.disconnect_all();
        self.pruner.abort();
    }
}
