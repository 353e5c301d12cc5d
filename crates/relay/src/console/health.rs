//! `GET /admin/api/health` (admins): the relay's version, uptime, store size, event rates,
//! connected seats and clients, and the integration's state.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::Serialize;
use team_api::{Availability, IntegrationState};

use super::ConsoleError;
use super::session::Caller;
use crate::state::RelayState;

/// The health page's numbers.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ConsoleHealth.ts")]
pub struct ConsoleHealth {
    version: String,
    #[ts(type = "string")]
    started_at: DateTime<Utc>,
    store_bytes: Option<u64>,
    events_last_minute: u64,
    events_per_minute15: f64,
    connected_seats: usize,
    connected_clients: usize,
    console_streams: usize,
    integration: IntegrationState,
    webhooks_silent: bool,
    #[ts(type = "string | null")]
    last_webhook_at: Option<DateTime<Utc>>,
}

/// `GET /admin/api/health`.
pub(crate) async fn show(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<ConsoleHealth>, ConsoleError> {
    caller.admin()?;
    let store_bytes = state.store.size_bytes().await.ok();
    let (events_last_minute, events_per_minute15) = state.metrics.received_per_minute();
    let connected_seats = state
        .team
        .seats()
        .await?
        .iter()
        .filter(|seat| {
            seat.revoked_at.is_none()
                && state.availability.availability(seat.profile.id) != Availability::Offline
        })
        .count();
    let status = state.integration.status();
    Ok(Json(ConsoleHealth {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: state.console.started_at,
        store_bytes,
        events_last_minute,
        events_per_minute15,
        connected_seats,
        connected_clients: state.access.open_streams(),
        console_streams: state.console.open_streams(),
        webhooks_silent: super::integration::webhooks_silent(&state, status.team_mode),
        integration: status.integration,
        last_webhook_at: state.metrics.last_received(),
    }))
}
