//! [`Companion`]: one profile's running core, the object the window and the CLI hold.
//!
//! It owns small typed pieces rather than one big state: the settings, the profile's secrets,
//! the call log, the signed-in account (session and PBX client), the directory of numbers and
//! workplaces, the live calls, and the domain-event channel. Locks are std locks held only for
//! quick, synchronous updates, never across an `.await`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use call_log::{CallLog, CallLogConfig};
use mtt_api::{
    Authorizer, Endpoints, ExternalNumber, HttpConfig, LegRef, OAuthConfig, Pbx, PlacedCall,
    Session, SessionStatus, SipId, Terminal, Workplace,
};
use phonenumber::country;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::dialer::{DialTarget, dial_target};
use crate::error::CompanionError;
use crate::link::{LinkConfig, RelayLink};
use crate::live::{LiveCall, LiveCalls, Me};
use crate::pipeline::{DomainEvent, LinkHealth, Pipeline};
use crate::routing::{self, ParkedCallRouter, ParkingHook};
use crate::secrets::{ProfileSecrets, SecretVault};
use crate::settings::{Profile, Settings};
use crate::signin;

/// How many domain events a slow subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 1024;
/// The link → pipeline queue; when it is full the link stops reading and the relay buffers.
const LINK_QUEUE: usize = 4096;

/// The account's numbers, workplaces and terminals, as last read from the PBX.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    /// External numbers.
    pub numbers: Vec<ExternalNumber>,
    /// Workplaces (operator seats).
    pub workplaces: Vec<Workplace>,
    /// Terminals and their workplaces.
    pub terminals: Vec<Terminal>,
}

impl Directory {
    /// My workplace and its terminals.
    pub fn me(&self, workplace: Option<&str>) -> Me {
        Me {
            workplace: workplace.map(str::to_owned),
            terminals: self
                .terminals
                .iter()
                .filter(|t| Some(t.workplace.as_str()) == workplace)
                .map(|t| t.terminal.clone())
                .collect(),
        }
    }
}

/// A signed-in (or signing-in) integration.
#[derive(Debug, Clone)]
struct Account {
    session: Arc<Session>,
    pbx: Pbx,
    relay: Option<Url>,
    http: reqwest::Client,
}

/// One profile's running core.
#[derive(Debug)]
pub struct Companion {
    pub(crate) profile: Profile,
    pub(crate) settings: Arc<RwLock<Settings>>,
    secrets: ProfileSecrets,
    pub(crate) log: CallLog,
    account: Result<Account, CompanionError>,
    pub(crate) directory: Arc<RwLock<Directory>>,
    pub(crate) live: Arc<Mutex<LiveCalls>>,
    me: Arc<RwLock<Me>>,
    pub(crate) events: broadcast::Sender<DomainEvent>,
    pub(crate) signed_in: Arc<AtomicBool>,
    router: Mutex<Option<Arc<dyn ParkedCallRouter>>>,
    pub(crate) parked: Arc<RwLock<BTreeSet<String>>>,
    pub(crate) parking: Arc<RwLock<Option<ParkingHook>>>,
    link: Arc<RwLock<Option<LinkHealth>>>,
    cancel: CancellationToken,
}

/// Warn when the sign-in lapses within this long (refresh tokens last three days).
const RENEW_WARNING: chrono::Duration = chrono::Duration::hours(12);

