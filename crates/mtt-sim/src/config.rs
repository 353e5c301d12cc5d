//! Everything that shapes a simulator run: the account, the OAuth client, timings, faults.
//!
//! A [`SimConfig`] can be built in code (tests start from [`SimConfig::default`] and change a
//! few fields) or read from a TOML file whose keys are the field names below; every key is
//! optional (`fixtures/sim.example.toml` shows them all). Durations are in milliseconds so
//! tests can shrink the PBX's real 5-second and 60-second windows to a few milliseconds.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// A secret (client secret, password) that never prints.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for comparison or for sending where it belongs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The whole configuration of one simulator run.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Where to listen. With port 0 each of the three servers (OAuth, API, control) gets its own
    /// free port; with a fixed port P they use P, P+1 and P+2.
    pub listen: SocketAddr,
    /// Seed of the random source (ids, tags, traffic), so runs are reproducible.
    pub seed: u64,
    /// Approve `/oauth/authorize` at once instead of showing the login form.
    pub auto_approve: bool,
    /// The cabinet login the form accepts.
    pub login: String,
    /// The cabinet password the form accepts.
    pub password: Secret,
    /// The registered integration.
    pub client: OAuthClientConfig,
    /// Lifetimes and rotation of OAuth codes and tokens.
    pub tokens: TokenConfig,
    /// When refresh tokens do not rotate (`tokens.rotate_refresh_tokens = false`), whether the
    /// refresh answer repeats the same refresh token (`true`) or leaves `refresh_token` out
    /// (`false`, the default). The document allows both readings; clients must handle each.
    pub repeat_kept_refresh_token: bool,
    /// Simulated seconds per real second (1: the wall clock's pace). Every simulated time —
    /// token lifetimes, ring and parking windows, talk times — runs this much faster, so
    /// 86 400 makes a refresh token's three days last three real seconds. The control API can
    /// change it while the simulator runs (`PUT /control/clock`).
    pub clock_scale: f64,
    /// Overrides where webhooks go (`<webhook_url>/events`); by default they go to the first
    /// registered redirect URI, as MTT does.
    pub webhook_url: Option<String>,
    /// Webhook delivery settings.
    pub webhook: WebhookConfig,
    /// The simulated PBX account.
    pub account: AccountConfig,
    /// Delays of the simulated people and the PBX's windows.
    pub timings: Timings,
    /// Injected latency and failures, keyed by method name (`makeCall`, `externalNumbersInfo`,
    /// `workPlacesInfo`, `terminalsInfo`, `terminateCall`, `transferCall`,
    /// `setParkingNumbers`, `token`, `authorize`).
    pub faults: BTreeMap<String, MethodFault>,
    /// Start the traffic generator at once.
    pub traffic: Option<TrafficConfig>,
    /// Whether makeCall answers with the id of the notified leg. The document's example shows a
    /// makeCall id in a different format from the notification ids, so by default the two differ
    /// and a client must not rely on them matching.
    pub make_call_id_is_leg_id: bool,
    /// What the PBX does with a new call for a workplace already on a call (the document does
    /// not say): ring it anyway (the default, a workplace takes any number of calls) or pass it
    /// by (`next_in_routing`: one call per workplace).
    pub busy_workplace: BusyWorkplace,
}

/// What the PBX does with a call for a workplace that is already on a call: talking in a
/// conversation, or the operator of a makeCall who has picked up. The document is silent (a
/// workplace may have several terminals, and phones may have call waiting), so the simulator
/// offers both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BusyWorkplace {
    /// Ring it as if it were free: a workplace may hold any number of calls.
    #[default]
    RingAnyway,
    /// One call per workplace: the cabinet's routing passes a busy workplace by (the rest of
    /// its group rings, or the next group; a call with no free workplace left is missed with
    /// `Busy here`, 486), a transfer to a busy workplace goes on as if it rang unanswered, a
    /// simulated person never picks up a second call, and the traffic generator places
    /// makeCalls only from free workplaces. Explicit actions (the control API's answer, an Open
    /// API makeCall) are never refused.
    NextInRouting,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            seed: 20_200_624,
            auto_approve: false,
            login: "demo".to_owned(),
            password: Secret::new("demo"),
            client: OAuthClientConfig::default(),
            tokens: TokenConfig::default(),
            repeat_kept_refresh_token: false,
            clock_scale: 1.0,
            webhook_url: None,
            webhook: WebhookConfig::default(),
            account: AccountConfig::default(),
            timings: Timings::default(),
            faults: BTreeMap::new(),
            traffic: None,
            make_call_id_is_leg_id: false,
            busy_workplace: BusyWorkplace::RingAnyway,
        }
    }
}

