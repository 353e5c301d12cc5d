//! Connecting a profile to a real МТТ Бизнес account: the integration's client id and secret,
//! its Redirect URI, and the relay that forwards events.
//!
//! The desktop's first-run form and the CLI's `trubka account set` both go through
//! [`AccountSetup`], so both check the same things and store them the same way: the public
//! details in the profile's settings, the client secret and the relay key in the OS keyring
//! (never in a file, never in a log). The demo profile never takes a real account, so trying the
//! demo can never mix simulated calls into a real account's history.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use companion::account::AccountSetup;
//! # use companion::{OsKeyring, Profile, ProfileSecrets};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let setup = AccountSetup {
//!     client_id: "ccb350cc-6218-40b0-b134-3d290f00b9e7".into(),
//!     client_secret: mtt_api::ClientSecret::new("from the cabinet"),
//!     redirect_uri: "http://127.0.0.1:8765/callback".into(),
//!     relay_url: None,
//!     relay_key: None,
//! };
//! let profile = Profile::open(companion::settings::DEFAULT_PROFILE)?;
//! setup.save(&profile, &ProfileSecrets::new(Arc::new(OsKeyring), profile.name()))?;
//! # Ok(()) }
//! ```

use mtt_api::ClientSecret;
use url::Url;

use crate::address::{RELAY_CARRIES, is_loopback_host, secure_url};
use crate::error::CompanionError;
use crate::secrets::{ProfileSecrets, RelayKey};
use crate::settings::{InvalidSetting, Profile};

/// An account's details as the operator entered them.
#[derive(Debug, Clone)]
pub struct AccountSetup {
    /// The integration's client id from the cabinet.
    pub client_id: String,
    /// The integration's secret; it goes to the keyring only.
    pub client_secret: ClientSecret,
    /// The Redirect URI registered in the cabinet.
    pub redirect_uri: String,
    /// The relay's base address, for events and the sign-in hand-off.
    pub relay_url: Option<String>,
    /// The relay's client key; it goes to the keyring only.
    pub relay_key: Option<RelayKey>,
}

/// Whether a Redirect URI is served by the app itself on this computer
/// (`http://127.0.0.1:<port>/…` or `http://localhost:<port>/…`), so no relay is needed to sign
/// in.
pub fn is_loopback_redirect(uri: &Url) -> bool {
    uri.scheme() == "http" && is_loopback_host(uri) && uri.port().is_some()
}

impl AccountSetup {
    /// Trims what was typed; empty optional fields become none.
    pub fn trimmed(self) -> Self {
        let blank_to_none = |v: Option<String>| {
            v.map(|s| s.trim().to_owned())
                .filter(|s: &String| !s.is_empty())
        };
        AccountSetup {
            client_id: self.client_id.trim().to_owned(),
            client_secret: ClientSecret::new(self.client_secret.expose().trim().to_owned()),
            redirect_uri: self.redirect_uri.trim().to_owned(),
            relay_url: blank_to_none(self.relay_url),
            relay_key: self
                .relay_key
                .map(|k| RelayKey::new(k.expose().trim().to_owned()))
                .filter(|k| !k.expose().is_empty()),
        }
    }

