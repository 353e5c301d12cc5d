//! Integration custody: in team mode the relay holds the МТТ integration — its client id and
//! secret and its tokens, sealed at rest — and keeps the tokens fresh around the clock.
//!
//! - `trubka-relay team connect` ([`begin_connect`]) seals the client credentials, remembers
//!   the sign-in's `state` (by hash) and prints the authorize address, built by `mtt-api`.
//! - The browser lands on the relay's own Redirect URI; the landing asks [`Integration::land`]
//!   first, which recognises a state the relay started and exchanges the code itself through
//!   `mtt-api`'s session (an app's sign-in goes on to the hand-off as before).
//! - [`Integration::run`] wakes ahead of the access token's expiry (`refresh_margin`) and asks
//!   the session for a token, which refreshes it (one refresh at a time: the session's single
//!   flight). A refusal is logged as an error, counted (`trubka_relay_integration_refreshes_total
//!   {outcome="refused"}`), reported by `/readyz` and `team status`, and the relay goes on
//!   serving events. If МТТ does not rotate refresh tokens, the refresh token's lapse cannot be
//!   put off: a day before it the status warns.
//!
//! Every call to МТТ goes through `mtt-api`; the tokens live in [`SealedTokenStore`].

mod token_store;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use mtt_api::{Authorizer, Endpoints, HttpConfig, OAuthConfig, OAuthState, PendingSignIn, Session};
use sha2::{Digest, Sha256};
use team_api::{IntegrationState, TeamEvent, TeamNotice, TeamStatus};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use token_store::{ClientCredentials, INTEGRATION_TOKENS, SealedTokenStore};

use crate::additions::{Addition, offer};
use crate::config::RelayConfig;
use crate::error::RelayError;
use crate::handoff::SignIn;
use crate::metrics::{Metrics, RefreshOutcome};
use crate::sealing::Sealer;
use crate::store::team::{INTEGRATION_CLIENT, SharedTeamStore};
use crate::team_clock::{SessionClock, TeamClock, WallClock};

/// How long a sign-in started by `team connect` may take.
pub const CONNECT_TTL: TimeDelta = TimeDelta::minutes(30);
/// The plain fact under which the last known status is kept, for `team status`.
pub const STATUS_FACT: &str = "integration.status";
/// How long before a refresh token that does not rotate lapses the status warns.
pub const LAPSE_WARNING: TimeDelta = TimeDelta::days(1);
/// The longest the refresher sleeps between two looks (a connect in another process, the
/// lapse warning).
const LONGEST_NAP: Duration = Duration::from_secs(60);
/// How often the refresher looks for an integration while there is none, or no sign-in for
/// it: connected through another instance on the same database (or the command line), it is
/// in use within this.
const NOT_CONNECTED_LOOK: Duration = Duration::from_secs(2);
/// The first wait after a refresh that failed without a refusal; it doubles up to five
/// minutes.
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(300);

fn endpoints(config: &RelayConfig) -> Result<Endpoints, RelayError> {
    Endpoints::new(&config.mtt_oauth_url, &config.mtt_api_url).map_err(|source| RelayError::Mtt {
        what: "МТТ's addresses (mtt_oauth_url, mtt_api_url)",
        source,
    })
}

/// How long a seat's action may wait for МТТ before the relay answers 504 `pbx_timeout` (the
/// action may or may not have happened; it is never sent again). Below the app's 3 s ceiling
/// for the relay, so the relay always answers first.
pub const SEAT_ACTION_DEADLINE: Duration = Duration::from_secs(2);

/// The relay's client to МТТ. A server reaches МТТ directly: the system-proxy lookup the desktop
/// wants (`reqwest`'s `system-proxy`, unified across the workspace) is turned off here.
fn mtt_http(http_config: HttpConfig) -> Result<reqwest::Client, RelayError> {
    mtt_api::build_http_client(mtt_api::http_client_builder(http_config).no_proxy()).map_err(
        |source| RelayError::Mtt {
            what: "the HTTP client for МТТ",
            source,
        },
    )
}

