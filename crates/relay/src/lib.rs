//! The relay: the small public server between the МТТ PBX and Trubka's desktop apps.
//!
//! The PBX posts notifications only to `<redirect_uri>/events` over public HTTPS, and the same
//! Redirect URI receives the browser after OAuth sign-in; a desktop app has neither. The relay
//! takes both in, keeps every notification durably, numbers it, and streams it to the apps
//! (Server-Sent Events, resumable with `Last-Event-ID`); it hands each OAuth code to the app
//! that owns its `state`. It must **lose nothing**: a notification is answered 2xx only after
//! its commit, and a client can always resume exactly where it stopped. It must **leak
//! nothing**: the hook path, client keys and OAuth codes are secrets that print as
//! `[redacted]` and are never logged, and the stream is for clients with a key only. In
//! personal mode it never sees the integration's client secret or tokens; in team mode it holds
//! them itself ([`integration`]), sealed at rest with a key kept apart from the database
//! ([`sealing`]), and seats join with one-time invites ([`seats`], the `team-api` wire types).
//!
//! The flow, with the routes of [`router`]:
//! - `POST /<hook>/events`: intake checks the body (size, UTF-8, nesting, JSON), hands it to
//!   the [`store::EventStore`], which group-commits it and only then answers; the handler
//!   replies `{"id":…,"duplicate":…}` (only a call leg's notification repeated within the
//!   duplicate window is a duplicate).
//! - After each commit the store announces the events to the fan-out, which offers them to
//!   every stream client's bounded queue.
//! - `GET /events/stream` (Bearer client key): `retry:`, `event: epoch` (the store's history),
//!   an optional `resync`, the backlog from the store after the resume point, then live events,
//!   each with `id: <epoch>:<id>`; a heartbeat comment when quiet. `Last-Event-ID` is
//!   `<epoch>:<id>` or a bare `<id>`; another epoch's is resynced. Keys are checked against a
//!   cache that follows the store's keys generation ([`access`]); a key holds at most
//!   `streams_per_key` streams.
//! - `GET /<hook>?code&state` keeps the sign-in; `GET /oauth/code/<state>` returns it once
//!   (200), answers 404 `pending` while nothing has landed (ask again) and 410 `taken` or
//!   `expired` afterwards (final); at most `oauth_polls_max` polls wait at once (the next gets
//!   503 at once).
//! - `POST /team/join` (`{"code"}`, rate-limited, 4 KiB at most): an invite's code for a seat
//!   credential and the seat's profile; `GET /team/me` (Bearer seat credential): the profile.
//!   A seat credential also opens `/events/stream`; in team mode client keys are refused there
//!   unless `allow_client_keys`. A landing whose `state` the relay started (`team connect`) is
//!   exchanged by the relay itself instead of handed off.
//! - The team phonebook ([`team_phonebook`], `team_api::phonebook`): `GET /team/contacts?since=`
//!   for every seat, `POST`, `PUT`, `DELETE /team/contacts…` for supervisors and admins
//!   (audited); each change is announced on the stream as a `phonebook` event.
//! - `GET /healthz` (liveness), `GET /readyz` (the integration's state, 200 or 503),
//!   `GET /metrics` (Prometheus text).
//!
//! Every connection must send its request headers within `header_read_timeout`, idle
//! keep-alive connections included ([`connection`]); intake and the landing must finish
//! within `request_timeout`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), relay::RelayError> {
//! use relay::{HookPath, Relay, RelayConfig};
//!
//! let config = RelayConfig::new(HookPath::generate(), "relay.sqlite3".into());
//! let relay = Relay::start(config).await?;
//! // Give the PBX `relay.redirect_uri()`, and the app `relay.stream_url()` and a client key.
//! println!("streaming at {}", relay.stream_url());
//! relay.shutdown().await?;
//! # Ok(())
//! # }
//! ```

pub mod access;
pub mod additions;
pub mod audience;
pub mod audit_export;
pub mod availability;
pub mod calls;
mod colleague_routes;
pub mod config;
pub mod connection;
pub mod console;
pub mod console_state;
mod contacts_api;
pub mod contacts_file;
pub mod directory;
pub mod error;
pub mod fanout;
mod handoff;
mod intake;
pub mod integration;
pub mod keys;
pub mod metrics;
pub mod oauth;
pub mod rate;
pub mod routing;
mod routing_routes;
pub mod sealing;
mod seat_api;
pub mod seat_limits;
pub mod seat_rules;
pub mod seats;
mod server;
mod state;
pub mod store;
mod stream;
pub mod team_clock;
pub mod team_feed;
pub mod team_phonebook;
mod team_routes;
mod wrapup_api;

pub use config::{ConfigFile, HookPath, RelayConfig};
pub use error::RelayError;
pub use keys::ClientKey;
pub use server::{RedirectUri, Relay, RelayHandle, router};
pub use state::RelayState;