    /// Checks every field, naming the first one that is wrong (keys as in the settings file:
    /// `account.client_id`, `account.client_secret`, `account.redirect_uri`,
    /// `account.relay_url`, `account.relay_key`).
    pub fn check(&self) -> Result<(), InvalidSetting> {
        let invalid = |key: &'static str, reason: &str| {
            Err(InvalidSetting {
                key,
                reason: reason.to_owned(),
            })
        };
        if self.client_id.is_empty() {
            return invalid(
                "account.client_id",
                "enter the integration's client id from the МТТ Бизнес cabinet",
            );
        }
        if self.client_id.chars().any(char::is_whitespace) {
            return invalid("account.client_id", "the client id has no spaces in it");
        }
        if self.client_secret.expose().is_empty() {
            return invalid(
                "account.client_secret",
                "enter the integration's client secret from the МТТ Бизнес cabinet",
            );
        }
        let redirect = match Url::parse(&self.redirect_uri) {
            Ok(u) if u.scheme() == "https" || u.scheme() == "http" => u,
            _ => {
                return invalid(
                    "account.redirect_uri",
                    "enter the Redirect URI exactly as registered in the cabinet, starting with https:// (or http://127.0.0.1:<port>/ for a sign-in on this computer)",
                );
            }
        };
        let loopback = is_loopback_redirect(&redirect);
        if redirect.scheme() == "http" && !loopback {
            return invalid(
                "account.redirect_uri",
                "a Redirect URI with http:// must be a loopback address with a port, like http://127.0.0.1:8765/callback; any other must be https://",
            );
        }
        match &self.relay_url {
            Some(relay) => {
                if let Err(reason) = secure_url(relay, RELAY_CARRIES) {
                    return invalid("account.relay_url", &reason);
                }
            }
            None if !loopback => {
                return invalid(
                    "account.relay_url",
                    "a Redirect URI that is not on this computer needs the relay that serves it: enter the relay's address",
                );
            }
            None => {}
        }
        if self.relay_url.is_some() && self.relay_key.is_none() {
            return invalid(
                "account.relay_key",
                "enter the relay's client key (the relay's administrator gives it)",
            );
        }
        if self.relay_url.is_none() && self.relay_key.is_some() {
            return invalid(
                "account.relay_url",
                "a relay key needs the relay's address too",
            );
        }
        Ok(())
    }

    /// Checks the details and stores them in `profile`: the public ones in its settings, the
    /// secrets in its keyring entries. The demo profile is refused.
    pub fn save(&self, profile: &Profile, secrets: &ProfileSecrets) -> Result<(), CompanionError> {
        if profile.is_demo() {
            return Err(CompanionError::InvalidInput(
                "the demo profile cannot hold a real account".into(),
            ));
        }
        self.check()?;
        let mut settings = profile.load_settings()?;
        settings.account.client_id = Some(self.client_id.clone());
        settings.account.redirect_uri = Some(self.redirect_uri.clone());
        if self.relay_url.is_some() {
            settings.account.relay_url = self.relay_url.clone();
        }
        settings.welcomed = true;
        settings.check()?;
        // The secrets first: settings that name an account whose secret is missing would start
        // the app in account mode with nothing to sign in with.
        secrets.set_client_secret(&self.client_secret)?;
        if let Some(key) = &self.relay_key {
            secrets.set_relay_key(key)?;
        }
        profile.save_settings(&settings)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::secrets::MemoryVault;
    use crate::settings::{DEFAULT_PROFILE, DEMO_PROFILE};

    fn setup(redirect: &str, relay: Option<&str>, key: Option<&str>) -> AccountSetup {
        AccountSetup {
            client_id: " ccb350cc-6218-40b0-b134-3d290f00b9e7 ".into(),
            client_secret: ClientSecret::new(" s3cret "),
            redirect_uri: redirect.into(),
            relay_url: relay.map(str::to_owned),
            relay_key: key.map(RelayKey::new),
        }
        .trimmed()
    }

    fn key_of(setup: &AccountSetup) -> Option<&'static str> {
        setup.check().err().map(|e| e.key)
    }

    #[test]
    fn a_loopback_redirect_needs_no_relay_and_others_need_relay_and_key() {
        assert_eq!(key_of(&setup("http://127.0.0.1:8765/cb", None, None)), None);
        assert_eq!(
            key_of(&setup("http://localhost:8765/cb", Some(" "), None)),
            None
        );
        assert_eq!(
            key_of(&setup("https://relay.example.com/hook", None, None)),
            Some("account.relay_url")
        );
        assert_eq!(
            key_of(&setup(
                "https://relay.example.com/hook",
                Some("https://relay.example.com"),
                None
            )),
            Some("account.relay_key")
        );
        assert_eq!(
            key_of(&setup(
                "https://relay.example.com/hook",
                Some("https://relay.example.com"),
                Some("k")
            )),
            None
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut s = setup("http://127.0.0.1:8765/cb", None, None);
        s.client_id = String::new();
        assert_eq!(key_of(&s), Some("account.client_id"));
        let mut s = setup("http://127.0.0.1:8765/cb", None, None);
        s.client_secret = ClientSecret::new(String::new());
        assert_eq!(key_of(&s), Some("account.client_secret"));
        for bad in ["", "relay.example.com", "http://example.com/cb", "ftp://x/"] {
            assert_eq!(
                key_of(&setup(bad, Some("https://r"), Some("k"))),
                Some("account.redirect_uri"),
                "{bad:?}"
            );
        }
        assert_eq!(
            key_of(&setup("https://r.example/cb", Some("not a url"), Some("k"))),
            Some("account.relay_url")
        );
        // The relay key, the events and the sign-in code would travel in clear.
        assert_eq!(
            key_of(&setup(
                "https://r.example/cb",
                Some("http://r.example"),
                Some("k")
            )),
            Some("account.relay_url")
        );
        assert_eq!(
            key_of(&setup(
                "http://127.0.0.1:8765/cb",
                Some("http://127.0.0.1:8080"),
                Some("k")
            )),
            None
        );
    }

    #[test]
    fn saving_keeps_the_secret_in_the_keyring_only_and_never_in_the_demo() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let (config, data) = (dir.path().join("c"), dir.path().join("d"));
        let profile = Profile::under(DEFAULT_PROFILE, &config, &data).unwrap();
        let secrets = ProfileSecrets::new(vault.clone(), profile.name());
        let s = setup(
            "https://relay.example.com/hook",
            Some("https://relay.example.com"),
            Some("relay-key"),
        );
        s.save(&profile, &secrets).unwrap();
        let saved = profile.load_settings().unwrap();
        assert_eq!(
            saved.account.client_id.as_deref(),
            Some("ccb350cc-6218-40b0-b134-3d290f00b9e7")
        );
        assert!(saved.welcomed);
        let file = std::fs::read_to_string(profile.settings_path()).unwrap();
        assert!(
            !file.contains("s3cret") && !file.contains("relay-key"),
            "{file}"
        );
        assert_eq!(secrets.client_secret().unwrap().unwrap().expose(), "s3cret");
        assert_eq!(secrets.relay_key().unwrap().unwrap().expose(), "relay-key");

        let demo = Profile::under(DEMO_PROFILE, &config, &data).unwrap();
        let demo_secrets = ProfileSecrets::new(vault, demo.name());
        assert!(s.save(&demo, &demo_secrets).is_err());
        assert!(!demo.settings_path().exists());
        assert!(demo_secrets.client_secret().unwrap().is_none());
    }
}
