//! The relay's configuration: the typed [`RelayConfig`] the library runs on, and the TOML
//! [`ConfigFile`] that `trubka-relay init` writes and `serve` reads.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::error::RelayError;
use crate::store::DatabaseUrl;

mod console;
mod location;
mod syntax;
pub use console::ConsoleSection;
use syntax::syntax_message;

/// The secret path segment of the Redirect URI (`https://<host>/<hook>`).
///
/// Whoever knows it can post notifications and land OAuth redirects, so it is a secret: it
/// prints as `[redacted]` and is compared in constant time.
#[derive(Clone, PartialEq, Eq)]
pub struct HookPath(String);

impl HookPath {
    /// The fewest characters a hook may have: 22 URL-safe base64 characters carry 132 bits.
    pub const MIN_LEN: usize = 22;
    const MAX_LEN: usize = 128;

    /// A fresh hook of 192 random bits.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Checks a hook read from configuration.
    pub fn parse(text: &str) -> Result<Self, RelayError> {
        let valid_chars = text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&text.len()) || !valid_chars {
            return Err(RelayError::ConfigValue {
                field: "hook",
                reason: format!(
                    "a hook is {} to {} characters of letters, digits, '-' and '_' (run `trubka-relay init` to generate one)",
                    Self::MIN_LEN,
                    Self::MAX_LEN
                ),
            });
        }
        Ok(Self(text.to_owned()))
    }

    /// The hook itself, for building the Redirect URI. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether a request's path segment is this hook, in time independent of where they differ.
    pub fn matches(&self, candidate: &str) -> bool {
        self.0.as_bytes().ct_eq(candidate.as_bytes()).into()
    }
}

impl fmt::Debug for HookPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HookPath([redacted])")
    }
}

impl fmt::Display for HookPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Everything the relay needs to run.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The public base URL the PBX and the browser reach (`https://relay.example.com`), without
    /// a trailing slash; `None` means "`http://` and the local address", for loopback use.
    pub public_url: Option<String>,
    /// The secret path segment of the Redirect URI.
    pub hook: HookPath,
    /// The SQLite database file (unused when `postgres` is set).
    pub database: PathBuf,
    /// The Postgres database, when the configuration's `database` is a `postgres://` address:
    /// every piece of state lives there instead of the SQLite file.
    pub postgres: Option<DatabaseUrl>,
    /// The largest notification body accepted, in bytes.
    pub body_limit: usize,
    /// The deepest JSON nesting accepted in a notification (the PBX's own is about 5).
    pub max_nesting: usize,
    /// A call leg's notification received again within this window is stored once; every other
    /// notification (a directory change, say) is stored and streamed each time.
    pub duplicate_window: Duration,
    /// Events older than this are removed.
    pub retention: Duration,
    /// Audit log entries older than this are removed (a year by default).
    pub audit_retention: Duration,
    /// The team's wrap-ups saved before this are removed (a year by default).
    pub wrapup_retention: Duration,
    /// Routing decisions made before this are removed from the journal (a year by default).
    pub routing_journal_retention: Duration,
    /// How often retention runs.
    pub prune_interval: Duration,
    /// How often a quiet stream gets a heartbeat comment.
    pub heartbeat: Duration,
    /// The reconnection delay suggested to stream clients (`retry:`).
    pub retry: Duration,
    /// How many live events may wait for one stream client before it is cut off.
    pub client_buffer: usize,
    /// The longest a `GET /oauth/code/<state>` waits for the browser's landing.
    pub oauth_poll_timeout: Duration,
    /// How long a received OAuth code waits to be fetched.
    pub oauth_code_ttl: Duration,
    /// A `trubka://` link the sign-in page offers (and follows) to return to the app.
    pub app_link: Option<String>,
    /// The most `GET /oauth/code/<state>` long polls waiting at once; past it the relay answers
    /// 503 at once instead of holding another socket for the poll's whole duration.
    pub oauth_polls_max: usize,
    /// The most event streams open at once, all keys together; past it 503.
    pub streams_max: usize,
    /// The most event streams one client key may hold open at once; past it 429.
    pub streams_per_key: usize,
    /// How often the relay looks for keys added or revoked by another process (`trubka-relay
    /// keys`) even when no request comes; a revoked key's open streams end then.
    pub keys_recheck: Duration,
    /// How long a connection may take to send a request's headers, and how long an idle
    /// keep-alive connection is kept; then it is closed.
    pub header_read_timeout: Duration,
    /// The longest a short request (intake, the sign-in landing) may take, reading its body
    /// included; then 408. Streams and long polls have their own bounds.
    pub request_timeout: Duration,
    /// The size the store's write-ahead log is brought back under after a burst, in bytes.
    pub wal_limit: u64,
    /// The at-rest key's file (see the `sealing` module); `TRUBKA_RELAY_KEY` overrides it.
    pub key_file: PathBuf,
    /// In team mode (an integration connected), still admit personal-mode client keys, which
    /// get the unfiltered stream.
    pub allow_client_keys: bool,
    /// МТТ's OAuth server (the simulator's in tests).
    pub mtt_oauth_url: String,
    /// МТТ's Open API.
    pub mtt_api_url: String,
    /// The integration's access token is refreshed this long before it expires.
    pub refresh_margin: Duration,
    /// Join attempts (`POST /team/join`) the relay takes per minute, all clients together; past
    /// it 429.
    pub join_attempts_per_minute: u32,
    /// The admin console's time zone, sign-in lock and stream caps.
    pub console: crate::console_state::ConsoleSettings,
}

