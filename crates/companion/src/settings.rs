//! Profiles and their settings.
//!
//! A profile is one account's world: its settings file, its call log and its keyring entries. The
//! demo profile is always separate, so trying the demo never touches a real account's history.
//! Settings are TOML in the platform's config directory, written atomically (a temporary file
//! renamed over the old one) so a crash mid-write never leaves half a file. A file that does not
//! parse is reported with its path and line and left alone, never overwritten with defaults.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::address::{MTT_CARRIES, RELAY_CARRIES, secure_url};
use crate::error::CompanionError;
pub use crate::error::InvalidSetting;

/// The name of the demo profile.
pub const DEMO_PROFILE: &str = "demo";
/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "default";

/// One profile's name and where its files live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    name: String,
    config_dir: PathBuf,
    data_dir: PathBuf,
}

impl Profile {
    /// The profile `name` under the platform's directories (`~/.config/trubka/profiles/<name>`
    /// and `~/.local/share/trubka/profiles/<name>` on Linux).
    pub fn open(name: &str) -> Result<Self, CompanionError> {
        let (config, data) = platform_dirs()?;
        Self::under(name, &config, &data)
    }

    /// The profile `name` under explicit base directories (tests, portable installs).
    pub fn under(name: &str, config_base: &Path, data_base: &Path) -> Result<Self, CompanionError> {
        validate_name(name)?;
        Ok(Profile {
            name: name.to_owned(),
            config_dir: config_base.join("profiles").join(name),
            data_dir: data_base.join("profiles").join(name),
        })
    }

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is the demo profile.
    pub fn is_demo(&self) -> bool {
        self.name == DEMO_PROFILE
    }

    /// The settings file.
    pub fn settings_path(&self) -> PathBuf {
        self.config_dir.join("settings.toml")
    }

    /// The call log's database file.
    pub fn call_log_path(&self) -> PathBuf {
        self.data_dir.join("calls.sqlite")
    }

    /// The directory for the profile's other data (the demo relay's store, exports).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Reads the settings; a missing file gives the defaults.
    pub fn load_settings(&self) -> Result<Settings, CompanionError> {
        let path = self.settings_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => Settings::from_toml(&text)
                .map_err(|detail| CompanionError::Settings { path, detail }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(CompanionError::Settings {
                path,
                detail: e.to_string(),
            }),
        }
    }

    /// Writes the settings atomically.
    pub fn save_settings(&self, settings: &Settings) -> Result<(), CompanionError> {
        let path = self.settings_path();
        let fail = |detail: String| CompanionError::Settings {
            path: path.clone(),
            detail,
        };
        settings.validate().map_err(fail)?;
        std::fs::create_dir_all(&self.config_dir).map_err(|e| fail(e.to_string()))?;
        let text = toml::to_string_pretty(settings).map_err(|e| fail(e.to_string()))?;
        write_privately(&path, text.as_bytes()).map_err(|e| fail(e.to_string()))
    }
}

/// Replaces `path` with `contents` atomically and durably, readable by its owner only: the
/// settings hold the Redirect URI, which is the relay's secret hook. The temporary file is made
/// anew with mode 0600 (a left-over one may be readable by others), flushed to disk before it is
/// renamed over the old file, and the directory is flushed after, so that a crash leaves either
/// the old file or the new one, whole.
fn write_privately(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let temporary = path.with_extension("toml.tmp");
    match std::fs::remove_file(&temporary) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)?;
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The platform's configuration and data directories for Trubka.
pub fn platform_dirs() -> Result<(PathBuf, PathBuf), CompanionError> {
    let dirs = directories::ProjectDirs::from("ru", "Trubka", "trubka").ok_or_else(|| {
        CompanionError::Settings {
            path: PathBuf::new(),
            detail: "the system has no home directory to keep settings in".into(),
        }
    })?;
    Ok((
        dirs.config_dir().to_path_buf(),
        dirs.data_dir().to_path_buf(),
    ))
}

fn validate_name(name: &str) -> Result<(), CompanionError> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CompanionError::InvalidInput(format!(
            "the profile name {name:?} must be 1–32 letters, digits, '-' or '_'"
        )))
    }
}

