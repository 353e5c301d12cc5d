//! `/admin/api/integration`: the МТТ integration's state (never its secret, tokens or hook) and
//! the start of a connect, the same authorize flow as `trubka-relay team connect`.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use team_api::TeamStatus;

use super::session::Caller;
use super::{ConsoleError, ConsoleJson, audit};
use crate::integration::{self, ClientCredentials};
use crate::state::RelayState;
use crate::store::audit::Outcome;

/// Webhooks are "silent" when team mode has had none for this long.
pub(crate) const SILENCE: TimeDelta = TimeDelta::hours(24);

/// `ConsoleIntegration` of the contract.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ConsoleIntegration.ts")]
pub struct ConsoleIntegration {
    status: TeamStatus,
    client_id: Option<String>,
    #[ts(type = "string | null")]
    last_webhook_at: Option<DateTime<Utc>>,
    webhooks_silent: bool,
    redirect_uri: Option<String>,
}

/// The connect form.
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export_to = "ConsoleConnect.ts")]
pub struct ConsoleConnect {
    client_id: String,
    client_secret: String,
}

/// `POST /admin/api/integration/connect`'s answer: where to send the admin's browser.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ConsoleAuthorize.ts")]
pub struct ConsoleAuthorize {
    authorize_url: String,
}

/// Whether webhooks stopped: in team mode, none for [`SILENCE`] (none since a start that long
/// ago counts).
pub(crate) fn webhooks_silent(state: &RelayState, team_mode: bool) -> bool {
    let since = state
        .metrics
        .last_received()
        .unwrap_or(state.console.started_at);
    team_mode && Utc::now() - since > SILENCE
}

/// `GET /admin/api/integration` (admins).
pub(crate) async fn show(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<ConsoleIntegration>, ConsoleError> {
    caller.admin()?;
    let status = state.integration.status();
    let client_id = match state.integration.sealer() {
        Some(sealer) => integration::client_credentials(&state.team, &sealer)
            .await?
            .map(|credentials| credentials.client_id),
        None => None,
    };
    let redirect_uri = state
        .config
        .public_url
        .as_ref()
        .map(|public| format!("{public}/…"));
    Ok(Json(ConsoleIntegration {
        webhooks_silent: webhooks_silent(&state, status.team_mode),
        last_webhook_at: state.metrics.last_received(),
        status,
        client_id,
        redirect_uri,
    }))
}

/// `POST /admin/api/integration/connect`: seals the client id and secret and answers the
/// authorize address for the admin to open; МТТ returns to the relay's Redirect URI.
pub(crate) async fn connect(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
    ConsoleJson(form): ConsoleJson<ConsoleConnect>,
) -> Result<Json<ConsoleAuthorize>, ConsoleError> {
    caller.admin()?;
    let client_id = form.client_id.trim().to_owned();
    if client_id.is_empty() || client_id.len() > 200 {
        return Err(ConsoleError::field(
            "clientId",
            "the client id from the МТТ cabinet (Мои интеграции)",
        ));
    }
    let client_secret = form.client_secret.trim().to_owned();
    if client_secret.is_empty() || client_secret.len() > 500 {
        return Err(ConsoleError::field(
            "clientSecret",
            "the client secret from the МТТ cabinet (Мои интеграции)",
        ));
    }
    let Some(public_url) = state.config.public_url.clone() else {
        return Err(ConsoleError::field(
            "publicUrl",
            "connecting needs the relay's public HTTPS address: set public_url in its configuration (the sign-in lands on its Redirect URI)",
        ));
    };
    let Some(sealer) = state.integration.sealer() else {
        return Err(ConsoleError::conflict(
            "the relay has no at-rest key to seal the secret with: run `trubka-relay init` on the server",
        ));
    };
    let redirect_uri = format!("{public_url}/{}", state.config.hook.expose_secret());
    let url = integration::begin_connect(
        &state.team,
        &sealer,
        &state.config,
        &redirect_uri,
        ClientCredentials {
            client_id: client_id.clone(),
            client_secret: mtt_api::ClientSecret::new(client_secret),
        },
    )
    .await?;
    audit(
        &state,
        &caller,
        "integration.connect",
        client_id,
        Outcome::Done,
        "authorize address issued".into(),
    )
    .await;
    Ok(Json(ConsoleAuthorize { authorize_url: url }))
}
