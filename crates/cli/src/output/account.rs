//! `login`, `logout`, `status` and `account …`.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// `login` and `logout`: whether the profile is now signed in.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    /// Whether API calls can be made.
    pub signed_in: bool,
}

/// `status`: the profile's sign-in, workplace, relay, parking and router switch.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The profile's name.
    pub profile: String,
    /// Whether the account is set up far enough to sign in.
    pub configured: bool,
    /// Whether there are tokens.
    pub signed_in: bool,
    /// When the access token expires (it is renewed by itself).
    pub access_expires_at: Option<DateTime<Utc>>,
    /// When the sign-in lapses for good.
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// The operator's own workplace SIP ID.
    pub workplace: Option<String>,
    /// The relay's address.
    pub relay: Option<String>,
    /// The external numbers this app put on parking, sorted.
    pub parked: Vec<String>,
    /// When parking was last applied to the PBX.
    pub parking_applied_at: Option<DateTime<Utc>>,
    /// Whether this app decides parked calls for the account.
    pub router: bool,
}

impl Status {
    /// The status of `profile` from its session (none without an account) and settings.
    pub fn new(
        profile: &str,
        session: Option<&mtt_api::SessionStatus>,
        settings: &companion::Settings,
    ) -> Self {
        Status {
            profile: profile.to_owned(),
            configured: session.is_some(),
            signed_in: session.is_some_and(|s| s.signed_in),
            access_expires_at: session.and_then(|s| s.access_expires_at),
            refresh_expires_at: session.and_then(|s| s.refresh_expires_at),
            workplace: settings.workplace.clone(),
            relay: settings.account.relay_url.clone(),
            parked: settings.parked.iter().cloned().collect(),
            parking_applied_at: settings.routing.parking_applied_at,
            router: settings.router,
        }
    }
}

/// `account set`: the account was saved.
#[derive(Debug, Serialize)]
pub struct AccountSaved {
    /// The profile's name.
    pub profile: String,
    /// Always `true` (a failure exits with an error instead).
    pub saved: bool,
}

/// `account show`: the integration's public details (never the secrets). snake_case, as in the
/// settings file.
#[derive(Debug, Serialize)]
pub struct Account {
    /// The integration's client id.
    pub client_id: Option<String>,
    /// The Redirect URI registered in the cabinet.
    pub redirect_uri: Option<String>,
    /// The relay's address.
    pub relay_url: Option<String>,
    /// MTT's OAuth server, when overridden.
    pub oauth_url: Option<String>,
    /// MTT's Open API host, when overridden.
    pub api_url: Option<String>,
    /// Whether sign-in sends a PKCE challenge.
    pub pkce: bool,
}

impl From<&companion::settings::AccountSettings> for Account {
    fn from(a: &companion::settings::AccountSettings) -> Self {
        Account {
            client_id: a.client_id.clone(),
            redirect_uri: a.redirect_uri.clone(),
            relay_url: a.relay_url.clone(),
            oauth_url: a.oauth_url.clone(),
            api_url: a.api_url.clone(),
            pkce: a.pkce,
        }
    }
}
