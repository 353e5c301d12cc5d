//! The control routes about time and the OAuth server: the simulated clock, the OAuth server's
//! lifetimes and refresh-token mode, and the client's secret. Apart from `control.rs` so that
//! neither grows past a screenful of routes; `control_router` merges these.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /control/clock` | `{now, scale}`: simulated time (RFC 3339) and simulated seconds per real second (`null` for a clock that is not scaled) |
//! | `PUT /control/clock` | `{scale?, advance_ms?}`: run faster or slower from now on, and/or jump forward; answers as `GET` |
//! | `GET /control/oauth` | the [`OAuthSettings`] in force and `refreshes: {served, refused}` |
//! | `PUT /control/oauth` | a patch of [`OAuthSettings`] (unknown keys refused); applies to what is issued from then on |
//! | `PUT /control/client_secret` | `{client_secret}`: the cabinet issues the integration a new secret; the token endpoint refuses the old one (`invalid_client`) from then on, tokens already issued stay valid |

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;
use crate::auth_store::RefreshCounts;
use crate::config::{OAuthSettings, Secret};
use crate::state::SimState;
use crate::sync::lock;

/// The routes of this module, on the control server.
pub(crate) fn time_routes(state: SimState) -> Router {
    Router::new()
        .route("/control/clock", get(get_clock).put(put_clock))
        .route("/control/oauth", get(get_oauth).put(put_oauth))
        .route("/control/client_secret", put(put_client_secret))
        .with_state(state)
}

type Answer = Result<Response, ApiError>;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}

fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| bad(format!("the body is not as expected: {e}")))
}

#[derive(Serialize)]
struct ClockView {
    now: DateTime<Utc>,
    scale: Option<f64>,
}

fn clock_view(sim: &SimState) -> Answer {
    Ok(Json(ClockView {
        now: sim.clock().now(),
        scale: sim.clock().scale(),
    })
    .into_response())
}

async fn get_clock(State(sim): State<SimState>) -> Answer {
    clock_view(&sim)
}

/// `PUT /control/clock`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClockChange {
    /// Simulated seconds per real second from now on.
    #[serde(default)]
    pub scale: Option<f64>,
    /// Jump simulated time forward by this many milliseconds (timers due by then fire).
    #[serde(default)]
    pub advance_ms: Option<u64>,
}

async fn put_clock(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let change: ClockChange = body(&bytes)?;
    let refused = |e: crate::clock::ClockRefusal| {
        ApiError::new(StatusCode::CONFLICT, "clock_refused", e.to_string())
    };
    if let Some(scale) = change.scale {
        // Checked before anything changes, so a bad scale with a jump does neither.
        crate::clock::check_scale(scale).map_err(|e| bad(e.to_string()))?;
    }
    if let Some(scale) = change.scale {
        sim.clock().set_scale(scale).map_err(refused)?;
    }
    if let Some(ms) = change.advance_ms {
        sim.clock()
            .advance(Duration::from_millis(ms))
            .map_err(refused)?;
    }
    clock_view(&sim)
}

#[derive(Serialize)]
struct OAuthView {
    #[serde(flatten)]
    settings: OAuthSettings,
    refreshes: RefreshCounts,
    /// Token requests received and not answered yet (see the `token` fault's latency).
    open_token_requests: u64,
}

fn oauth_view(sim: &SimState) -> Answer {
    let (refreshes, open_token_requests) = {
        let auth = lock(&sim.0.auth);
        (auth.refresh_counts(), auth.open_token_requests())
    };
    Ok(Json(OAuthView {
        settings: sim.oauth_settings(),
        refreshes,
        open_token_requests,
    })
    .into_response())
}

async fn get_oauth(State(sim): State<SimState>) -> Answer {
    oauth_view(&sim)
}

/// Merges the given keys into the settings; unknown keys and zero lifetimes are refused.
async fn put_oauth(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let patch: serde_json::Map<String, serde_json::Value> = body(&bytes)?;
    let mut current = serde_json::to_value(sim.oauth_settings())
        .map_err(|e| bad(format!("the settings could not be read: {e}")))?;
    if let Some(object) = current.as_object_mut() {
        for (k, v) in patch {
            let fits = match object.get(&k) {
                None => return Err(bad(format!("unknown key {k:?} in the OAuth settings"))),
                Some(serde_json::Value::Bool(_)) => v.is_boolean(),
                Some(_) => v.is_u64(),
            };
            if !fits {
                let kind = if k.ends_with("_ms") {
                    "a whole number of milliseconds"
                } else {
                    "true or false"
                };
                return Err(bad(format!("{k} must be {kind}, not {v}")));
            }
            object.insert(k, v);
        }
    }
    let settings: OAuthSettings = serde_json::from_value(current)
        .map_err(|e| bad(format!("the OAuth settings are not valid: {e}")))?;
    sim.set_oauth_settings(settings)
        .map_err(|e| bad(e.to_string()))?;
    oauth_view(&sim)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClientSecret {
    client_secret: String,
}

/// A new client secret, as the cabinet issues one; answers 204.
async fn put_client_secret(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let NewClientSecret { client_secret } = body(&bytes)?;
    if client_secret.trim().is_empty() {
        return Err(bad("client_secret must not be empty"));
    }
    *lock(&sim.0.client_secret) = Secret::new(client_secret);
    Ok(StatusCode::NO_CONTENT.into_response())
}