impl Companion {
    /// Opens a profile: its settings, call log and (if configured) its account.
    pub fn open(profile: Profile, vault: Arc<dyn SecretVault>) -> Result<Self, CompanionError> {
        let settings = profile.load_settings()?;
        let secrets = ProfileSecrets::new(vault, profile.name());
        if let Some(dir) = profile.call_log_path().parent() {
            std::fs::create_dir_all(dir).map_err(|e| CompanionError::Settings {
                path: dir.to_path_buf(),
                detail: e.to_string(),
            })?;
        }
        let zone = settings
            .pbx_time_zone
            .parse()
            .unwrap_or(mtt_api::notification::DEFAULT_PBX_ZONE);
        let log = CallLog::open(
            profile.call_log_path(),
            CallLogConfig {
                pbx_zone: zone,
                day_zone: zone,
                ..CallLogConfig::default()
            },
        )?;
        // Without a keyring (a server, a broken desktop session) the history and the phonebook
        // still work; only what needs the account reports why it cannot.
        let account = build_account(&settings, &secrets);
        let parked = settings.parked.clone();
        let has_tokens = account.is_ok()
            && matches!(
                mtt_api::TokenStore::load(&secrets.token_store()),
                Ok(Some(_))
            );
        let me = Me {
            workplace: settings.workplace.clone(),
            terminals: Default::default(),
        };
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Ok(Companion {
            profile,
            settings: Arc::new(RwLock::new(settings)),
            secrets,
            log,
            account,
            directory: Arc::default(),
            live: Arc::new(Mutex::new(LiveCalls::new())),
            me: Arc::new(RwLock::new(me)),
            events,
            signed_in: Arc::new(AtomicBool::new(has_tokens)),
            router: Mutex::new(None),
            parked: Arc::new(RwLock::new(parked)),
            parking: Arc::default(),
            link: Arc::default(),
            cancel: CancellationToken::new(),
        })
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The call log.
    pub fn log(&self) -> &CallLog {
        &self.log
    }

    /// The profile's secrets.
    pub fn secrets(&self) -> &ProfileSecrets {
        &self.secrets
    }

    /// Domain events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.events.subscribe()
    }

    /// Whether this call should pop up now: popups on, an incoming call still ringing, and mine
    /// (or any incoming call, if the operator chose that).
    pub fn wants_popup(&self, call: &LiveCall) -> bool {
        let popups = self.settings().popups;
        popups.enabled
            && call.direction == crate::live::CallDirection::Incoming
            && call.phase == crate::live::CallPhase::Ringing
            && (call.mine || popups.scope == crate::settings::PopupScope::AllIncoming)
    }

    /// Whether someone other than me answered this call, so that my popup for it can go.
    pub fn answered_elsewhere(&self, call: &LiveCall) -> bool {
        let Some(by) = call.answered_by.as_deref() else {
            return false;
        };
        let me = self.directory().me(self.settings().workplace.as_deref());
        !me.owns(by)
    }

    /// Turns popups off or on (the tray's do-not-disturb) and saves the choice.
    pub fn set_popups(&self, enabled: bool) -> Result<(), CompanionError> {
        let mut settings = self.settings();
        settings.popups.enabled = enabled;
        self.profile.save_settings(&settings)?;
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        Ok(())
    }

    /// Changes the settings with `edit` and saves them, refusing (with the setting's key) what
    /// cannot be right. The account's details, my workplace, the router flag, the parked numbers
    /// and the routing settings are not changed here: they have their own calls, which also act
    /// on them.
    pub fn edit_settings(
        &self,
        edit: impl FnOnce(&mut Settings),
    ) -> Result<Settings, CompanionError> {
        let current = self.settings();
        let mut settings = current.clone();
        edit(&mut settings);
        settings.account = current.account;
        settings.workplace = current.workplace;
        settings.router = current.router;
        settings.parked = current.parked;
        // The routing rules and parking's applied time change through set_routing_settings and
        // set_parking, which also update the decider.
        settings.routing = current.routing;
        settings.check()?;
        self.profile.save_settings(&settings)?;
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings.clone();
        Ok(settings)
    }