/// Everything the operator can set. Unknown keys in the file are ignored (a newer version may
/// have written them); missing keys take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct Settings {
    /// The MTT integration and where the relay is.
    pub account: AccountSettings,
    /// The operator's own workplace SIP ID, chosen from the workplaces list.
    pub workplace: Option<String>,
    /// When the incoming-call popup appears.
    pub popups: PopupSettings,
    /// Which native notifications are sent.
    pub notifications: NotificationSettings,
    /// What `tel:`, `callto:` and `trubka:` links do.
    pub links: LinkSettings,
    /// The global hotkey that dials the selected or copied number.
    pub hotkey: String,
    /// The CRM address for a number, with `{number}` where the number goes.
    pub crm_url_template: Option<String>,
    /// The interface language.
    pub language: Language,
    /// The colour theme.
    pub theme: Theme,
    /// The zone the PBX's zone-less times are read in.
    pub pbx_time_zone: String,
    /// Whether this app decides parked calls for the account (exactly one app may).
    pub router: bool,
    /// The external numbers this app last put on parking. The API cannot read parking back, so
    /// this is the only record, re-applied after each sign-in.
    pub parked: std::collections::BTreeSet<String>,
    /// How parked calls are decided (the ordered rules, business hours, the deadline), and when
    /// parking was last applied.
    pub routing: call_routing::RoutingSettings,
    /// Start the app when the operator logs in to the computer.
    pub autostart: bool,
    /// The first-run welcome was answered (the demo tried or an account connected), so it is
    /// not offered again. Kept in the default profile.
    pub welcomed: bool,
    /// How long the call log keeps calls and the PBX's raw notifications.
    pub retention: crate::retention::RetentionSettings,
    /// The team this app is a seat of (team mode), if any. The seat's credential is in the
    /// keyring, never here.
    pub team: Option<crate::team::TeamMembership>,
    /// The after-call wrap-up: when it is offered, and the tags to choose from.
    pub wrapup: crate::wrapup::WrapUpSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            account: AccountSettings::default(),
            workplace: None,
            popups: PopupSettings::default(),
            notifications: NotificationSettings::default(),
            links: LinkSettings::default(),
            hotkey: "Ctrl+Alt+D".into(),
            crm_url_template: None,
            language: Language::System,
            theme: Theme::System,
            pbx_time_zone: "Europe/Moscow".into(),
            router: false,
            parked: Default::default(),
            routing: Default::default(),
            autostart: false,
            welcomed: false,
            retention: Default::default(),
            team: None,
            wrapup: Default::default(),
        }
    }
}

impl Settings {
    /// Parses settings text, saying where it is wrong.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let settings: Settings = toml::from_str(text).map_err(|e| e.to_string())?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that parse but cannot be right.
    pub fn validate(&self) -> Result<(), String> {
        self.check().map_err(|e| e.to_string())
    }

    /// Checks values that parse but cannot be right, naming the first setting that is wrong.
    pub fn check(&self) -> Result<(), InvalidSetting> {
        let invalid = |key: &'static str, reason: String| Err(InvalidSetting { key, reason });
        if self.pbx_time_zone.parse::<chrono_tz::Tz>().is_err() {
            return invalid(
                "pbx_time_zone",
                format!("{:?} is not a known time zone", self.pbx_time_zone),
            );
        }
        if let Some(t) = &self.crm_url_template {
            check_crm_url_template(t).or_else(|reason| invalid("crm_url_template", reason))?;
        }
        if let Some(w) = &self.workplace
            && let Err(e) = mtt_api::SipId::parse(w)
        {
            return invalid("workplace", e.to_string());
        }
        if let Err(reason) = self.routing.validate() {
            return invalid("routing", reason);
        }
        for (key, keep) in [
            ("retention.calls", self.retention.calls),
            ("retention.raw_events", self.retention.raw_events),
        ] {
            if let Err(reason) = crate::retention::KeepFor::from_days(keep.days()) {
                return invalid(key, reason);
            }
        }
        if let Err(reason) = self.wrapup.check() {
            return invalid("wrapup.tags", reason);
        }
        if let Err(reason) = crate::hotkey::canonical_hotkey(&self.hotkey) {
            return invalid("hotkey", reason);
        }
        if let Some(v) = &self.account.redirect_uri
            && let Err(e) = url::Url::parse(v)
        {
            return invalid("account.redirect_uri", format!("{v:?} is not a URL: {e}"));
        }
        // Secrets travel to these: https, or plain http on this computer only.
        for (key, value, carries) in [
            ("account.relay_url", &self.account.relay_url, RELAY_CARRIES),
            ("account.oauth_url", &self.account.oauth_url, MTT_CARRIES),
            ("account.api_url", &self.account.api_url, MTT_CARRIES),
        ] {
            if let Some(v) = value
                && let Err(reason) = secure_url(v, carries)
            {
                return invalid(key, reason);
            }
        }
        Ok(())
    }
}

