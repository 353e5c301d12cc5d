//! The router and [`Relay::start`], which serves it on a socket.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::error_handling::HandleErrorLayer;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{BoxError, Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::error::Overloaded;
use tower::timeout::error::Elapsed;

use crate::config::RelayConfig;
use crate::connection::{CutoffListener, serve};
use crate::error::RelayError;
use crate::metrics::{Metrics, RejectReason, render_gauge};
use crate::state::RelayState;
use crate::{
    colleague_routes, console, contacts_api, intake, oauth, routing_routes, seat_api, stream,
    team_routes, wrapup_api,
};

/// The relay's routes. The hook path is checked inside the handlers (in constant time), so
/// that a wrong hook is indistinguishable from any other unknown path.
///
/// Limits: the sign-in long poll is capped at `oauth_polls_max` waiting at once, and a poll
/// past the cap is answered 503 at once (load shedding) rather than queued; the hook's routes
/// (intake, landing) must finish within `request_timeout`, reading the body included, or get
/// 408. The stream's caps live in [`crate::access`], since they last as long as its body.
pub fn router(state: RelayState) -> Router {
    let counters = Arc::clone(&state.metrics);
    let shed = move |err: BoxError| {
        let counters = Arc::clone(&counters);
        async move { limit_refusal(&counters, &err) }
    };
    let sign_in_polls = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(shed.clone()))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::with_semaphore(Arc::clone(
            &state.oauth_polls,
        )));
    let timed = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(shed))
        .timeout(state.config.request_timeout);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/readyz", get(team_routes::readyz))
        .route("/events/stream", get(stream::stream_events))
        .route(
            "/team/join",
            post(team_routes::join)
                .fallback(not_found)
                .layer(timed.clone()),
        )
        .route("/team/me", get(team_routes::me))
        .route("/team/dial", post(seat_api::dial).fallback(not_found))
        .route(
            "/team/transfer",
            post(seat_api::transfer).fallback(not_found),
        )
        .route("/team/hangup", post(seat_api::hang_up).fallback(not_found))
        .route("/team/parking", put(seat_api::parking).fallback(not_found))
        .route("/team/calls", get(seat_api::calls))
        .route("/team/directory", get(seat_api::directory))
        .route("/team/presence", get(seat_api::presence))
        .route("/team/callbacks", get(seat_api::callbacks))
        .route("/team/colleagues", get(colleague_routes::colleagues))
        .route(
            "/team/availability",
            put(colleague_routes::set_availability).fallback(not_found),
        )
        .route(
            "/team/wrapups",
            put(wrapup_api::save)
                .get(wrapup_api::list)
                .fallback(not_found),
        )
        .route(
            "/team/tags",
            get(wrapup_api::tags)
                .put(wrapup_api::set_tags)
                .fallback(not_found),
        )
        .route(
            "/team/contacts",
            get(contacts_api::changes)
                .post(contacts_api::add)
                .fallback(not_found),
        )
        .route(
            "/team/contacts/{id}",
            put(contacts_api::edit)
                .delete(contacts_api::delete)
                .fallback(not_found),
        )
        .route(
            "/team/routing",
            get(routing_routes::routing).put(routing_routes::set_routing),
        )
        .route("/team/routing/journal", get(routing_routes::journal))
        .route(
            "/oauth/code/{state}",
            get(oauth::fetch_code).layer(sign_in_polls),
        )
        // Any other method on the hook paths is an unknown path too: no 405 that would confirm
        // a guessed hook's shape.
        .route(
            "/{hook}",
            get(oauth::landing).fallback(not_found).layer(timed.clone()),
        )
        .route(
            "/{hook}/events",
            post(intake::receive).fallback(not_found).layer(timed),
        )
        // The admin console: its pages, and its API behind the session (`console::routes`).
        .merge(console::routes(&state))
        .fallback(not_found)
        .with_state(state)
}