impl RelayConfig {
    /// A configuration with the documented defaults, listening on loopback with a free port.
    pub fn new(hook: HookPath, database: PathBuf) -> Self {
        // Beside the database until a configuration file says otherwise (then beside it).
        let key_file = database.parent().map_or_else(
            || PathBuf::from(DEFAULT_KEY_FILE),
            |dir| dir.join(DEFAULT_KEY_FILE),
        );
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            public_url: None,
            hook,
            database,
            postgres: None,
            body_limit: 256 * 1024,
            max_nesting: 64,
            duplicate_window: Duration::from_secs(10 * 60),
            retention: Duration::from_secs(7 * 24 * 3600),
            audit_retention: Duration::from_secs(365 * 24 * 3600),
            wrapup_retention: Duration::from_secs(365 * 24 * 3600),
            routing_journal_retention: Duration::from_secs(365 * 24 * 3600),
            prune_interval: Duration::from_secs(3600),
            heartbeat: Duration::from_secs(15),
            retry: Duration::from_secs(3),
            client_buffer: 1024,
            oauth_poll_timeout: Duration::from_secs(30),
            oauth_code_ttl: Duration::from_secs(10 * 60),
            app_link: None,
            oauth_polls_max: 1024,
            streams_max: 4096,
            streams_per_key: 8,
            keys_recheck: Duration::from_millis(250),
            header_read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            wal_limit: 64 * 1024 * 1024,
            key_file,
            allow_client_keys: false,
            mtt_oauth_url: mtt_api::MTT_OAUTH_URL.to_owned(),
            mtt_api_url: mtt_api::MTT_API_URL.to_owned(),
            refresh_margin: Duration::from_secs(10 * 60),
            join_attempts_per_minute: 60,
            console: crate::console_state::ConsoleSettings::default(),
        }
    }

    /// Checks the values that would make the relay misbehave rather than fail.
    pub fn validate(&self) -> Result<(), RelayError> {
        let positive = |field: &'static str, value: bool| {
            if value {
                Ok(())
            } else {
                Err(RelayError::ConfigValue {
                    field,
                    reason: "must be greater than zero".into(),
                })
            }
        };
        positive("body_limit_bytes", self.body_limit > 0)?;
        positive("client_buffer", self.client_buffer > 0)?;
        positive("heartbeat_ms", !self.heartbeat.is_zero())?;
        positive("prune_interval_secs", !self.prune_interval.is_zero())?;
        positive("retention_days", !self.retention.is_zero())?;
        positive("audit_retention_days", !self.audit_retention.is_zero())?;
        positive("wrapup_retention_days", !self.wrapup_retention.is_zero())?;
        positive(
            "routing_journal_retention_days",
            !self.routing_journal_retention.is_zero(),
        )?;
        positive("oauth_polls_max", self.oauth_polls_max > 0)?;
        positive("streams_max", self.streams_max > 0)?;
        positive("streams_per_key", self.streams_per_key > 0)?;
        positive("keys_recheck_ms", !self.keys_recheck.is_zero())?;
        positive(
            "header_read_timeout_ms",
            !self.header_read_timeout.is_zero(),
        )?;
        positive("request_timeout_ms", !self.request_timeout.is_zero())?;
        positive("wal_limit_bytes", self.wal_limit > 0)?;
        positive(
            "join_attempts_per_minute",
            self.join_attempts_per_minute > 0,
        )?;
        for (field, url) in [
            ("mtt_oauth_url", &self.mtt_oauth_url),
            ("mtt_api_url", &self.mtt_api_url),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(RelayError::ConfigValue {
                    field,
                    reason: format!("{url:?} is not an http(s) URL"),
                });
            }
        }
        if self.oauth_polls_max > tokio::sync::Semaphore::MAX_PERMITS {
            return Err(RelayError::ConfigValue {
                field: "oauth_polls_max",
                reason: "too large".into(),
            });
        }
        if let Some(url) = &self.public_url {
            check_public_url(url)?;
        }
        if let Some(link) = &self.app_link
            && !link.starts_with("trubka://")
        {
            return Err(RelayError::ConfigValue {
                field: "app_link",
                reason: "must start with trubka://".into(),
            });
        }
        Ok(())
    }
}

