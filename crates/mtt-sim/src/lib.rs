//! `mtt-sim` stands in for MTT Business — its OAuth server, its Open API and its cloud PBX —
//! because nobody on the project can test against the real PBX. It must behave as the API
//! document describes and send notifications in exactly the document's JSON shapes, so that a
//! client tested against it works against MTT. It must never pretend to be MTT to a person (it
//! says it is a simulator wherever it shows itself), never listen beyond loopback unless told
//! to, and never share its wire types with the client crate (a shared misreading would hide).
//!
//! The flow: [`Sim::start`] opens three HTTP servers on loopback — OAuth
//! (`/oauth/authorize`, `/oauth/token`), Open API (`/externalNumbersInfo`, `/makeCall`, …,
//! and `/records/<id>.mp3`) and control (`/control/…`) — and returns a [`SimHandle`] with
//! their base URLs. A client signs in through the OAuth server, calls the API with the bearer
//! token, and receives notifications as POSTs to `<redirect URI>/events` (or
//! `<webhook_url>/events`). Calls are driven by makeCall, by the control API (an incoming call,
//! a party answering or hanging up) and by the traffic generator; each call runs as a small
//! state machine whose every transition is one notification.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mtt_sim::SimError> {
//! let mut config = mtt_sim::SimConfig::default();
//! config.auto_approve = true;
//! config.webhook_url = Some("http://127.0.0.1:9000/hook".into());
//! config.timings.parking_window_ms = 50; // the real PBX waits 5 s
//! let sim = mtt_sim::Sim::start(config).await?;
//! println!("OAuth at {}, API at {}", sim.oauth_url(), sim.api_url());
//! // An incoming call; notifications go to http://127.0.0.1:9000/hook/events.
//! reqwest::Client::new()
//!     .post(format!("{}/incoming", sim.control_url()))
//!     .json(&serde_json::json!({"from": "79161234567", "to": "78005560251"}))
//!     .send()
//!     .await
//!     .ok();
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! What the document does not say, and what the simulator chose instead:
//! - **Error bodies.** The document shows no error answer. OAuth errors follow RFC 6749
//!   (`{"error": "invalid_grant", "error_description": "…"}`, 400; `invalid_client`, 401).
//!   Open API and control errors are `{"error": {"code": "…", "message": "…"}}` with 401
//!   (missing, unknown or expired token), 400 (malformed body), 404 (unknown leg, tag or
//!   transport id), 409 (a leg in the wrong state) or 422 (a terminal as makeCall's callerId,
//!   numbers outside the account). MTT's real shapes may differ; clients must keep the status
//!   and the raw body of any error.
//! - **makeCall's id.** The document's makeCall answer id has a different format from the
//!   notifications' leg ids, so by default the simulator answers an id that matches no leg
//!   ([`SimConfig::make_call_id_is_leg_id`] switches that).
//! - **Parking legs** end with `finished` (duration 0, reason "Parking timeout", "Parking
//!   terminated by API" or "Parking transferred by API"); the main leg's `trying` follows.
//! - **Ringing** is announced on the main leg: one `showing` per workplace rung (the workplace
//!   as `callee`), `hiding` for each when another answers or ringing stops.
//! - **Click-to-call phases.** A makeCall leg is `trying` while the operator's own phone rings,
//!   `showing` once the operator has picked up and the number is being called, and `connected`
//!   when the number answers (the project's ruling; the document lists the states but not when
//!   each comes on this leg).
//! - **Reasons**: `Originate leg disconnected` (A hung up, the document's example), `Terminate
//!   leg disconnected` (B hung up), `No answer` (480), `Caller hung up` (487), `Originate leg
//!   no answer` (408, the operator did not pick up a makeCall), `Busy here` (486), `Terminated
//!   by API`. `reasonCode` is `null` for normal clearing and a SIP-like number otherwise.
//! - **Busy workplaces.** The document does not say what the PBX does with a call for a
//!   workplace already on one (a workplace may have several terminals, phones may have call
//!   waiting). By default it rings anyway; with [`SimConfig::busy_workplace`] set to
//!   `next_in_routing` a workplace talking on a call (or whose makeCall it has picked up) is
//!   passed by: the rest of the routing rings, a call with nobody free is missed with `Busy
//!   here` (486), a transfer to it goes on as if it rang unanswered. The demo runs this way.
//! - **Retries**: none by default; optional retry with backoff ([`config::RetryPolicy`]).
//! - **Refresh tokens.** The document allows a refresh to rotate the refresh token or not. With
//!   rotation (the default) each refresh issues a new refresh token with its own three days
//!   from that moment, and the one used is refused from then on (`invalid_grant`, 400, "already
//!   used and has been replaced"). Without rotation the same token keeps working until three
//!   days from its *first* issue ("fixed from issue"), then `invalid_grant` ("expired"); the
//!   answer leaves `refresh_token` out or repeats it ([`SimConfig::repeat_kept_refresh_token`]).
//!   Access tokens already issued stay valid after a rotation until their own expiry.
//! - **Simulated time.** [`Sim::start`] runs on a [`ScaledClock`]
//!   ([`SimConfig::clock_scale`], `PUT /control/clock`): every simulated time — token
//!   lifetimes, ring and parking windows — runs that much faster than real time, while
//!   `expires_in` stays in simulated seconds (7200, as documented). A client that measures
//!   lifetimes with the wall clock must schedule its refreshes on the simulated clock in such a
//!   run; injected latency and webhook timeouts stay real.