impl SimConfig {
    /// Reads a TOML configuration file.
    pub fn from_toml_file(path: &std::path::Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::ConfigFile {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&text).map_err(|e| match e {
            SimError::ConfigSyntax { message, .. } => SimError::ConfigSyntax {
                path: path.display().to_string(),
                message,
            },
            other => other,
        })
    }

    /// Parses TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self, SimError> {
        let config: Self = toml::from_str(text).map_err(|e| SimError::ConfigSyntax {
            path: "(text)".to_owned(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks that the configuration describes a consistent account.
    pub fn validate(&self) -> Result<(), SimError> {
        let account = &self.account;
        let workplaces: Vec<&str> = account
            .workplaces
            .iter()
            .map(|w| w.workplace.as_str())
            .collect();
        for group in &account.routing {
            for w in group {
                if !workplaces.contains(&w.as_str()) {
                    return Err(SimError::Config(format!(
                        "routing names workplace {w}, which is not in account.workplaces"
                    )));
                }
            }
        }
        let numbers: Vec<&str> = account.numbers.iter().map(|n| n.number.as_str()).collect();
        for p in &account.parked {
            if !numbers.contains(&p.as_str()) {
                return Err(SimError::Config(format!(
                    "parked number {p} is not in account.numbers"
                )));
            }
        }
        if !numbers.contains(&account.outgoing_number.as_str()) {
            return Err(SimError::Config(format!(
                "account.outgoing_number {} is not in account.numbers",
                account.outgoing_number
            )));
        }
        if self.client.redirect_uris.is_empty() {
            return Err(SimError::Config(
                "client.redirect_uris must name at least one redirect URI".to_owned(),
            ));
        }
        if let Some(traffic) = &self.traffic {
            traffic.validate()?;
        }
        self.oauth_settings().validate()?;
        crate::clock::check_scale(self.clock_scale).map_err(|e| SimError::Config(e.0))?;
        for (method, fault) in &self.faults {
            if !(0.0..=1.0).contains(&fault.failure_rate) {
                return Err(SimError::Config(format!(
                    "faults.{method}.failure_rate must be between 0 and 1, not {}",
                    fault.failure_rate
                )));
            }
        }
        Ok(())
    }

    /// The OAuth settings a simulator starts with.
    pub fn oauth_settings(&self) -> OAuthSettings {
        OAuthSettings {
            access_lifetime_ms: self.tokens.access_lifetime_ms,
            refresh_lifetime_ms: self.tokens.refresh_lifetime_ms,
            code_lifetime_ms: self.tokens.code_lifetime_ms,
            rotate_refresh_tokens: self.tokens.rotate_refresh_tokens,
            repeat_kept_refresh_token: self.repeat_kept_refresh_token,
        }
    }
}

/// How the OAuth server issues codes and tokens while it runs: the configuration's
/// [`TokenConfig`] and [`SimConfig::repeat_kept_refresh_token`], changeable through the
/// control API (`GET`/`PUT /control/oauth`). A change applies to codes and tokens issued from
/// then on; those already issued keep the expiry they were given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSettings {
    /// Access token lifetime (MTT: 2 hours).
    pub access_lifetime_ms: u64,
    /// Refresh token lifetime, fixed from issue (MTT: 3 calendar days).
    pub refresh_lifetime_ms: u64,
    /// Authorization code lifetime.
    pub code_lifetime_ms: u64,
    /// A refresh issues a new refresh token and revokes the one used.
    pub rotate_refresh_tokens: bool,
    /// Without rotation, the answer repeats the kept refresh token instead of leaving it out.
    pub repeat_kept_refresh_token: bool,
}

impl OAuthSettings {
    /// Checks that every lifetime is above zero.
    pub fn validate(&self) -> Result<(), SimError> {
        for (name, value) in [
            ("access_lifetime_ms", self.access_lifetime_ms),
            ("refresh_lifetime_ms", self.refresh_lifetime_ms),
            ("code_lifetime_ms", self.code_lifetime_ms),
        ] {
            if value == 0 {
                return Err(SimError::Config(format!(
                    "tokens.{name} must be above 0 milliseconds"
                )));
            }
        }
        Ok(())
    }
}

/// The integration registered in the cabinet.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthClientConfig {
    /// `client_id`, a UUID.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: Secret,
    /// Registered redirect URIs; `redirect_uri` must equal one of them exactly.
    pub redirect_uris: Vec<String>,
}

impl Default for OAuthClientConfig {
    fn default() -> Self {
        Self {
            client_id: "ccb350cc-6218-40b0-b134-3d290f00b9e7".to_owned(),
            client_secret: Secret::new("iNmTWpDLeYkyzkUTVuCQwa"),
            redirect_uris: vec!["https://oauth.myanycrm.ru".to_owned()],
        }
    }
}

/// OAuth lifetimes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// Access token lifetime (MTT: 2 hours).
    pub access_lifetime_ms: u64,
    /// Refresh token lifetime, fixed from issue (MTT: 3 calendar days).
    pub refresh_lifetime_ms: u64,
    /// Authorization code lifetime.
    pub code_lifetime_ms: u64,
    /// On refresh, issue a new refresh token (with its own lifetime from now) and revoke the
    /// one used; when off, the old one stays valid until its lifetime from first issue ends, and
    /// the answer leaves `refresh_token` out or repeats it
    /// ([`SimConfig::repeat_kept_refresh_token`]).
    pub rotate_refresh_tokens: bool,
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            access_lifetime_ms: 7_200_000,
            refresh_lifetime_ms: 3 * 24 * 3_600_000,
            code_lifetime_ms: 600_000,
            rotate_refresh_tokens: true,
        }
    }
}

