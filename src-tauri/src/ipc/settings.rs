//! The Settings screen's and the first-run form's IPC types: the operator's preferences, the
//! account and sign-in state, and the account form. Secrets cross only inwards, in
//! [`AccountForm`], and never print.

use companion::retention::{KeepFor, LastPrune};
use companion::settings::{Language, PopupScope, Theme};
use companion::{ErrorCode, InvalidSetting, Settings};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::IpcError;

/// Whose incoming calls pop up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "PopupWhose.ts")]
pub enum PopupWhose {
    /// Calls to my workplace.
    Mine,
    /// Every incoming call on the account.
    AllIncoming,
}

/// What a phone link (`tel:`, `callto:`) or the hotkey does with its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "LinkAction.ts")]
pub enum LinkAction {
    /// Put the number in the dialer; the operator presses Call.
    Fill,
    /// Ask, then dial.
    Confirm,
}

/// The interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "LanguageChoice.ts")]
pub enum LanguageChoice {
    /// Follow the system.
    System,
    /// Русский.
    Ru,
    /// English.
    En,
}

/// The language the interface speaks: the choice, or for "System" the platform's locale as the
/// shell reads it (the tray and the notifications speak the same; see `crate::locale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "InterfaceLanguage.ts")]
pub enum InterfaceLanguage {
    /// Русский.
    Ru,
    /// English.
    En,
}

impl InterfaceLanguage {
    /// What `choice` speaks on this machine.
    pub fn of(choice: Language) -> Self {
        if crate::locale::is_russian(choice) {
            InterfaceLanguage::Ru
        } else {
            InterfaceLanguage::En
        }
    }
}