fn authorizer(
    config: &RelayConfig,
    redirect_uri: &str,
    credentials: &ClientCredentials,
) -> Result<Authorizer, RelayError> {
    let http_config = HttpConfig::default();
    let http = mtt_http(http_config)?;
    Authorizer::new(
        OAuthConfig {
            client_id: credentials.client_id.clone(),
            client_secret: credentials.client_secret.clone(),
            redirect_uri: redirect_uri.to_owned(),
            endpoints: endpoints(config)?,
            pkce: false,
        },
        http,
        http_config,
    )
    .map_err(|source| RelayError::Mtt {
        what: "the integration's settings",
        source,
    })
}

fn state_hash(state: &str) -> [u8; 32] {
    Sha256::digest(state.as_bytes()).into()
}

/// Seals the integration's client credentials into the store and starts a sign-in that lands
/// on the relay: returns the authorize address to open in a browser. The relay (running now or
/// started within [`CONNECT_TTL`]) exchanges the code when the browser lands.
pub async fn begin_connect(
    team: &SharedTeamStore,
    sealer: &Sealer,
    config: &RelayConfig,
    redirect_uri: &str,
    credentials: ClientCredentials,
) -> Result<String, RelayError> {
    let authorizer = authorizer(config, redirect_uri, &credentials)?;
    let plain = serde_json::to_vec(&credentials).map_err(|err| RelayError::Sealed {
        name: INTEGRATION_CLIENT.into(),
        reason: err.to_string(),
    })?;
    team.put_sealed(
        INTEGRATION_CLIENT.to_owned(),
        sealer.seal(INTEGRATION_CLIENT, &plain)?,
    )
    .await?;
    let pending = authorizer.begin();
    team.add_connect_state(
        state_hash(pending.state().expose()),
        Utc::now() + CONNECT_TTL,
    )
    .await?;
    Ok(pending.url.to_string())
}

/// The client credentials sealed in the store, if an integration was connected.
pub async fn client_credentials(
    team: &SharedTeamStore,
    sealer: &Sealer,
) -> Result<Option<ClientCredentials>, RelayError> {
    match team.sealed(INTEGRATION_CLIENT.to_owned()).await? {
        Some(sealed) => open_credentials(sealer, &sealed).map(Some),
        None => Ok(None),
    }
}

fn open_credentials(sealer: &Sealer, sealed: &[u8]) -> Result<ClientCredentials, RelayError> {
    let plain = sealer.open(INTEGRATION_CLIENT, sealed)?;
    serde_json::from_slice(&plain).map_err(|_| RelayError::Sealed {
        name: INTEGRATION_CLIENT.into(),
        reason: "it opens, but is not the integration's credentials".into(),
    })
}

/// The session in use, and the sealed credentials it was made from.
struct CachedSession {
    sealed: Vec<u8>,
    session: Arc<Session>,
}

/// The last status a running relay recorded (for `team status`).
pub async fn recorded_status(team: &SharedTeamStore) -> Result<Option<TeamStatus>, RelayError> {
    Ok(team
        .fact(STATUS_FACT.to_owned())
        .await?
        .and_then(|text| serde_json::from_str(&text).ok()))
}

/// What the refresher knows.
#[derive(Debug)]
struct Health {
    status: TeamStatus,
    /// МТТ refused the refresh token: only a new connect helps.
    refused: bool,
    /// The lapse warning was logged.
    warned: bool,
    /// The status last written for `team status`.
    recorded: Option<TeamStatus>,
    /// The last look found the integration's credentials but no sign-in: a sign-in found
    /// later (landed on another instance) starts afresh, whatever failed before.
    awaiting_sign_in: bool,
}