fn check_public_url(url: &str) -> Result<(), RelayError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.ends_with('/') && !host.contains(['?', '#']) => {
            Ok(())
        }
        _ => Err(RelayError::ConfigValue {
            field: "public_url",
            reason: format!(
                "{url:?} must be an http(s) URL without a trailing slash, query or fragment, e.g. https://relay.example.com"
            ),
        }),
    }
}

/// The configuration file (TOML). Every field may be left out and then takes its default;
/// only `hook` is required.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `listen = "127.0.0.1:8787"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `public_url = "https://relay.example.com"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// The secret hook path segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<String>,
    /// The database file (a relative path is taken from the configuration file's folder), or a
    /// Postgres database: `postgres://user@host:port/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<PathBuf>,
    /// Largest notification body in bytes (default 262144).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_limit_bytes: Option<usize>,
    /// Duplicate window in seconds (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_window_secs: Option<u64>,
    /// Retention in days (default 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u64>,
    /// How long the audit log of the seats' actions is kept, in days (default 365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_retention_days: Option<u64>,
    /// How long the team's wrap-ups (notes and tags) are kept, in days (default 365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapup_retention_days: Option<u64>,
    /// How long the journal of routing decisions is kept, in days (default 365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_journal_retention_days: Option<u64>,
    /// How often retention runs, in seconds (default 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune_interval_secs: Option<u64>,
    /// Heartbeat interval in milliseconds (default 15000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_ms: Option<u64>,
    /// Suggested reconnection delay in milliseconds (default 3000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_ms: Option<u64>,
    /// Live events buffered per stream client before it is cut off (default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_buffer: Option<usize>,
    /// Longest OAuth code long poll in milliseconds (default 30000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_poll_timeout_ms: Option<u64>,
    /// How long a received OAuth code is kept, in seconds (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_code_ttl_secs: Option<u64>,
    /// `app_link = "trubka://signed-in"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_link: Option<String>,
    /// Sign-in long polls waiting at once before the next gets 503 (default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_polls_max: Option<usize>,
    /// Event streams open at once, all keys together, before the next gets 503 (default 4096).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams_max: Option<usize>,
    /// Event streams one client key may hold open before the next gets 429 (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams_per_key: Option<usize>,
    /// How often keys changed by another process are looked for, in milliseconds (default 250).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_recheck_ms: Option<u64>,
    /// Time to send a request's headers, and to keep an idle connection, in milliseconds
    /// (default 30000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_read_timeout_ms: Option<u64>,
    /// Longest intake or landing request, body included, in milliseconds (default 30000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout_ms: Option<u64>,
    /// The write-ahead log is brought back under this many bytes after a burst (default 64 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal_limit_bytes: Option<u64>,
    /// The at-rest key's file; a relative path is taken from the configuration file's folder
    /// (default `trubka-relay.key` beside it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// In team mode, still admit personal-mode client keys (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_client_keys: Option<bool>,
    /// МТТ's OAuth server (default `https://oauth.mtt.ru`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtt_oauth_url: Option<String>,
    /// МТТ's Open API (default `https://openapi.mtt.ru`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtt_api_url: Option<String>,
    /// How long before expiry the integration's access token is refreshed, in seconds
    /// (default 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_margin_secs: Option<u64>,
    /// Join attempts taken per minute, all clients together (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_attempts_per_minute: Option<u32>,
    /// `[console]`: the admin console's time zone, sign-in lock and stream caps (last: a table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console: Option<ConsoleSection>,
}