mod account;
mod api;
mod api_error;
mod auth_store;
mod calls;
mod clock;
pub mod config;
mod control;
mod control_time;
mod error;
mod fault;
mod ids;
mod leg_requests;
mod oauth;
mod pbx;
mod records;
mod state;
mod sync;
mod traffic;
mod webhook;
pub mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use account::{Account, Addressee};
pub use api::api_router;
pub use api_error::ApiError;
pub use calls::{CallSnapshot, LegView, Target};
pub use clock::{Clock, ClockRefusal, MAX_SCALE, ManualClock, ScaledClock, Sleep, SystemClock};
pub use config::{BusyWorkplace, OAuthSettings, Secret, SimConfig, Timings, TrafficConfig};
pub use control::{
    CodeRequest, IncomingRequest, OutgoingRequest, PartyAction, PlanOverrides, TokenRequest,
    WebhookSettings, control_router,
};
pub use control_time::ClockChange;
pub use error::SimError;
pub use oauth::{SCOPE, oauth_router};
pub use pbx::{CallPlan, StartedCall};
pub use records::RECORDING_MP3;
pub use state::{SimState, SimUrls};
pub use webhook::{DeliveryRecord, DeliveryStats};

/// Every route of the simulator in one router (OAuth, Open API, records and control do not
/// overlap), for tests that drive it without a socket. [`Sim::start`] serves the three parts
/// on separate listeners instead, so a client that sends an API call to the OAuth host fails
/// as it would against MTT.
pub fn router(state: SimState) -> Router {
    oauth_router(state.clone())
        .merge(api_router(state.clone()))
        .merge(control_router(state))
}

/// The simulator, started with [`Sim::start`].
#[derive(Debug)]
pub struct Sim;

impl Sim {
    /// Starts the servers on a [`ScaledClock`] that starts at the wall clock's time and runs
    /// [`SimConfig::clock_scale`] times as fast (1 by default: the wall clock's pace).
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        let clock = ScaledClock::new(chrono::Utc::now(), config.clock_scale)
            .map_err(|e| SimError::Config(e.0))?;
        Self::start_with_clock(config, Arc::new(clock)).await
    }

    /// Starts the servers with the given clock (a [`ManualClock`] in tests that step time);
    /// [`SimConfig::clock_scale`] is then not used.
    pub async fn start_with_clock(
        config: SimConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<SimHandle, SimError> {
        config.validate()?;
        let listen = config.listen;
        let addr_for = |offset: u16| {
            let port = if listen.port() == 0 {
                0
            } else {
                listen.port().saturating_add(offset)
            };
            SocketAddr::new(listen.ip(), port)
        };
        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| SimError::Bind { addr, source })
        };
        let oauth_listener = bind(addr_for(0)).await?;
        let api_listener = bind(addr_for(1)).await?;
        let control_listener = bind(addr_for(2)).await?;
        let base = |l: &TcpListener| -> Result<String, SimError> {
            let addr = l.local_addr().map_err(|source| SimError::Bind {
                addr: listen,
                source,
            })?;
            Ok(format!("http://{addr}"))
        };
        let urls = SimUrls {
            oauth: base(&oauth_listener)?,
            api: base(&api_listener)?,
            control: format!("{}/control", base(&control_listener)?),
        };
        let traffic = config.traffic;
        let state = SimState::new(config, clock, urls.clone())?;
        let shutdown = state.0.shutdown.clone();
        let serve = |listener: TcpListener, router: Router| {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move { shutdown.cancelled().await })
                    .await
            })
        };
        let servers = vec![
            serve(oauth_listener, oauth_router(state.clone())),
            serve(api_listener, api_router(state.clone())),
            serve(control_listener, control_router(state.clone())),
        ];
        if let Some(traffic) = traffic {
            traffic::start(&state, traffic);
        }
        tracing::info!(oauth = %urls.oauth, api = %urls.api, control = %urls.control, "MTT simulator started (this is a simulator, not MTT)");
        Ok(SimHandle {
            state,
            urls,
            servers,
        })
    }
}

/// A running simulator. Dropping it stops the servers and every call; [`SimHandle::shutdown`]
/// also waits for the servers to finish.
#[derive(Debug)]
pub struct SimHandle {
    state: SimState,
    urls: SimUrls,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
}

impl SimHandle {
    /// Base URL of the OAuth server (`{oauth_url}/oauth/token`).
    pub fn oauth_url(&self) -> &str {
        &self.urls.oauth
    }

    /// Base URL of the Open API (`{api_url}/makeCall`).
    pub fn api_url(&self) -> &str {
        &self.urls.api
    }

    /// Base URL of the control API (`{control_url}/incoming`).
    pub fn control_url(&self) -> &str {
        &self.urls.control
    }

    /// Where notifications are POSTed now (`<base>/events`).
    pub fn webhook_target(&self) -> String {
        self.state.0.webhooks.target()
    }

    /// The shared state, for driving the simulator from Rust.
    pub fn state(&self) -> &SimState {
        &self.state
    }

    /// Starts a generated call at once (the traffic generator's mix), for benchmarks and demos
    /// that pace calls themselves.
    pub fn generate_call(&self, time_scale: f64) {
        traffic::start_one(&self.state, time_scale);
    }

    /// Stops the servers and every call, and waits for the servers to finish.
    pub async fn shutdown(mut self) {
        self.state.stop();
        for server in self.servers.drain(..) {
            match server.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "a simulator server stopped with an error")
                }
                Err(e) => tracing::warn!(error = %e, "a simulator server task failed"),
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.state.stop();
    }
}