/// The relay's hold on the integration.
pub struct Integration {
    team: SharedTeamStore,
    /// The at-rest key: given at start, or read from `key_file` once it appears (an `init`
    /// after the relay started).
    sealer: Mutex<Option<Sealer>>,
    key_file: PathBuf,
    config: Arc<RelayConfig>,
    metrics: Arc<Metrics>,
    redirect_uri: OnceLock<String>,
    /// The session over the sealed tokens, made on first use and again after a connect (here,
    /// or stored by another instance or the command line). An async lock: making one reads the
    /// store.
    session: tokio::sync::Mutex<Option<CachedSession>>,
    health: Mutex<Health>,
    wake: Notify,
    /// Where `team` events for admins go (the stream), when the relay runs.
    notices: Option<tokio::sync::mpsc::Sender<Addition>>,
    /// The clock tokens are judged by (the wall clock unless a test set another).
    clock: OnceLock<Arc<dyn TeamClock>>,
    /// The one HTTP client to МТТ's API, made on first use, so seat requests reuse its
    /// connections instead of a TLS handshake each.
    http: OnceLock<reqwest::Client>,
}

impl std::fmt::Debug for Integration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integration")
            .field(
                "keyed",
                &self
                    .sealer
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .is_some(),
            )
            .field("status", &self.health().status.integration)
            .finish()
    }
}