/// The answer when a limit layer refused a request.
fn limit_refusal(metrics: &Metrics, err: &BoxError) -> Response {
    let (reason, status, message) = if err.is::<Overloaded>() {
        (
            RejectReason::Overloaded,
            StatusCode::SERVICE_UNAVAILABLE,
            "too many sign-in polls are waiting at the relay (oauth_polls_max); try again shortly",
        )
    } else if err.is::<Elapsed>() {
        (
            RejectReason::TimedOut,
            StatusCode::REQUEST_TIMEOUT,
            "the request took too long (request_timeout_ms), reading its body included",
        )
    } else {
        tracing::error!(error = %err, "a request failed inside the relay");
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": "the relay failed on this request" })),
        )
            .into_response();
    };
    metrics.rejected(reason);
    let mut response = (status, Json(json!({ "error": message }))).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    } else {
        // The connection may still hold the rest of a body nobody will read.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn metrics(State(state): State<RelayState>) -> Response {
    let store_bytes = state.store.size_bytes().await.ok();
    let mut text = state.metrics.render(store_bytes);
    let polls_free = state.oauth_polls.available_permits();
    render_gauge(
        &mut text,
        "trubka_relay_oauth_polls_waiting",
        "Sign-in long polls waiting now.",
        u64::try_from(state.config.oauth_polls_max.saturating_sub(polls_free)).unwrap_or(0),
    );
    render_gauge(
        &mut text,
        "trubka_relay_streams_open",
        "Event streams open now, all keys together.",
        u64::try_from(state.access.open_streams()).unwrap_or(0),
    );
    let mut response = text.into_response();
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
        let state = RelayState::open_configured(config).await?;
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
        // Before serving: a call in progress across the restart still reaches the operator it
        // rang (see `audience`). Without it the relay still serves; only such calls miss out.
        match state.fanout.legs().recall(&*state.store).await {
            Ok(read) => tracing::debug!(read, "recalled the legs' audiences"),
            Err(err) => {
                tracing::warn!(error = %err, "the legs' audiences could not be recalled from the store");
            }
        }

        let pruner = tokio::spawn(run_retention(state.clone()));
        let counters = tokio::spawn(rebuild_today(state.clone()));
        let key_watch = tokio::spawn(Arc::clone(&state.access).watch(state.config.keys_recheck));
        state.integration.set_redirect_uri(redirect_uri.clone());
        let refresher = tokio::spawn(Arc::clone(&state.integration).run(shutdown.clone()));
        let additions = state
            .additions_rx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let feed = additions.map(|additions| {
            tokio::spawn(crate::team_feed::run(
                additions,
                Arc::clone(&state.store),
                Arc::clone(&state.directory),
                shutdown.clone(),
            ))
        });
        let learner = tokio::spawn(crate::seat_api::learn_workplaces(state.clone()));
        let phonebook = tokio::spawn(
            Arc::clone(&state.phonebook).run(Arc::clone(&state.store), shutdown.clone()),
        );
        let decider = tokio::spawn(crate::routing::run(
            Arc::clone(&state.routing),
            shutdown.clone(),
        ));
        let server = tokio::spawn(serve(
            CutoffListener::new(listener),
            router(state.clone()),
            state.config.header_read_timeout,
            shutdown.clone(),
        ));
        tracing::info!(%local_addr, "relay listening");
        Ok(RelayHandle {
            local_addr,
            redirect_uri: RedirectUri(redirect_uri),
            stream_url,
            state,
            shutdown,
            server: Some(server),
            pruner,
            counters,
            key_watch,
            refresher,
            learner,
            phonebook,
            decider,
            feed,
        })
    }
}

/// The wallboard's counts of the legs that ended today before the relay started.
async fn rebuild_today(state: RelayState) {
    let workplaces = match state.team.seats().await {
        Ok(seats) => seats
            .into_iter()
            .map(|seat| seat.profile.workplace)
            .collect::<Vec<_>>(),
        Err(err) => {
            tracing::warn!(error = %err, "the wallboard's day could not be rebuilt (seats)");
            return;
        }
    };
    let today = std::sync::Arc::clone(&state.console.today);
    tokio::select! {
        () = state.shutdown.cancelled() => {}
        rebuilt = today.rebuild(&*state.store, &workplaces) => match rebuilt {
            Ok(read) => {
                tracing::debug!(read, "the wallboard's day was rebuilt");
                today.changed();
            }
            Err(err) => tracing::warn!(error = %err, "the wallboard's day could not be rebuilt"),
        },
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
        match state.prune_audit_once().await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "retention removed old audit entries"),
            Err(err) => tracing::warn!(error = %err, "audit retention failed; it will run again"),
        }
        match crate::wrapup_api::prune_old_wrapups(&state).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "retention removed old wrap-ups"),
            Err(err) => tracing::warn!(error = %err, "wrap-up retention failed; it will run again"),
        }
        match crate::console::session::prune_expired(&state).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "retention removed expired console sessions"),
            Err(err) => {
                tracing::warn!(error = %err, "console session retention failed; it will run again")
            }
        }
        match state.prune_routing_journal_once().await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "retention removed old routing decisions"),
            Err(err) => {
                tracing::warn!(error = %err, "routing journal retention failed; it will run again")
            }
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
    server: Option<JoinHandle<()>>,
    pruner: JoinHandle<()>,
    counters: JoinHandle<()>,
    key_watch: JoinHandle<()>,
    refresher: JoinHandle<()>,
    learner: JoinHandle<()>,
    phonebook: JoinHandle<()>,
    decider: JoinHandle<()>,
    feed: Option<JoinHandle<()>>,
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

    /// Stops accepting, ends streams and long polls, and waits for open requests and for the
    /// background work that writes to the store to finish.
    ///
    /// A token refresh under way is let finish rather than cut: МТТ may already have rotated the
    /// refresh token, and a cut refresh would lose the new one with the integration. Its save
    /// lands before this returns, so whoever opens the store next (`team rotate-key`, the next
    /// start) reads the last tokens and nothing writes after the relay said it had stopped.
    pub async fn shutdown(mut self) -> Result<(), RelayError> {
        self.shutdown.cancel();
        self.state.fanout.disconnect_all();
        let served = match self.server.take() {
            Some(server) => server
                .await
                .map_err(|join| RelayError::Serve(std::io::Error::other(join))),
            None => Ok(()),
        };
        self.key_watch.abort();
        // Each ends at the cancellation once its current step is done; a panic in one was
        // already reported by the runtime and leaves nothing to wait for.
        let _ = (&mut self.refresher).await;
        let _ = (&mut self.learner).await;
        let _ = (&mut self.pruner).await;
        let _ = (&mut self.counters).await;
        let _ = (&mut self.phonebook).await;
        let _ = (&mut self.decider).await;
        if let Some(feed) = self.feed.as_mut() {
            let _ = feed.await;
        }
        served
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.state.fanout.disconnect_all();
        self.pruner.abort();
        self.counters.abort();
        self.key_watch.abort();
        self.refresher.abort();
        self.learner.abort();
        self.phonebook.abort();
        self.decider.abort();
        if let Some(feed) = &self.feed {
            feed.abort();
        }
    }
}