impl Settings {
    /// The CRM's address for a number (digits and `+` only go in, percent-encoded), or `None`
    /// when no template is set or the result is not an http(s) address.
    pub fn crm_url(&self, number: &str) -> Option<url::Url> {
        let template = self.crm_url_template.as_deref()?;
        let digits: String = number
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        if digits.is_empty() {
            return None;
        }
        let url =
            url::Url::parse(&template.replace("{number}", &digits.replace('+', "%2B"))).ok()?;
        matches!(url.scheme(), "https" | "http").then_some(url)
    }
}

/// Checks a CRM address template: `{number}` somewhere in an http(s) address.
fn check_crm_url_template(template: &str) -> Result<(), String> {
    if !template.contains("{number}") {
        return Err(format!("{template:?} must contain {{number}}"));
    }
    let example = template.replace("{number}", "79219462761");
    match url::Url::parse(&example) {
        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => Ok(()),
        _ => Err(format!(
            "{template:?} must be an http(s) address, like https://crm.example.com/find?phone={{number}}"
        )),
    }
}

/// The integration's public settings. Its secret lives in the keyring, not here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct AccountSettings {
    /// The integration's client id.
    pub client_id: Option<String>,
    /// The Redirect URI registered in the cabinet.
    pub redirect_uri: Option<String>,
    /// The relay's base address, for the event stream and the sign-in hand-off.
    pub relay_url: Option<String>,
    /// Overrides MTT's OAuth server (the simulator, tests).
    pub oauth_url: Option<String>,
    /// Overrides MTT's Open API host (the simulator, tests).
    pub api_url: Option<String>,
    /// Send a PKCE challenge at sign-in.
    pub pkce: bool,
}

/// When the incoming-call popup appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct PopupSettings {
    /// Popups at all (the tray's do-not-disturb turns this off).
    pub enabled: bool,
    /// For my calls only, or every incoming call.
    pub scope: PopupScope,
}

impl Default for PopupSettings {
    fn default() -> Self {
        PopupSettings {
            enabled: true,
            scope: PopupScope::Mine,
        }
    }
}

/// Whose calls pop up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PopupScope {
    /// Calls to my workplace or its terminals.
    Mine,
    /// Every incoming call on the account.
    AllIncoming,
}

/// Which native notifications are sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct NotificationSettings {
    /// On an incoming call.
    pub incoming: bool,
    /// On a missed call.
    pub missed: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            incoming: true,
            missed: true,
        }
    }
}

/// What phone links do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct LinkSettings {
    /// Ask before dialing a number that came from a link or the hotkey (otherwise only fill in
    /// the dialer).
    pub dial_after_confirmation: bool,
}

impl Default for LinkSettings {
    fn default() -> Self {
        LinkSettings {
            dial_after_confirmation: true,
        }
    }
}

/// The interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Follow the operating system.
    System,
    /// Русский.
    Ru,
    /// English.
    En,
}