impl Integration {
    /// The integration over `team`, with the at-rest key if there is one.
    pub fn new(
        team: SharedTeamStore,
        sealer: Option<Sealer>,
        config: Arc<RelayConfig>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            team,
            sealer: Mutex::new(sealer),
            key_file: config.key_file.clone(),
            config,
            metrics,
            redirect_uri: OnceLock::new(),
            session: tokio::sync::Mutex::new(None),
            health: Mutex::new(Health {
                status: TeamStatus::not_connected(false),
                refused: false,
                warned: false,
                recorded: None,
                awaiting_sign_in: false,
            }),
            wake: Notify::new(),
            notices: None,
            clock: OnceLock::new(),
            http: OnceLock::new(),
        }
    }

    /// Judges the tokens by `clock` instead of the wall clock (tests on a simulator's scaled
    /// clock). Only before the first use: answers `false` if a clock was already in use.
    pub fn use_clock(&self, clock: Arc<dyn TeamClock>) -> bool {
        self.clock.set(clock).is_ok()
    }

    fn clock(&self) -> Arc<dyn TeamClock> {
        Arc::clone(self.clock.get_or_init(|| Arc::new(WallClock)))
    }

    /// Sends `team` events for admins (refresh failing, lapse warning, recovered) to `notices`.
    #[must_use]
    pub fn with_notices(mut self, notices: tokio::sync::mpsc::Sender<Addition>) -> Self {
        self.notices = Some(notices);
        self
    }

    fn notify(&self, notice: TeamNotice, message: String, status: TeamStatus) {
        if let Some(notices) = &self.notices {
            offer(
                notices,
                Addition::Team(TeamEvent {
                    notice,
                    message,
                    status,
                }),
            );
        }
    }

    fn health(&self) -> MutexGuard<'_, Health> {
        // Every change replaces whole fields.
        self.health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The at-rest key, reading the key file if none was loaded yet.
    pub(crate) fn sealer(&self) -> Option<Sealer> {
        let mut sealer = self
            .sealer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if sealer.is_none() {
            match Sealer::load(&self.key_file) {
                Ok(loaded) => *sealer = loaded,
                Err(err) => tracing::warn!(error = %err, "the at-rest key cannot be read"),
            }
        }
        sealer.clone()
    }

    /// Sets the Redirect URI the relay serves (known once it listens).
    pub fn set_redirect_uri(&self, uri: String) {
        let _ = self.redirect_uri.set(uri);
    }

    /// The status now (what `/readyz` answers).
    pub fn status(&self) -> TeamStatus {
        self.health().status.clone()
    }

    /// The session, made from the sealed client credentials if needed; `None` when no
    /// integration is stored.
    async fn session(&self) -> Result<Option<Arc<Session>>, RelayError> {
        let mut cached = self.session.lock().await;
        if let Some(cached) = cached.as_ref() {
            return Ok(Some(Arc::clone(&cached.session)));
        }
        let Some(sealer) = self.sealer() else {
            return Ok(None);
        };
        let Some(sealed) = self.team.sealed(INTEGRATION_CLIENT.to_owned()).await? else {
            return Ok(None);
        };
        let credentials = open_credentials(&sealer, &sealed)?;
        let redirect_uri = self.redirect_uri.get().cloned().unwrap_or_default();
        let authorizer = authorizer(&self.config, &redirect_uri, &credentials)?;
        let store = SealedTokenStore::new(
            Arc::clone(&self.team),
            sealer,
            tokio::runtime::Handle::current(),
        );
        let margin = TimeDelta::from_std(self.config.refresh_margin).unwrap_or(TimeDelta::MAX);
        let clock = Arc::new(SessionClock(self.clock()));
        let session =
            Session::with_clock(authorizer, Arc::new(store), clock, margin).map_err(|source| {
                RelayError::Mtt {
                    what: "the integration's session",
                    source,
                }
            })?;
        let session = Arc::new(session);
        *cached = Some(CachedSession {
            sealed,
            session: Arc::clone(&session),
        });
        Ok(Some(session))
    }

    /// Forgets the session if the stored credentials are no longer those it was made from: a
    /// `team connect` whose sign-in landed on another instance, perhaps with a new client
    /// secret. A session with the old secret would refresh with it, and МТТ's refusal would
    /// clear the tokens every instance shares.
    async fn follow_reconnect(&self) -> Result<(), RelayError> {
        let stored = self.team.sealed(INTEGRATION_CLIENT.to_owned()).await?;
        let mut cached = self.session.lock().await;
        if cached
            .as_ref()
            .is_some_and(|cached| Some(&cached.sealed) != stored.as_ref())
        {
            *cached = None;
        }
        Ok(())
    }

    /// The browser's landing with `state`: `None` if the relay did not start this sign-in (it is
    /// an app's: hand it off); otherwise the outcome of exchanging the code, already recorded.
    pub async fn land(&self, state: &str, sign_in: &SignIn) -> Option<Result<(), String>> {
        // Without a key the relay cannot have started a sign-in of its own.
        self.sealer()?;
        match self
            .team
            .take_connect_state(state_hash(state), Utc::now())
            .await
        {
            Ok(true) => {}
            Ok(false) => return None,
            Err(err) => {
                tracing::error!(error = %err, "the relay's own sign-ins could not be looked up");
                return None;
            }
        }
        let outcome = match sign_in {
            SignIn::Refused { error, description } => Err(format!(
                "МТТ refused the sign-in: {error}{}",
                description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )),
            SignIn::Code(code) => self.exchange(state, code.expose_secret()).await,
        };
        let outcome = match outcome {
            // From now on client keys are refused (unless allowed), even if МТТ later refuses.
            Ok(()) => self
                .team
                .enter_team_mode()
                .await
                .map_err(|err| format!("team mode could not be recorded: {err}")),
            Err(why) => Err(why),
        };
        match &outcome {
            Ok(()) => {
                tracing::info!("the МТТ integration is connected to the relay");
                self.note_connected();
                self.wake.notify_one();
            }
            Err(why) => {
                tracing::error!(reason = %why, "connecting the МТТ integration failed");
                self.health().status.last_error = Some(why.clone());
            }
        }
        Some(outcome)
    }

    /// A connect succeeded: whatever failed before is over.
    fn note_connected(&self) {
        let mut health = self.health();
        health.refused = false;
        health.warned = false;
        health.status.last_error = None;
        health.status.team_mode = true;
        health.status.integration = IntegrationState::Connected;
    }

    async fn exchange(&self, state: &str, code: &str) -> Result<(), String> {
        // The credentials may have changed since (another `team connect`).
        *self.session.lock().await = None;
        let session = match self.session().await {
            Ok(Some(session)) => session,
            Ok(None) => return Err("the integration's credentials are gone from the store".into()),
            Err(err) => return Err(err.to_string()),
        };
        let authorize = url::Url::parse(&self.config.mtt_oauth_url)
            .map_err(|err| format!("mtt_oauth_url: {err}"))?;
        let pending = PendingSignIn::resumed(authorize, OAuthState::new(state));
        session
            .finish_sign_in(pending, state, mtt_api::AuthCode::new(code))
            .await
            .map(|_| ())
            .map_err(|err| err.to_string())
    }

    /// Keeps the tokens fresh until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut retry = RETRY_FIRST;
        loop {
            let nap = match self.tick().await {
                Tick::Wait(nap) => {
                    retry = RETRY_FIRST;
                    nap
                }
                Tick::Retry => {
                    let nap = retry;
                    retry = (retry * 2).min(RETRY_MAX);
                    nap
                }
            };
            self.record().await;
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {}
                () = self.clock().sleep(nap) => {}
            }
        }
    }

    async fn tick(&self) -> Tick {
        if let Err(err) = self.follow_reconnect().await {
            tracing::warn!(error = %err, "the integration's credentials could not be read again");
        }
        let session = match self.session().await {
            Ok(Some(session)) => session,
            Ok(None) => {
                self.health().status = TeamStatus::not_connected(false);
                return Tick::Wait(NOT_CONNECTED_LOOK);
            }
            Err(err) => {
                tracing::error!(error = %err, key_file = %self.key_file.display(), "the integration cannot be read");
                self.set_failing(err.to_string(), true);
                return Tick::Wait(LONGEST_NAP);
            }
        };
        let before = session.status().await;
        let Some(expires_at) = before.access_expires_at.filter(|_| before.signed_in) else {
            // A session reads the store once, so this one would stay signed out even after a
            // sign-in lands on another instance (or a `team connect` started while it looked
            // finishes there): forget it, and read the store again at the next look, soon.
            *self.session.lock().await = None;
            let mut health = self.health();
            health.awaiting_sign_in = true;
            let failing = health.refused;
            health.status.team_mode = true;
            health.status.integration = if failing {
                IntegrationState::RefreshFailing
            } else {
                IntegrationState::NotConnected
            };
            health.status.access_expires_at = None;
            health.status.refresh_expires_at = None;
            return Tick::Wait(NOT_CONNECTED_LOOK);
        };
        if std::mem::take(&mut self.health().awaiting_sign_in) {
            self.note_connected();
        }
        let now = self.clock().now();
        let margin = TimeDelta::from_std(self.config.refresh_margin).unwrap_or(TimeDelta::MAX);
        let due = expires_at - margin;
        if now < due {
            self.set_connected(&before, None);
            return Tick::Wait(until(now, due).min(LONGEST_NAP));
        }
        match session.access_token().await {
            Ok(_) => {
                let after = session.status().await;
                let rotates = after.refresh_expires_at != before.refresh_expires_at;
                self.metrics.integration_refreshed(RefreshOutcome::Ok);
                tracing::info!(rotates, "the integration's tokens were refreshed");
                self.set_connected(&after, Some(rotates));
                Tick::Wait(Duration::ZERO)
            }
            Err(mtt_api::Error::SignInRequired(why)) => {
                self.metrics.integration_refreshed(RefreshOutcome::Refused);
                tracing::error!(
                    reason = %why,
                    "МТТ refused to refresh the integration's tokens: calls to the PBX stop until it is connected again (`trubka-relay team connect`); events are still received and streamed"
                );
                self.set_failing(format!("МТТ refused the refresh: {why}"), true);
                Tick::Wait(LONGEST_NAP)
            }
            Err(other) => {
                self.metrics.integration_refreshed(RefreshOutcome::Failed);
                tracing::warn!(error = %other, "the integration's tokens could not be refreshed; trying again");
                self.set_failing(other.to_string(), false);
                Tick::Retry
            }
        }
    }

    fn set_connected(&self, status: &mtt_api::SessionStatus, rotates: Option<bool>) {
        let now = self.clock().now();
        let mut health = self.health();
        health.refused = false;
        let was_failing = health.status.integration == IntegrationState::RefreshFailing;
        let entry = &mut health.status;
        entry.team_mode = true;
        entry.integration = IntegrationState::Connected;
        entry.access_expires_at = status.access_expires_at;
        entry.refresh_expires_at = status.refresh_expires_at;
        if let Some(rotates) = rotates {
            entry.refresh_rotates = Some(rotates);
            entry.last_refresh_at = Some(now);
            entry.last_error = None;
        } else if was_failing {
            entry.integration = IntegrationState::RefreshFailing;
        }
        entry.lapse_warning = entry.refresh_rotates == Some(false)
            && entry
                .refresh_expires_at
                .is_some_and(|lapse| lapse - now <= LAPSE_WARNING);
        let recovered = was_failing && health.status.integration == IntegrationState::Connected;
        let warn = health.status.lapse_warning && !health.warned;
        if warn {
            health.warned = true;
            tracing::warn!(
                lapses_at = ?health.status.refresh_expires_at,
                "МТТ does not rotate the integration's refresh token, and it lapses within a day: connect the integration again (`trubka-relay team connect`) before then"
            );
        }
        let status = health.status.clone();
        drop(health);
        if recovered {
            self.notify(
                TeamNotice::Recovered,
                "the integration's tokens were refreshed again".into(),
                status.clone(),
            );
        }
        if warn {
            self.notify(
                TeamNotice::LapseWarning,
                "МТТ does not rotate the integration's refresh token, and it lapses within a day: connect the integration again (`trubka-relay team connect`) before then".into(),
                status,
            );
        }
    }

    fn set_failing(&self, why: String, refused: bool) {
        let mut health = self.health();
        let news = health.status.integration != IntegrationState::RefreshFailing;
        health.refused |= refused;
        health.status.team_mode = true;
        health.status.integration = IntegrationState::RefreshFailing;
        health.status.last_error = Some(why.clone());
        let status = health.status.clone();
        drop(health);
        if news {
            self.notify(TeamNotice::RefreshFailing, why, status);
        }
    }

    /// Keeps the status where `team status` finds it.
    async fn record(&self) {
        let status = {
            let health = self.health();
            if health.recorded.as_ref() == Some(&health.status) {
                return;
            }
            health.status.clone()
        };
        let Ok(text) = serde_json::to_string(&status) else {
            return;
        };
        match self.team.put_fact(STATUS_FACT.to_owned(), text).await {
            Ok(()) => self.health().recorded = Some(status),
            Err(err) => {
                tracing::warn!(error = %err, "the integration's status could not be recorded");
            }
        }
    }

    /// The PBX, called with the integration's tokens (for the seats' checked API): every
    /// call goes through `mtt-api`, whose `Pbx` never retries an action after a timeout.
    pub async fn pbx(&self) -> Result<mtt_api::Pbx, RelayError> {
        self.pbx_with_deadline(HttpConfig::default().request_timeout)
            .await
    }

    /// [`Integration::pbx`] for a seat's action (dial, transfer, hang up, parking), whose
    /// deadline is [`SEAT_ACTION_DEADLINE`]: the app gives up on the relay after 3 s and tells
    /// the operator to dial from their phone, so the relay must have answered by then — a
    /// makeCall still running behind the app's back would call the customer twice.
    pub async fn pbx_for_actions(&self) -> Result<mtt_api::Pbx, RelayError> {
        self.pbx_with_deadline(SEAT_ACTION_DEADLINE).await
    }

    async fn pbx_with_deadline(&self, deadline: Duration) -> Result<mtt_api::Pbx, RelayError> {
        let session = self.session().await?.ok_or(RelayError::NotConnected)?;
        let http_config = HttpConfig {
            request_timeout: deadline,
            ..HttpConfig::default()
        };
        let http = match self.http.get() {
            Some(http) => http.clone(),
            None => {
                let made = mtt_http(HttpConfig::default())?;
                self.http.get_or_init(|| made).clone()
            }
        };
        Ok(mtt_api::Pbx::new(
            &endpoints(&self.config)?,
            http,
            http_config,
            session,
        ))
    }

    /// Wakes the refresher (after a connect in this process).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

enum Tick {
    /// Look again after this long.
    Wait(Duration),
    /// A refresh failed without a refusal: look again after the growing retry wait.
    Retry,
}

fn until(now: DateTime<Utc>, then: DateTime<Utc>) -> Duration {
    (then - now).to_std().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests;
