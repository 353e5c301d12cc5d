//! Gathering a diagnostics zip: the summary from the core's state, the secrets to blank out of
//! the logs from the keyring, and the zip written on the blocking pool.

use std::path::PathBuf;

use chrono::{SecondsFormat, Utc};
use mtt_api::TokenStore;

use super::Companion;
use crate::diagnostics::{
    DiagnosticsInput, DiagnosticsZip, Summary, system_description, without_password, write_zip,
};
use crate::error::CompanionError;
use crate::secrets::ProfileSecrets;

impl Companion {
    /// Writes a diagnostics zip at `target`, which must not exist yet: the summary (with
    /// `app_version`), the settings and the log files in `log_dir`, without secrets.
    pub async fn save_diagnostics(
        &self,
        target: PathBuf,
        app_version: &str,
        log_dir: Option<PathBuf>,
    ) -> Result<DiagnosticsZip, CompanionError> {
        let settings = self.settings();
        let status = self.session_status().await;
        let mut summary = Summary {
            app_version: app_version.to_owned(),
            mode: if self.profile.is_demo() {
                "demo"
            } else {
                "account"
            }
            .to_owned(),
            profile: self.profile.name().to_owned(),
            // Read from a file below, off the async runtime.
            system: String::new(),
            relay_url: settings.account.relay_url.as_deref().map(without_password),
            signed_in: status.as_ref().map(|s| s.signed_in),
            access_expires_at: status.as_ref().and_then(|s| s.access_expires_at),
            refresh_expires_at: status.as_ref().and_then(|s| s.refresh_expires_at),
            link: self.link_status().map(|l| match l.reason {
                Some(reason) => format!("{} ({reason})", l.state),
                None => l.state,
            }),
            last_prune: self.last_prune().map(|p| {
                let at = p.at.to_rfc3339_opts(SecondsFormat::Secs, true);
                match p.failed {
                    Some(reason) => format!("{at}, failed: {reason}"),
                    None => format!(
                        "{at}, removed {} calls, {} raw events, {} routing decisions",
                        p.calls, p.raw_events, p.routing_decisions
                    ),
                }
            }),
            made_at: Utc::now(),
        };
        let secrets = self.secrets.clone();
        let redirect = settings.account.redirect_uri.clone();
        let written_to = target.clone();
        // The keyring may wait for its owner, and the zip is file work: not on an async worker.
        tokio::task::spawn_blocking(move || {
            summary.system = system_description();
            let secrets = known_secrets(&secrets, redirect.as_deref());
            write_zip(
                &target,
                &DiagnosticsInput {
                    summary,
                    settings,
                    log_dir,
                    secrets,
                },
            )
        })
        .await
        .map_err(|e| CompanionError::File {
            path: written_to,
            detail: format!("writing the diagnostics stopped: {e}"),
        })?
    }
}

/// Every secret of the profile the keyring gives (a locked keyring gives none: the logs never
/// held them anyway), and the Redirect URI's path, which is the relay's secret hook.
fn known_secrets(secrets: &ProfileSecrets, redirect_uri: Option<&str>) -> Vec<String> {
    let mut known = Vec::new();
    if let Ok(Some(secret)) = secrets.client_secret() {
        known.push(secret.expose().to_owned());
    }
    if let Ok(Some(key)) = secrets.relay_key() {
        known.push(key.expose().to_owned());
    }
    if let Ok(Some(tokens)) = secrets.token_store().load() {
        known.push(tokens.access_token.expose().to_owned());
        if let Some(refresh) = tokens.refresh_token {
            known.push(refresh.expose().to_owned());
        }
    }
    if let Some(url) = redirect_uri.and_then(|u| url::Url::parse(u).ok()) {
        let path = url.path().trim_matches('/');
        if !path.is_empty() {
            known.push(path.to_owned());
        }
    }
    // The longest first, so that a secret inside another is not left half blanked.
    known.sort_by_key(|s| std::cmp::Reverse(s.len()));
    known
}