    /// The relay link's latest state; `None` before live events were started.
    pub fn link_status(&self) -> Option<LinkHealth> {
        self.link.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The calls happening now.
    pub fn live_calls(&self) -> Vec<LiveCall> {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot()
    }

    /// The directory as last read.
    pub fn directory(&self) -> Directory {
        self.directory
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The PBX client of the configured account.
    pub(crate) fn pbx(&self) -> Result<&Pbx, CompanionError> {
        Ok(&self.account()?.pbx)
    }

    fn account(&self) -> Result<&Account, CompanionError> {
        self.account
            .as_ref()
            .map_err(CompanionError::clone_for_report)
    }

    /// The sign-in state.
    pub async fn session_status(&self) -> Option<SessionStatus> {
        match &self.account {
            Ok(a) => Some(a.session.status().await),
            Err(_) => None,
        }
    }

    /// Signs in: `open_browser` is given the authorize address; the answer is taken from the
    /// relay's hand-off, or from a loopback listener when the Redirect URI is a loopback one.
    pub async fn sign_in(
        &self,
        open_browser: impl FnOnce(&Url),
    ) -> Result<SessionStatus, CompanionError> {
        let account = self.account()?;
        let redirect = self
            .settings()
            .account
            .redirect_uri
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .ok_or_else(|| CompanionError::NotConfigured("no Redirect URI is set".into()))?;
        // A Redirect URI on the relay's own origin is the relay's hook: the relay keeps the code.
        // Otherwise a loopback Redirect URI is served by a listener of our own.
        let via_relay = account
            .relay
            .as_ref()
            .filter(|relay| relay.origin() == redirect.origin());
        let loopback = match via_relay {
            Some(_) => None,
            None => signin::LoopbackListener::bind(&redirect).await?,
        };
        let pending = account.session.begin_sign_in();
        open_browser(&pending.url);
        let callback = match (loopback, &account.relay) {
            (Some(listener), _) => listener.accept(signin::SIGN_IN_TIMEOUT).await?,
            (None, Some(relay)) => {
                signin::from_relay(
                    &account.http,
                    relay,
                    pending.state().expose(),
                    signin::SIGN_IN_TIMEOUT,
                )
                .await?
            }
            (None, None) => {
                return Err(CompanionError::NotConfigured(
                    "the Redirect URI is neither a loopback address nor served by a configured relay".into(),
                ));
            }
        };
        self.finish_sign_in(pending, callback).await
    }

    /// Starts a sign-in whose answer will arrive some other way (a `trubka://` link): open the
    /// returned address in the browser and pass the link to [`Companion::finish_sign_in`].
    pub fn begin_sign_in(&self) -> Result<mtt_api::PendingSignIn, CompanionError> {
        Ok(self.account()?.session.begin_sign_in())
    }

    /// Finishes a sign-in whose answer arrived some other way (a `trubka://` link).
    pub async fn finish_sign_in(
        &self,
        pending: mtt_api::PendingSignIn,
        callback: signin::Callback,
    ) -> Result<SessionStatus, CompanionError> {
        let account = self.account()?;
        let code = callback
            .outcome
            .map_err(|why| CompanionError::SignIn(format!("MTT refused the sign-in: {why}")))?;
        let status = account
            .session
            .finish_sign_in(pending, &callback.state, code)
            .await?;
        self.announce_session(&status);
        // The PBX may have lost parking since (the API cannot read it back): apply it again,
        // and install the routing engine now that its API calls can be made.
        self.after_sign_in().await;
        Ok(status)
    }

    /// Tells subscribers the sign-in state, and remembers it so that "sign-in required" is
    /// announced once when it happens, not on every refused call after it.
    fn announce_session(&self, status: &SessionStatus) {
        self.signed_in.store(status.signed_in, Ordering::SeqCst);
        let renew_soon = status
            .refresh_expires_at
            .is_some_and(|t| t - chrono::Utc::now() < RENEW_WARNING);
        let _ = self.events.send(DomainEvent::Session {
            signed_in: status.signed_in,
            access_expires_at: status.access_expires_at,
            refresh_expires_at: status.refresh_expires_at,
            renew_soon,
        });
    }

    /// Passes on a PBX call's result; the first "sign-in required" is announced.
    pub(crate) fn checked<T>(
        &self,
        result: Result<T, mtt_api::Error>,
    ) -> Result<T, CompanionError> {
        if let Err(e) = &result {
            self.notice(e);
        }
        Ok(result?)
    }

    /// Announces the first "sign-in required" among the PBX's failures.
    fn notice(&self, error: &mtt_api::Error) {
        if let mtt_api::Error::SignInRequired(_) = error
            && self.signed_in.swap(false, Ordering::SeqCst)
        {
            let _ = self.events.send(DomainEvent::Session {
                signed_in: false,
                access_expires_at: None,
                refresh_expires_at: None,
                renew_soon: false,
            });
        }
    }

    /// Signs out: the tokens leave the keyring.
    pub async fn sign_out(&self) -> Result<(), CompanionError> {
        self.account()?.session.sign_out().await?;
        self.announce_session(&SessionStatus {
            signed_in: false,
            access_expires_at: None,
            refresh_expires_at: None,
        });
        self.update_parking_hook();
        Ok(())
    }

    /// Re-reads the numbers, workplaces and terminals from the PBX.
    pub async fn refresh_directory(&self) -> Result<Directory, CompanionError> {
        let result = self.directory_reloader()?.reload().await;
        if let Err(CompanionError::Mtt(e)) = &result {
            self.notice(e);
        }
        result
    }

    fn directory_reloader(&self) -> Result<DirectoryReloader, CompanionError> {
        Ok(DirectoryReloader {
            pbx: self.account()?.pbx.clone(),
            settings: Arc::clone(&self.settings),
            directory: Arc::clone(&self.directory),
            me: Arc::clone(&self.me),
            live: Arc::clone(&self.live),
        })
    }

    /// Chooses my workplace (it must be one of the account's) and saves the choice.
    pub fn set_workplace(&self, workplace: &str) -> Result<(), CompanionError> {
        let id = SipId::parse(workplace)?;
        let directory = self.directory();
        if !directory.workplaces.is_empty()
            && !directory
                .workplaces
                .iter()
                .any(|w| w.workplace == id.as_str())
        {
            return Err(CompanionError::InvalidInput(format!(
                "{workplace} is not one of this account's workplaces"
            )));
        }
        let mut settings = self.settings();
        settings.workplace = Some(id.as_str().to_owned());
        self.profile.save_settings(&settings)?;
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        let me = directory.me(Some(id.as_str()));
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_me(&me);
        *self.me.write().unwrap_or_else(|p| p.into_inner()) = me;
        Ok(())
    }

    /// Dials what the operator typed from my workplace (or `from`). Never retried: if the PBX
    /// does not answer in time, the error says so and the operator decides.
    pub async fn dial(
        &self,
        input: &str,
        from: Option<&str>,
    ) -> Result<(DialTarget, PlacedCall), CompanionError> {
        let target = dial_target(input, country::Id::RU)?;
        let account = self.account()?;
        let caller = match from {
            Some(w) => w.to_owned(),
            None => self.settings().workplace.ok_or_else(|| {
                CompanionError::NotConfigured("choose your workplace in Settings first".into())
            })?,
        };
        let caller = SipId::parse(&caller)?;
        let placed = self.checked(account.pbx.make_call(&caller, &target.callee).await)?;
        Ok((target, placed))
    }

    /// Hangs up a live leg. On a ringing incoming call the PBX then goes on along the cabinet's
    /// routing, as the document says of terminateCall.
    pub async fn hang_up(&self, leg: &str) -> Result<(), CompanionError> {
        let account = self.account()?;
        let leg = self.leg_ref(leg).await?;
        self.checked(account.pbx.terminate_call(&leg).await)
    }

    /// Transfers a live leg to a workplace SIP ID or a number.
    pub async fn transfer(&self, leg: &str, target: &str) -> Result<(), CompanionError> {
        let target = dial_target(target, country::Id::RU)?;
        let account = self.account()?;
        let leg = self.leg_ref(leg).await?;
        self.checked(account.pbx.transfer_call(&leg, &target.callee).await)
    }

    /// Turns parking on or off for external numbers, and remembers which are parked and when
    /// parking was applied (the API cannot read it back).
    pub async fn set_parking(&self, numbers: &[String], on: bool) -> Result<(), CompanionError> {
        if numbers.is_empty() {
            return Err(CompanionError::InvalidInput(
                "name at least one external number to park".into(),
            ));
        }
        self.checked(self.account()?.pbx.set_parking(numbers, on).await)?;
        let mut settings = self.settings();
        for n in numbers {
            if on {
                settings.parked.insert(n.clone());
            } else {
                settings.parked.remove(n);
            }
        }
        settings.routing.parking_applied_at = Some(chrono::Utc::now());
        self.profile.save_settings(&settings)?;
        *self.parked.write().unwrap_or_else(|p| p.into_inner()) = settings.parked.clone();
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        Ok(())
    }

    /// Installs another decider of parked calls in place of the routing engine (tests, custom
    /// routing). It acts only if this app is marked as the account's router and signed in.
    pub fn set_router(&self, router: Arc<dyn ParkedCallRouter>) {
        *self.router.lock().unwrap_or_else(|p| p.into_inner()) = Some(router);
        self.update_parking_hook();
    }

    /// Installs or removes the parking hook to match the settings, the sign-in and the router:
    /// only an app marked as the account's router and signed in decides, with the routing
    /// engine unless another router was installed.
    pub(crate) fn update_parking_hook(&self) {
        let router = self
            .router
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| {
                Arc::new(routing::RoutingEngine::new(
                    self.log.clone(),
                    Arc::clone(&self.live),
                    Arc::clone(&self.directory),
                    Arc::clone(&self.settings),
                ))
            });
        let settings = self.settings();
        let signed_in = self.signed_in.load(Ordering::SeqCst);
        let hook = match (settings.router && signed_in, self.account()) {
            (true, Ok(account)) => Some(ParkingHook {
                router,
                pbx: account.pbx.clone(),
                parked: Arc::clone(&self.parked),
                deadline: Duration::from_millis(settings.routing.deadline_ms),
                journal: Some(self.log.clone()),
            }),
            _ => None,
        };
        *self.parking.write().unwrap_or_else(|p| p.into_inner()) = hook;
    }

    /// Marks (or unmarks) this app as the one that decides parked calls, and saves it.
    pub fn set_is_router(&self, is_router: bool) -> Result<(), CompanionError> {
        let mut settings = self.settings();
        settings.router = is_router;
        self.profile.save_settings(&settings)?;
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        self.update_parking_hook();
        Ok(())
    }

    /// The latest id, tag and transport id of a leg: from the live calls, or, for a call this
    /// process has not seen (the CLI), from the history.
    async fn leg_ref(&self, leg: &str) -> Result<LegRef, CompanionError> {
        let live = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(leg)
            .map(LiveCall::leg_ref);
        let known = match live {
            Some(r) => r,
            None => {
                let record = self.log.call(leg).await?.ok_or_else(|| {
                    CompanionError::InvalidInput(format!("there is no call {leg}"))
                })?;
                if record.ended_at.is_some() {
                    return Err(CompanionError::InvalidInput(format!(
                        "call {leg} has already ended"
                    )));
                }
                match (record.tag, record.transport_id) {
                    (Some(tag), Some(transport)) => LegRef::new(leg, tag, transport).ok(),
                    _ => None,
                }
            }
        };
        known.ok_or_else(|| {
            CompanionError::InvalidInput(format!(
                "the PBX has not yet sent the tag and transport id of call {leg}; try again in a moment"
            ))
        })
    }

    /// Starts streaming live events from the relay into the call log, from the log's cursor.
    pub async fn start_live_events(&self) -> Result<(), CompanionError> {
        let settings = self.settings();
        let relay = settings
            .account
            .relay_url
            .as_deref()
            .ok_or_else(|| CompanionError::NotConfigured("no relay address is set".into()))?;
        let key = self
            .secrets
            .relay_key()?
            .ok_or_else(|| CompanionError::NotConfigured("no relay key is stored".into()))?;
        let mut stream_url = Url::parse(relay).map_err(|e| {
            CompanionError::InvalidInput(format!("the relay address {relay:?}: {e}"))
        })?;
        stream_url
            .path_segments_mut()
            .map_err(|_| {
                CompanionError::InvalidInput(format!(
                    "the relay address {relay:?} cannot have paths"
                ))
            })?
            .pop_if_empty()
            .extend(["events", "stream"]);
        let link = RelayLink::new(stream_url, key, LinkConfig::default()).map_err(|e| {
            CompanionError::InvalidInput(format!("cannot set up the relay link: {e}"))
        })?;
        let cursor = self.log.cursor().await?;
        let (tx, rx) = mpsc::channel(LINK_QUEUE);
        self.update_parking_hook();
        let pipeline = Pipeline::new(
            self.log.clone(),
            Arc::clone(&self.live),
            Arc::clone(&self.me),
            self.events.clone(),
        )
        .with_parking(Arc::clone(&self.parking));
        // The link's first report comes before most faces subscribe, so it is also kept here.
        let mut reports = self.events.subscribe();
        let (health, cancel) = (Arc::clone(&self.link), self.cancel.child_token());
        tokio::spawn(async move {
            loop {
                let report = tokio::select! {
                    _ = cancel.cancelled() => return,
                    r = reports.recv() => r,
                };
                match report {
                    Ok(DomainEvent::Link { state, reason, .. }) => {
                        *health.write().unwrap_or_else(|p| p.into_inner()) =
                            Some(LinkHealth { state, reason });
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                    _ => {}
                }
            }
        });
        tokio::spawn(link.run(cursor, tx, self.cancel.child_token()));
        tokio::spawn(pipeline.run(rx, self.cancel.child_token()));
        if let Ok(account) = self.account() {
            tokio::spawn(keep_session(
                Arc::clone(&account.session),
                self.events.clone(),
                Arc::clone(&self.signed_in),
                self.cancel.child_token(),
            ));
        }
        // `vpbxNotifications` say the numbers or workplaces changed: read them again.
        if let Ok(reloader) = self.directory_reloader() {
            let mut events = self.events.subscribe();
            let cancel = self.cancel.child_token();
            let out = self.events.clone();
            tokio::spawn(async move {
                loop {
                    let event = tokio::select! {
                        _ = cancel.cancelled() => return,
                        e = events.recv() => e,
                    };
                    match event {
                        Ok(DomainEvent::DirectoryChanged { .. }) => {
                            if let Err(e) = reloader.reload().await {
                                let _ = out.send(DomainEvent::Trouble {
                                    code: e.code(),
                                    message: format!(
                                        "the changed numbers and workplaces could not be read: {e}"
                                    ),
                                });
                            }
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                        _ => {}
                    }
                }
            });
        }
        Ok(())
    }

    /// Stops the live events and closes the call log.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        // The log's writer finishes whatever was queued before the close; a batch the pipeline
        // had not yet sent is not lost either, since the relay sends it again from the cursor.
        if let Err(e) = self.log.close().await {
            tracing::warn!(error = %e, "closing the call log");
        }
    }
}

/// How often the session is looked after while the app runs.
const SESSION_CHECK: Duration = Duration::from_secs(60);

/// Keeps the sign-in fresh while the app runs, even when the operator makes no calls: the access
/// token is renewed before it expires, a sign-in that will lapse within 12 hours is announced
/// (once), and so is a sign-in MTT stopped accepting (once). Live events keep flowing whatever
/// happens here: they come from the relay, not from MTT.
async fn keep_session(
    session: Arc<Session>,
    events: broadcast::Sender<DomainEvent>,
    signed_in: Arc<AtomicBool>,
    cancel: CancellationToken,
) {
    let mut warned = false;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(SESSION_CHECK) => {}
        }
        if !signed_in.load(Ordering::SeqCst) {
            continue;
        }
        let refreshed = session.access_token().await;
        let status = session.status().await;
        let renew_soon = status
            .refresh_expires_at
            .is_some_and(|t| t - chrono::Utc::now() < RENEW_WARNING);
        let lost = matches!(refreshed, Err(mtt_api::Error::SignInRequired(_)));
        if lost && signed_in.swap(false, Ordering::SeqCst) || renew_soon && !warned {
            warned |= renew_soon;
            let _ = events.send(DomainEvent::Session {
                signed_in: status.signed_in,
                access_expires_at: status.access_expires_at,
                refresh_expires_at: status.refresh_expires_at,
                renew_soon,
            });
        }
    }
}