/// The colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ThemeChoice.ts")]
pub enum ThemeChoice {
    /// Follow the system.
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

/// What the Settings screen edits and saves in one go. My workplace is chosen apart, with
/// `set_workplace`, since it must be one of the account's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "Preferences.ts")]
pub struct Preferences {
    /// Popups at all.
    pub popups: bool,
    /// Whose calls pop up.
    pub popup_whose: PopupWhose,
    /// A notification on an incoming call.
    pub notify_incoming: bool,
    /// A notification on a missed call.
    pub notify_missed: bool,
    /// The global hotkey (`Ctrl+Alt+D`), or empty for none.
    pub hotkey: String,
    /// What phone links do.
    pub link_action: LinkAction,
    /// The CRM address with `{number}`, or empty for none.
    pub crm_url_template: String,
    /// The interface language.
    pub language: LanguageChoice,
    /// The language that choice speaks on this machine, resolved by the shell: always sent,
    /// ignored when saved. The web UI takes it instead of the web view's `navigator.language`.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub interface_language: Option<InterfaceLanguage>,
    /// The colour theme.
    pub theme: ThemeChoice,
    /// Start the app at login.
    pub autostart: bool,
    /// How many days calls are kept in the history, or `null` for ever.
    pub keep_calls_days: Option<u32>,
    /// How many days the PBX's raw notifications are kept, or `null` for ever.
    pub keep_raw_events_days: Option<u32>,
    /// When the after-call wrap-up is offered.
    pub wrapup_offer: super::WrapUpWhen,
    /// The wrap-up's tags to choose from, in order.
    pub wrapup_tags: Vec<String>,
}

impl From<&Settings> for Preferences {
    fn from(s: &Settings) -> Self {
        Preferences {
            popups: s.popups.enabled,
            popup_whose: match s.popups.scope {
                PopupScope::Mine => PopupWhose::Mine,
                PopupScope::AllIncoming => PopupWhose::AllIncoming,
            },
            notify_incoming: s.notifications.incoming,
            notify_missed: s.notifications.missed,
            hotkey: s.hotkey.clone(),
            link_action: if s.links.dial_after_confirmation {
                LinkAction::Confirm
            } else {
                LinkAction::Fill
            },
            crm_url_template: s.crm_url_template.clone().unwrap_or_default(),
            language: match s.language {
                Language::System => LanguageChoice::System,
                Language::Ru => LanguageChoice::Ru,
                Language::En => LanguageChoice::En,
            },
            interface_language: Some(InterfaceLanguage::of(s.language)),
            theme: match s.theme {
                Theme::System => ThemeChoice::System,
                Theme::Light => ThemeChoice::Light,
                Theme::Dark => ThemeChoice::Dark,
            },
            autostart: s.autostart,
            keep_calls_days: s.retention.calls.days(),
            keep_raw_events_days: s.retention.raw_events.days(),
            wrapup_offer: s.wrapup.offer.into(),
            wrapup_tags: s.wrapup.tags.clone(),
        }
    }
}

impl Preferences {
    /// Writes these preferences into `settings`, the hotkey in its canonical spelling (a hotkey
    /// that is not one is left as typed, for the settings' check to refuse with the reason).
    pub fn apply_to(&self, settings: &mut Settings) {
        settings.popups.enabled = self.popups;
        settings.popups.scope = match self.popup_whose {
            PopupWhose::Mine => PopupScope::Mine,
            PopupWhose::AllIncoming => PopupScope::AllIncoming,
        };
        settings.notifications.incoming = self.notify_incoming;
        settings.notifications.missed = self.notify_missed;
        settings.hotkey = companion::hotkey::canonical_hotkey(&self.hotkey)
            .unwrap_or_else(|_| self.hotkey.clone());
        settings.links.dial_after_confirmation = self.link_action == LinkAction::Confirm;
        let crm = self.crm_url_template.trim();
        settings.crm_url_template = (!crm.is_empty()).then(|| crm.to_owned());
        settings.language = match self.language {
            LanguageChoice::System => Language::System,
            LanguageChoice::Ru => Language::Ru,
            LanguageChoice::En => Language::En,
        };
        settings.theme = match self.theme {
            ThemeChoice::System => Theme::System,
            ThemeChoice::Light => Theme::Light,
            ThemeChoice::Dark => Theme::Dark,
        };
        settings.autostart = self.autostart;
        // Out-of-range days are kept as given for the settings' check to refuse with its key.
        let keep = |days: Option<u32>| days.map_or(KeepFor::Forever, KeepFor::Days);
        settings.retention.calls = keep(self.keep_calls_days);
        settings.retention.raw_events = keep(self.keep_raw_events_days);
        settings.wrapup.offer = self.wrapup_offer.into();
        // Blank entries are dropped; anything else is kept as typed for the check to judge.
        settings.wrapup.tags = self
            .wrapup_tags
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
    }
}

/// What the call log's last clean-up did, for Settings.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "PruneSummary.ts")]
pub struct PruneSummary {
    /// When it ran, in ms since the epoch.
    pub at_ms: f64,
    /// Calls removed.
    pub calls: u32,
    /// Raw events removed.
    pub raw_events: u32,
    /// Why it failed, if it did.
    pub failed: Option<String>,
}

impl From<&LastPrune> for PruneSummary {
    fn from(last: &LastPrune) -> Self {
        let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        PruneSummary {
            at_ms: super::ms(last.at),
            calls: count(last.calls),
            raw_events: count(last.raw_events),
            failed: last.failed.clone(),
        }
    }
}

/// Which account the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "AppMode.ts")]
pub enum AppMode {
    /// The simulated PBX.
    Demo,
    /// The real account of the default profile.
    Account,
}

/// What Settings' About needs from the shell: the app's version (the words are the UI's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "About.ts")]
pub struct About {
    /// The app's version, as built.
    pub version: String,
}

impl About {
    /// This build's.
    pub fn of_this_build() -> Self {
        About {
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// The account and sign-in state, as the Settings screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "AccountState.ts")]
pub struct AccountState {
    /// Demo or the real account.
    pub mode: AppMode,
    /// The integration's client id (public).
    pub client_id: Option<String>,
    /// The Redirect URI.
    pub redirect_uri: Option<String>,
    /// The relay's address.
    pub relay_url: Option<String>,
    /// Whether there are tokens.
    pub signed_in: bool,
    /// When the access token expires, in ms since the epoch.
    pub access_expires_at_ms: Option<f64>,
    /// When the sign-in lapses (the refresh token), in ms since the epoch.
    pub refresh_expires_at_ms: Option<f64>,
    /// The sign-in lapses within 12 hours: sign in again.
    pub renew_soon: bool,
    /// My workplace's SIP ID, once chosen.
    pub workplace: Option<String>,
    /// Offer the first-run welcome: demo mode, no real account set up, never answered.
    pub welcome: bool,
    /// Why the account cannot be used, when it cannot (the core did not start, say).
    pub trouble: Option<String>,
}

/// The first-run form: a real account's details. The secrets go to the OS keyring only.
#[derive(Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "AccountForm.ts")]
pub struct AccountForm {
    /// The integration's client id.
    pub client_id: String,
    /// The integration's client secret.
    pub client_secret: String,
    /// The Redirect URI registered in the cabinet.
    pub redirect_uri: String,
    /// The relay's address (optional with a loopback Redirect URI).
    #[ts(optional)]
    pub relay_url: Option<String>,
    /// The relay's client key (optional with a loopback Redirect URI).
    #[ts(optional)]
    pub relay_key: Option<String>,
}

impl std::fmt::Debug for AccountForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountForm")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .field("relay_url", &self.relay_url)
            .field("relay_key", &self.relay_key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl From<AccountForm> for companion::account::AccountSetup {
    fn from(f: AccountForm) -> Self {
        companion::account::AccountSetup {
            client_id: f.client_id,
            client_secret: mtt_api::ClientSecret::new(f.client_secret),
            redirect_uri: f.redirect_uri,
            relay_url: f.relay_url,
            relay_key: f.relay_key.map(companion::RelayKey::new),
        }
        .trimmed()
    }
}

/// The form field a setting's key belongs to: its last part in camel case
/// (`account.client_id` → `clientId`, `crm_url_template` → `crmUrlTemplate`), except the
/// retention periods, which the form names after what they keep.
pub fn field_of(key: &str) -> String {
    match key {
        "retention.calls" => return "keepCallsDays".into(),
        "retention.raw_events" => return "keepRawEventsDays".into(),
        _ => {}
    }
    let last = key.rsplit('.').next().unwrap_or(key);
    let mut out = String::with_capacity(last.len());
    let mut upper = false;
    for c in last.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl From<InvalidSetting> for IpcError {
    fn from(e: InvalidSetting) -> Self {
        IpcError {
            code: ErrorCode::Invalid,
            message: e.to_string(),
            field: Some(field_of(e.key)),
            reason: Some(e.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_gives_the_version_the_app_was_built_as() {
        let about = About::of_this_build();
        assert_eq!(about.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            serde_json::to_value(&about).unwrap(),
            serde_json::json!({ "version": env!("CARGO_PKG_VERSION") })
        );
    }

    #[test]
    fn setting_keys_name_the_form_fields() {
        assert_eq!(field_of("account.client_id"), "clientId");
        assert_eq!(field_of("crm_url_template"), "crmUrlTemplate");
        assert_eq!(field_of("hotkey"), "hotkey");
    }

    #[test]
    fn a_refused_setting_names_its_field_and_reason_apart() {
        let refused = IpcError::from(InvalidSetting {
            key: "account.relay_url",
            reason: "must be an https:// address".into(),
        });
        assert_eq!(refused.code, ErrorCode::Invalid);
        assert_eq!(refused.field.as_deref(), Some("relayUrl"));
        assert_eq!(
            refused.reason.as_deref(),
            Some("must be an https:// address")
        );
        let json = serde_json::to_value(&refused).unwrap();
        assert_eq!(json["field"], "relayUrl");
        assert_eq!(json["reason"], "must be an https:// address");
    }

    #[test]
    fn preferences_survive_the_round_trip_through_settings() {
        let mut settings = Settings::default();
        let mut prefs = Preferences::from(&settings);
        prefs.popup_whose = PopupWhose::AllIncoming;
        prefs.link_action = LinkAction::Fill;
        prefs.hotkey = "alt + ctrl + k".into();
        prefs.crm_url_template = " https://crm.example.com/?p={number} ".into();
        prefs.theme = ThemeChoice::Dark;
        prefs.autostart = true;
        assert_eq!(
            (prefs.keep_calls_days, prefs.keep_raw_events_days),
            (Some(1095), Some(90))
        );
        prefs.keep_calls_days = None;
        prefs.keep_raw_events_days = Some(30);
        prefs.apply_to(&mut settings);
        assert_eq!(settings.retention.calls, KeepFor::Forever);
        assert_eq!(settings.retention.raw_events, KeepFor::Days(30));
        assert_eq!(settings.hotkey, "Ctrl+Alt+K");
        assert_eq!(
            settings.crm_url_template.as_deref(),
            Some("https://crm.example.com/?p={number}")
        );
        let back = Preferences::from(&settings);
        assert_eq!(back.popup_whose, PopupWhose::AllIncoming);
        assert_eq!(back.link_action, LinkAction::Fill);
        assert_eq!(back.theme, ThemeChoice::Dark);
        assert!(back.autostart);
        assert_eq!(
            (back.keep_calls_days, back.keep_raw_events_days),
            (None, Some(30))
        );
        // Zero days is refused, naming the form's field.
        prefs.keep_raw_events_days = Some(0);
        prefs.apply_to(&mut settings);
        let refused = IpcError::from(settings.check().unwrap_err());
        assert_eq!(refused.field.as_deref(), Some("keepRawEventsDays"));
    }

    #[test]
    fn the_form_never_prints_its_secrets() {
        let form = AccountForm {
            client_id: "c".into(),
            client_secret: "s3cret".into(),
            redirect_uri: "http://127.0.0.1:1/cb".into(),
            relay_url: None,
            relay_key: Some("k3y".into()),
        };
        let printed = format!("{form:?}");
        assert!(
            !printed.contains("s3cret") && !printed.contains("k3y"),
            "{printed}"
        );
    }
}