/// Webhook delivery.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Parallel delivery lanes. Notifications of one call always use the same lane, so they
    /// arrive in order; different calls may overtake each other.
    pub lanes: usize,
    /// Per-request timeout.
    pub timeout_ms: u64,
    /// Retry on a non-2xx answer or a transport error. Off by default because MTT's own
    /// behaviour is not documented.
    pub retry: Option<RetryPolicy>,
    /// Entries kept in the delivery log.
    pub log_capacity: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            lanes: 4,
            timeout_ms: 5_000,
            retry: None,
            log_capacity: 10_000,
        }
    }
}

/// Retry with exponential backoff.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled before each further one.
    pub initial_backoff_ms: u64,
}

/// The account: numbers, workplaces, terminals and routing.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountConfig {
    /// `centrexId`, the same in every notification of this account.
    pub centrex_id: String,
    /// The account's external numbers.
    pub numbers: Vec<NumberConfig>,
    /// Workplaces with their terminals.
    pub workplaces: Vec<WorkplaceConfig>,
    /// Default routing of incoming calls: groups of workplaces rung together, one group after
    /// the other (each for `timings.ring_timeout_ms`).
    pub routing: Vec<Vec<String>>,
    /// The number shown as the caller of outgoing calls.
    pub outgoing_number: String,
    /// Numbers parked from the start.
    pub parked: Vec<String>,
}