/// What re-reading the directory needs, detached from the `Companion` so a task can own it.
#[derive(Debug, Clone)]
struct DirectoryReloader {
    pbx: Pbx,
    settings: Arc<RwLock<Settings>>,
    directory: Arc<RwLock<Directory>>,
    me: Arc<RwLock<Me>>,
    live: Arc<Mutex<LiveCalls>>,
}

impl DirectoryReloader {
    async fn reload(&self) -> Result<Directory, CompanionError> {
        let directory = Directory {
            numbers: self.pbx.external_numbers().await?,
            workplaces: self.pbx.workplaces().await?,
            terminals: self.pbx.terminals().await?,
        };
        let workplace = self
            .settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .workplace
            .clone();
        let me = directory.me(workplace.as_deref());
        *self.directory.write().unwrap_or_else(|p| p.into_inner()) = directory.clone();
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_me(&me);
        *self.me.write().unwrap_or_else(|p| p.into_inner()) = me;
        Ok(directory)
    }
}

fn build_account(settings: &Settings, secrets: &ProfileSecrets) -> Result<Account, CompanionError> {
    let a = &settings.account;
    let not_set_up = || {
        CompanionError::NotConfigured(
            "no MTT account is set up for this profile (client id, client secret and Redirect URI; see `trubka account set`)".into(),
        )
    };
    let (Some(client_id), Some(redirect_uri)) = (&a.client_id, &a.redirect_uri) else {
        return Err(not_set_up());
    };
    let client_secret = secrets.client_secret()?.ok_or_else(not_set_up)?;
    let defaults = Endpoints::mtt();
    let endpoints = Endpoints::new(
        a.oauth_url.as_deref().unwrap_or(defaults.oauth.as_str()),
        a.api_url.as_deref().unwrap_or(defaults.api.as_str()),
    )?;
    let http_config = HttpConfig::default();
    let http = mtt_api::http_client(http_config)?;
    let authorizer = Authorizer::new(
        OAuthConfig {
            client_id: client_id.clone(),
            client_secret,
            redirect_uri: redirect_uri.clone(),
            endpoints: endpoints.clone(),
            pkce: a.pkce,
        },
        http.clone(),
        http_config,
    )?;
    let session = Arc::new(Session::new(authorizer, Arc::new(secrets.token_store()))?);
    let pbx = Pbx::new(&endpoints, http.clone(), http_config, Arc::clone(&session));
    let relay =
        match &a.relay_url {
            Some(r) => Some(Url::parse(r).map_err(|e| {
                CompanionError::InvalidInput(format!("the relay address {r:?}: {e}"))
            })?),
            None => None,
        };
    Ok(Account {
        session,
        pbx,
        relay,
        http,
    })
}