/// The database file name used when the configuration names none.
pub const DEFAULT_DATABASE: &str = "trubka-relay.sqlite3";

/// The at-rest key's file name used when the configuration names none (beside it).
pub const DEFAULT_KEY_FILE: &str = "trubka-relay.key";

/// The packaged relay's configuration folder (configuration and key).
pub const PACKAGED_CONFIG_DIR: &str = "/etc/trubka-relay";
/// The packaged relay's configuration file, used when no `--config` is given and there is no
/// `trubka-relay.toml` in the working folder.
pub const PACKAGED_CONFIG: &str = "/etc/trubka-relay/relay.toml";
/// The packaged relay's data folder (the database).
pub const PACKAGED_DATA_DIR: &str = "/var/lib/trubka-relay";

/// Where a relative database path is taken from: the packaged data folder for a configuration
/// in the packaged configuration folder (nothing is written under `/etc`), else the
/// configuration's own folder (a developer's run).
pub fn data_dir_for(config_dir: &Path) -> PathBuf {
    if config_dir == Path::new(PACKAGED_CONFIG_DIR) {
        PathBuf::from(PACKAGED_DATA_DIR)
    } else {
        config_dir.to_path_buf()
    }
}

impl ConfigFile {
    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self, RelayError> {
        let text = std::fs::read_to_string(path).map_err(|source| RelayError::ConfigFile {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|err| RelayError::ConfigSyntax {
            path: path.to_path_buf(),
            message: syntax_message(&text, &err),
        })
    }

    /// Writes the file with an explanatory header, readable by its owner only from the start
    /// and replaced whole (see [`write_private`]); refuses to replace an existing file unless
    /// `force`.
    pub fn write(&self, path: &Path, force: bool) -> Result<(), RelayError> {
        if path.exists() && !force {
            return Err(RelayError::ConfigExists(path.to_path_buf()));
        }
        let body = toml::to_string(self).map_err(|err| RelayError::ConfigSyntax {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
        let text = format!(
            "# trubka-relay configuration. `hook` is a secret: whoever knows it can post events.\n\
             # Environment variables TRUBKA_RELAY_<FIELD> and command-line flags override these.\n\
             {body}"
        );
        write_private(path, text.as_bytes()).map_err(|source| RelayError::ConfigFile {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Applies `other`'s fields over this file's (flags and environment over the file).
    pub fn overridden_by(self, other: ConfigFile) -> ConfigFile {
        ConfigFile {
            listen: other.listen.or(self.listen),
            public_url: other.public_url.or(self.public_url),
            hook: other.hook.or(self.hook),
            database: other.database.or(self.database),
            body_limit_bytes: other.body_limit_bytes.or(self.body_limit_bytes),
            duplicate_window_secs: other.duplicate_window_secs.or(self.duplicate_window_secs),
            retention_days: other.retention_days.or(self.retention_days),
            audit_retention_days: other.audit_retention_days.or(self.audit_retention_days),
            wrapup_retention_days: other.wrapup_retention_days.or(self.wrapup_retention_days),
            routing_journal_retention_days: other
                .routing_journal_retention_days
                .or(self.routing_journal_retention_days),
            prune_interval_secs: other.prune_interval_secs.or(self.prune_interval_secs),
            heartbeat_ms: other.heartbeat_ms.or(self.heartbeat_ms),
            retry_ms: other.retry_ms.or(self.retry_ms),
            client_buffer: other.client_buffer.or(self.client_buffer),
            oauth_poll_timeout_ms: other.oauth_poll_timeout_ms.or(self.oauth_poll_timeout_ms),
            oauth_code_ttl_secs: other.oauth_code_ttl_secs.or(self.oauth_code_ttl_secs),
            app_link: other.app_link.or(self.app_link),
            oauth_polls_max: other.oauth_polls_max.or(self.oauth_polls_max),
            streams_max: other.streams_max.or(self.streams_max),
            streams_per_key: other.streams_per_key.or(self.streams_per_key),
            keys_recheck_ms: other.keys_recheck_ms.or(self.keys_recheck_ms),
            header_read_timeout_ms: other.header_read_timeout_ms.or(self.header_read_timeout_ms),
            request_timeout_ms: other.request_timeout_ms.or(self.request_timeout_ms),
            wal_limit_bytes: other.wal_limit_bytes.or(self.wal_limit_bytes),
            key_file: other.key_file.or(self.key_file),
            allow_client_keys: other.allow_client_keys.or(self.allow_client_keys),
            mtt_oauth_url: other.mtt_oauth_url.or(self.mtt_oauth_url),
            mtt_api_url: other.mtt_api_url.or(self.mtt_api_url),
            refresh_margin_secs: other.refresh_margin_secs.or(self.refresh_margin_secs),
            join_attempts_per_minute: other
                .join_attempts_per_minute
                .or(self.join_attempts_per_minute),
            console: other.console.or(self.console),
        }
    }

    /// The database path this file names, resolved against the data folder of `base_dir`
    /// (the configuration's folder; see [`data_dir_for`]).
    pub fn database_path(&self, base_dir: &Path) -> PathBuf {
        let database = self
            .database
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATABASE));
        if database.is_absolute() {
            database
        } else {
            data_dir_for(base_dir).join(database)
        }
    }

    /// The at-rest key's file this configuration names, resolved against `base_dir` (the
    /// configuration's folder: the key lives beside the configuration).
    pub fn key_file_path(&self, base_dir: &Path) -> PathBuf {
        let key_file = self
            .key_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_KEY_FILE));
        if key_file.is_absolute() {
            key_file
        } else {
            base_dir.join(key_file)
        }
    }

    /// The typed configuration; relative paths are taken from `base_dir`.
    pub fn into_config(self, base_dir: &Path) -> Result<RelayConfig, RelayError> {
        let hook = self.hook.as_deref().ok_or(RelayError::ConfigValue {
            field: "hook",
            reason: "missing; run `trubka-relay init` to write a configuration with a fresh hook"
                .into(),
        })?;
        let mut config = RelayConfig::new(HookPath::parse(hook)?, self.database_path(base_dir));
        config.key_file = self.key_file_path(base_dir);
        config.postgres = self.postgres()?;
        if let Some(allow) = self.allow_client_keys {
            config.allow_client_keys = allow;
        }
        if let Some(url) = self.mtt_oauth_url.clone() {
            config.mtt_oauth_url = url;
        }
        if let Some(url) = self.mtt_api_url.clone() {
            config.mtt_api_url = url;
        }
        if let Some(secs) = self.refresh_margin_secs {
            config.refresh_margin = Duration::from_secs(secs);
        }
        if let Some(attempts) = self.join_attempts_per_minute {
            config.join_attempts_per_minute = attempts;
        }
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        config.public_url = self.public_url;
        if let Some(limit) = self.body_limit_bytes {
            config.body_limit = limit;
        }
        if let Some(secs) = self.duplicate_window_secs {
            config.duplicate_window = Duration::from_secs(secs);
        }
        if let Some(days) = self.retention_days {
            config.retention = Duration::from_secs(days.checked_mul(24 * 3600).ok_or(
                RelayError::ConfigValue {
                    field: "retention_days",
                    reason: "too large".into(),
                },
            )?);
        }
        if let Some(days) = self.audit_retention_days {
            config.audit_retention = Duration::from_secs(days.checked_mul(24 * 3600).ok_or(
                RelayError::ConfigValue {
                    field: "audit_retention_days",
                    reason: "too large".into(),
                },
            )?);
        }
        if let Some(days) = self.wrapup_retention_days {
            config.wrapup_retention = Duration::from_secs(days.checked_mul(24 * 3600).ok_or(
                RelayError::ConfigValue {
                    field: "wrapup_retention_days",
                    reason: "too large".into(),
                },
            )?);
        }
        if let Some(days) = self.routing_journal_retention_days {
            config.routing_journal_retention = Duration::from_secs(
                days.checked_mul(24 * 3600).ok_or(RelayError::ConfigValue {
                    field: "routing_journal_retention_days",
                    reason: "too large".into(),
                })?,
            );
        }
        if let Some(secs) = self.prune_interval_secs {
            config.prune_interval = Duration::from_secs(secs);
        }
        if let Some(ms) = self.heartbeat_ms {
            config.heartbeat = Duration::from_millis(ms);
        }
        if let Some(ms) = self.retry_ms {
            config.retry = Duration::from_millis(ms);
        }
        if let Some(buffer) = self.client_buffer {
            config.client_buffer = buffer;
        }
        if let Some(ms) = self.oauth_poll_timeout_ms {
            config.oauth_poll_timeout = Duration::from_millis(ms);
        }
        if let Some(secs) = self.oauth_code_ttl_secs {
            config.oauth_code_ttl = Duration::from_secs(secs);
        }
        config.app_link = self.app_link;
        if let Some(max) = self.oauth_polls_max {
            config.oauth_polls_max = max;
        }
        if let Some(max) = self.streams_max {
            config.streams_max = max;
        }
        if let Some(max) = self.streams_per_key {
            config.streams_per_key = max;
        }
        if let Some(ms) = self.keys_recheck_ms {
            config.keys_recheck = Duration::from_millis(ms);
        }
        if let Some(ms) = self.header_read_timeout_ms {
            config.header_read_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = self.request_timeout_ms {
            config.request_timeout = Duration::from_millis(ms);
        }
        if let Some(bytes) = self.wal_limit_bytes {
            config.wal_limit = bytes;
        }
        config.console = console::console_settings(self.console.as_ref())?;
        config.validate()?;
        Ok(config)
    }
}

/// Writes a file that holds a secret (the configuration holds the hook): the contents go into a
/// new file beside `path`, created readable by its owner only (mode 0600 from its first moment,
/// never widened afterwards, whatever the umask), synced to disk, and then renamed over `path`,
/// so that `path` is always either the old file whole or the new one whole. A failure removes
/// the new file and leaves `path` as it was.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;

    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{:016x}.tmp", rand::random::<u64>()));
    let temp = dir.join(temp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)
    });
    if let Err(err) = written {
        // The new file is incomplete or was never renamed: it must not stay behind.
        let _ = std::fs::remove_file(&temp);
        return Err(err);
    }
    sync_dir(dir)
}

/// Makes a rename in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Windows cannot open a folder as a file; its renames are durable once they return.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests;