/// One external number.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NumberConfig {
    /// The number, e.g. `78005560251`.
    pub number: String,
    /// The number's type in the PBX; the document only ever shows `null`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// One workplace.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WorkplaceConfig {
    /// The workplace's SIP ID (15 digits, `8831…`).
    pub workplace: String,
    /// Its name, possibly empty.
    #[serde(default)]
    pub name: String,
    /// SIP IDs of terminals registered to it.
    #[serde(default)]
    pub terminals: Vec<String>,
}

fn wp(workplace: &str, name: &str, terminals: &[&str]) -> WorkplaceConfig {
    WorkplaceConfig {
        workplace: workplace.to_owned(),
        name: name.to_owned(),
        terminals: terminals.iter().map(|t| (*t).to_owned()).collect(),
    }
}

impl Default for AccountConfig {
    fn default() -> Self {
        let numbers = [
            "78005560251",
            "74996497803",
            "74957775511",
            "74952128506",
            "78123334455",
        ]
        .into_iter()
        .map(|n| NumberConfig {
            number: n.to_owned(),
            kind: None,
        })
        .collect();
        Self {
            centrex_id: "48212857".to_owned(),
            numbers,
            workplaces: vec![
                wp(
                    "883140582526566",
                    "Иванова Анна",
                    &["883140582526567", "883140582526568"],
                ),
                wp("883140777716581", "", &["883140777716581"]),
                wp(
                    "883140777446532",
                    "Петров Сергей",
                    &["883140777446533", "883140777446534"],
                ),
                wp("883140777551201", "Смирнова Ольга", &["883140777551202"]),
                wp("883140777551301", "Кузнецов Дмитрий", &["883140777551302"]),
                wp("883140777551401", "Reception", &["883140777551402"]),
            ],
            routing: vec![
                vec![
                    "883140582526566".to_owned(),
                    "883140777446532".to_owned(),
                    "883140777551201".to_owned(),
                ],
                vec!["883140777551401".to_owned()],
            ],
            outgoing_number: "78005560251".to_owned(),
            parked: Vec::new(),
        }
    }
}

/// Delays of the simulated people and windows of the PBX.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Timings {
    /// How long a parked call waits for transferCall or terminateCall (MTT: 5 s).
    pub parking_window_ms: u64,
    /// How long makeCall rings the operator before giving up (MTT: one minute).
    pub operator_no_answer_ms: u64,
    /// How long one routing group, a transfer target or a dialled callee rings.
    pub ring_timeout_ms: u64,
    /// After how long the operator picks up a makeCall; `None`: never.
    pub operator_answer_ms: Option<u64>,
    /// After how long the callee of makeCall (or an external transfer target) picks up;
    /// `None`: never.
    pub callee_answer_ms: Option<u64>,
    /// After how long the first ringing workplace answers an incoming call; `None`: only when
    /// told through the control API.
    pub incoming_answer_ms: Option<u64>,
    /// How long a connected call lasts before the operator hangs up; `None`: until told.
    pub talk_ms: Option<u64>,
    /// Whether connected calls are recorded.
    pub recording: bool,
    /// Delay between `finished` and `recorded`.
    pub record_delay_ms: u64,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            parking_window_ms: 5_000,
            operator_no_answer_ms: 60_000,
            ring_timeout_ms: 30_000,
            operator_answer_ms: Some(1_500),
            callee_answer_ms: Some(3_000),
            incoming_answer_ms: None,
            talk_ms: Some(30_000),
            recording: true,
            record_delay_ms: 1_000,
        }
    }
}

/// Milliseconds to a duration.
pub(crate) fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Injected misbehaviour of one method.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MethodFault {
    /// Extra wait before answering.
    pub latency_ms: u64,
    /// Share of requests (0..=1) answered with `failure_status` instead of being served.
    pub failure_rate: f64,
    /// Status of injected failures; 503 when unset.
    pub failure_status: Option<u16>,
}

/// The traffic generator.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TrafficConfig {
    /// New calls per second.
    pub calls_per_second: f64,
    /// Factor applied to every human delay of generated calls (1.0: realistic seconds;
    /// 0.001: calls that last milliseconds, for benchmarks).
    pub time_scale: f64,
}

