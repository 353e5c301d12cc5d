//! The integration's state, as `/readyz` and `trubka-relay team status` report it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether the relay holds a working МТТ integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "IntegrationState.ts")]
pub enum IntegrationState {
    /// No integration, or its sign-in has not finished (or was refused and must be redone).
    NotConnected,
    /// Tokens are held and were refreshed when due.
    Connected,
    /// The last refresh failed (МТТ refused it or could not be reached); events still flow.
    RefreshFailing,
}

/// What the relay says about its integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export_to = "TeamStatus.ts")]
pub struct TeamStatus {
    /// The state.
    pub integration: IntegrationState,
    /// Whether the relay is in team mode (an integration was connected to it).
    pub team_mode: bool,
    /// When the access token expires.
    #[ts(type = "string | null")]
    pub access_expires_at: Option<DateTime<Utc>>,
    /// When the refresh token lapses (then the integration must be connected again).
    #[ts(type = "string | null")]
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// Whether МТТ rotates refresh tokens (`None` until the first refresh shows it).
    pub refresh_rotates: Option<bool>,
    /// The last successful refresh.
    #[ts(type = "string | null")]
    pub last_refresh_at: Option<DateTime<Utc>>,
    /// Why the last refresh failed, if it did.
    pub last_error: Option<String>,
    /// The refresh token lapses within a day and will not be extended (МТТ does not rotate
    /// it): reconnect the integration before then.
    pub lapse_warning: bool,
}

impl TeamStatus {
    /// The status of a relay with no integration.
    pub fn not_connected(team_mode: bool) -> Self {
        Self {
            integration: IntegrationState::NotConnected,
            team_mode,
            access_expires_at: None,
            refresh_expires_at: None,
            refresh_rotates: None,
            last_refresh_at: None,
            last_error: None,
            lapse_warning: false,
        }
    }
}