/// The colour theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Follow the operating system.
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(dir: &Path, name: &str) -> Profile {
        Profile::under(name, &dir.join("config"), &dir.join("data")).unwrap()
    }

    #[test]
    fn settings_round_trip_and_a_missing_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = profile(dir.path(), "work");
        assert_eq!(p.load_settings().unwrap(), Settings::default());
        let mut s = Settings {
            workplace: Some("883140582526566".into()),
            crm_url_template: Some("https://crm.example.com/find?phone={number}".into()),
            ..Settings::default()
        };
        s.account.client_id = Some("ccb350cc-6218-40b0-b134-3d290f00b9e7".into());
        p.save_settings(&s).unwrap();
        assert_eq!(p.load_settings().unwrap(), s);
        assert!(!p.settings_path().with_extension("toml.tmp").exists());
    }

    #[test]
    fn wrapup_settings_round_trip_and_an_older_file_gets_the_defaults() {
        use crate::wrapup::{WrapUpOffer, WrapUpSettings};
        let dir = tempfile::tempdir().unwrap();
        let p = profile(dir.path(), "work");
        let s = Settings {
            wrapup: WrapUpSettings {
                offer: WrapUpOffer::Always,
                tags: vec!["Продажа".into(), "support".into()],
            },
            ..Settings::default()
        };
        p.save_settings(&s).unwrap();
        assert_eq!(p.load_settings().unwrap(), s);
        let older = Settings::from_toml("hotkey = \"Ctrl+Alt+D\"").unwrap();
        assert_eq!(older.wrapup.offer, WrapUpOffer::Answered);
        assert!(older.wrapup.tags.is_empty());
        let never = Settings::from_toml("[wrapup]\noffer = \"never\"").unwrap();
        assert_eq!(never.wrapup.offer, WrapUpOffer::Never);
        let err = Settings::from_toml("[wrapup]\ntags = [\"a\", \"A\"]").unwrap_err();
        assert!(err.contains("wrapup.tags"), "{err}");
    }

    #[test]
    fn retention_round_trips_and_an_older_file_without_it_loads_the_defaults() {
        use crate::retention::{KeepFor, RetentionSettings};
        let dir = tempfile::tempdir().unwrap();
        let p = profile(dir.path(), "work");
        // A file written before retention existed: every other key, no `[retention]`.
        std::fs::create_dir_all(p.settings_path().parent().unwrap()).unwrap();
        std::fs::write(
            p.settings_path(),
            "hotkey = \"Ctrl+Alt+D\"\nrouter = false\n[popups]\nenabled = true\n",
        )
        .unwrap();
        let old = p.load_settings().unwrap();
        assert_eq!(old.retention, RetentionSettings::default());
        assert_eq!(old.retention.calls, KeepFor::Days(1095));
        assert_eq!(old.retention.raw_events, KeepFor::Days(90));
        // Half a section takes the default for the other half.
        let half = Settings::from_toml("[retention]\ncalls = \"forever\"\n").unwrap();
        assert_eq!(half.retention.calls, KeepFor::Forever);
        assert_eq!(half.retention.raw_events, KeepFor::Days(90));
        for retention in [
            RetentionSettings {
                calls: KeepFor::Forever,
                raw_events: KeepFor::Days(7),
            },
            RetentionSettings {
                calls: KeepFor::Days(30),
                raw_events: KeepFor::Forever,
            },
        ] {
            let s = Settings {
                retention,
                ..Settings::default()
            };
            p.save_settings(&s).unwrap();
            assert_eq!(p.load_settings().unwrap(), s);
        }
        let text = std::fs::read_to_string(p.settings_path()).unwrap();
        assert!(text.contains("raw_events = \"forever\""), "{text}");
        // A period that cannot be is refused with its key, and never written.
        let s = Settings {
            retention: RetentionSettings {
                calls: KeepFor::Days(0),
                raw_events: KeepFor::Days(90),
            },
            ..Settings::default()
        };
        assert_eq!(s.check().unwrap_err().key, "retention.calls");
        assert!(p.save_settings(&s).is_err());
        let err = Settings::from_toml("[retention]\nraw_events = 0").unwrap_err();
        assert!(err.contains("raw_events"), "{err}");
    }

    #[test]
    fn a_broken_file_is_reported_with_its_line_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = profile(dir.path(), "work");
        std::fs::create_dir_all(p.settings_path().parent().unwrap()).unwrap();
        std::fs::write(p.settings_path(), "hotkey = \"Ctrl+D\"\nrouter = maybe\n").unwrap();
        let err = p.load_settings().unwrap_err().to_string();
        assert!(
            err.contains("settings.toml") && err.contains("line 2"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(p.settings_path()).unwrap(),
            "hotkey = \"Ctrl+D\"\nrouter = maybe\n"
        );
    }

    #[test]
    fn values_that_cannot_be_right_are_refused() {
        for (text, needle) in [
            ("pbx_time_zone = \"Mars/Olympus\"", "time zone"),
            ("crm_url_template = \"https://crm/x\"", "{number}"),
            (
                "crm_url_template = \"javascript:alert({number})\"",
                "http(s)",
            ),
            ("workplace = \"abc\"", "workplace"),
            ("[account]\nrelay_url = \"not a url\"", "relay_url"),
            (
                "[account]\nrelay_url = \"http://relay.example.com\"",
                "account.relay_url: ",
            ),
            (
                "[account]\nrelay_url = \"ftp://relay.example.com\"",
                "account.relay_url: ",
            ),
            ("hotkey = \"D\"", "hotkey: "),
            ("hotkey = \"Ctrl+Alt+D+E\"", "two keys"),
        ] {
            let err = Settings::from_toml(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
        assert!(Settings::from_toml("some_future_key = 1").is_ok());
        let invalid = Settings::from_toml("crm_url_template = \"https://crm/x\"")
            .map(|_| ())
            .unwrap_err();
        assert!(invalid.starts_with("crm_url_template: "), "{invalid}");
        let s = Settings {
            hotkey: "Ctrl+Alt".into(),
            ..Settings::default()
        };
        assert_eq!(s.check().unwrap_err().key, "hotkey");
        assert!(!s.autostart && !s.welcomed, "off until chosen");
    }

    #[test]
    fn the_relay_is_reached_over_https_or_on_this_computer_only() {
        for fine in [
            "https://relay.example.com",
            "https://relay.example.com:8443/base/",
            "http://127.0.0.1:8080",
            "http://127.8.9.10:8080",
            "http://[::1]:8080",
            "http://localhost:8080",
            "http://LOCALHOST",
        ] {
            let mut s = Settings::default();
            s.account.relay_url = Some(fine.into());
            assert_eq!(s.check(), Ok(()), "{fine}");
        }
        for plain in [
            "http://relay.example.com",
            "http://10.0.0.5:8080",
            "http://[fe80::1]:8080",
            "http://localhost.example.com",
            "http://128.0.0.1",
        ] {
            let mut s = Settings::default();
            s.account.relay_url = Some(plain.into());
            let invalid = s.check().unwrap_err();
            assert_eq!(invalid.key, "account.relay_url", "{plain}");
            assert!(invalid.reason.contains("https://"), "{}", invalid.reason);
        }
        // MTT's hosts get the client secret and the tokens: the same rule.
        let mut s = Settings::default();
        s.account.oauth_url = Some("http://oauth.example.com".into());
        assert_eq!(s.check().unwrap_err().key, "account.oauth_url");
        s.account.oauth_url = Some("http://127.0.0.1:9000".into());
        s.account.api_url = Some("http://api.example.com".into());
        assert_eq!(s.check().unwrap_err().key, "account.api_url");
    }

    #[cfg(unix)]
    #[test]
    fn the_settings_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = profile(dir.path(), "work");
        let mut s = Settings::default();
        s.account.redirect_uri = Some("https://relay.example.com/hook-secret".into());
        p.save_settings(&s).unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&p.settings_path()), 0o600);
        // A file an older version left readable by all is replaced by one that is not.
        std::fs::set_permissions(p.settings_path(), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        // So is a temporary file a crash left behind.
        let temporary = p.settings_path().with_extension("toml.tmp");
        std::fs::write(&temporary, "left over").unwrap();
        std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o644)).unwrap();
        p.save_settings(&s).unwrap();
        assert_eq!(mode(&p.settings_path()), 0o600);
        assert_eq!(p.load_settings().unwrap(), s);
        assert!(!temporary.exists());
    }

    #[test]
    fn profiles_are_separate_and_names_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let demo = profile(dir.path(), DEMO_PROFILE);
        let real = profile(dir.path(), DEFAULT_PROFILE);
        assert!(demo.is_demo() && !real.is_demo());
        assert_ne!(demo.call_log_path(), real.call_log_path());
        for bad in ["", "../etc", "a b", &"x".repeat(33)] {
            assert!(
                Profile::under(bad, dir.path(), dir.path()).is_err(),
                "{bad:?}"
            );
        }
    }
}