impl TrafficConfig {
    /// Checks that the rate and the time scale are positive numbers.
    pub fn validate(&self) -> Result<(), SimError> {
        if !(self.calls_per_second.is_finite() && self.calls_per_second > 0.0) {
            return Err(SimError::Config(format!(
                "traffic.calls_per_second must be a positive number, not {}",
                self.calls_per_second
            )));
        }
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(SimError::Config(format!(
                "traffic.time_scale must be a positive number, not {}",
                self.time_scale
            )));
        }
        Ok(())
    }
}

impl Default for TrafficConfig {
    fn default() -> Self {
        Self {
            calls_per_second: 0.2,
            time_scale: 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_secrets_do_not_print() {
        let config = SimConfig::default();
        config.validate().unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("iNmTWpDLeYkyzkUTVuCQwa"));
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    fn toml_overrides_only_what_it_names() {
        let config = SimConfig::from_toml_str(
            "seed = 7\nauto_approve = true\n[timings]\nparking_window_ms = 50\n",
        )
        .unwrap();
        assert_eq!(config.seed, 7);
        assert!(config.auto_approve);
        assert_eq!(config.timings.parking_window_ms, 50);
        assert_eq!(config.timings.operator_no_answer_ms, 60_000);
    }

    #[test]
    fn the_example_file_parses_with_every_section() {
        let config =
            SimConfig::from_toml_str(include_str!("../fixtures/sim.example.toml")).unwrap();
        assert_eq!(config.account.workplaces.len(), 3);
        assert_eq!(config.account.workplaces[0].name, "Иванова Анна");
        assert_eq!(config.account.numbers[1].kind.as_deref(), Some("main"));
        assert_eq!(config.faults["makeCall"].failure_status, Some(503));
        assert_eq!(config.webhook.retry.map(|r| r.max_attempts), Some(3));
        assert_eq!(config.timings.incoming_answer_ms, Some(4_000));
        assert!(config.traffic.is_some());
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let err = SimConfig::from_toml_str(
            "[timings]
parking_window = 5
",
        )
        .unwrap_err();
        assert!(err.to_string().contains("parking_window"), "{err}");
    }

    #[test]
    fn the_refresh_mode_and_the_clock_scale_are_read_and_checked() {
        let config = SimConfig::from_toml_str(
            "clock_scale = 86400.0\nrepeat_kept_refresh_token = true\n[tokens]\nrotate_refresh_tokens = false\n",
        )
        .unwrap();
        assert_eq!(config.clock_scale, 86_400.0);
        let settings = config.oauth_settings();
        assert!(!settings.rotate_refresh_tokens && settings.repeat_kept_refresh_token);
        assert_eq!(settings.refresh_lifetime_ms, 3 * 24 * 3_600_000);
        let defaults = SimConfig::default();
        assert_eq!(defaults.clock_scale, 1.0);
        assert!(defaults.tokens.rotate_refresh_tokens && !defaults.repeat_kept_refresh_token);
        for (text, names) in [
            ("clock_scale = 0.0\n", "clock scale"),
            ("clock_scale = -2.0\n", "clock scale"),
            ("[tokens]\nrefresh_lifetime_ms = 0\n", "refresh_lifetime_ms"),
        ] {
            let err = SimConfig::from_toml_str(text).unwrap_err();
            assert!(err.to_string().contains(names), "{text}: {err}");
        }
    }

    #[test]
    fn a_traffic_rate_must_be_positive() {
        let err = SimConfig::from_toml_str("[traffic]\ncalls_per_second = 0.0\n").unwrap_err();
        assert!(err.to_string().contains("calls_per_second"), "{err}");
    }

    #[test]
    fn routing_to_an_unknown_workplace_is_refused() {
        let err = SimConfig::from_toml_str("[account]\nrouting = [[\"1\"]]\n").unwrap_err();
        assert!(err.to_string().contains("workplace 1"), "{err}");
    }
}
