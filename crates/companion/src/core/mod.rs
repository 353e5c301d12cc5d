//! [`Companion`]: one profile's running core, the object the window and the CLI hold.
//!
//! It owns small typed pieces rather than one big state: the settings, the profile's secrets,
//! the call log, the signed-in account (session and PBX client), the directory of numbers and
//! workplaces, the live calls, and the domain-event channel. Locks are std locks held only for
//! quick, synchronous updates, never across an `.await`.
//!
//! Its methods are grouped by what they act on: this file opens and closes the core and reads its
//! state; `session.rs` signs in and out and keeps the sign-in fresh; `live_events.rs` starts the
//! relay link and the pipeline; `directory.rs` reads the account's numbers and workplaces and
//! chooses mine; `calls.rs` dials, transfers and hangs up; `routing.rs` is parking, the router
//! switch, the routing rules and their journal; `retention.rs` cleans up the call log in the
//! background; `diagnostics.rs` gathers a diagnostics zip; `team.rs` joins and leaves a team
//! and follows a revoked seat; `team_phonebook.rs` keeps the team phonebook's copy in step;
//! `colleagues.rs` is the Team panel's roster and this seat's availability; `wrapup.rs` offers
//! and saves after-call wrap-ups and raises due follow-ups.

mod calls;
mod colleagues;
mod diagnostics;
mod directory;
mod live_events;
mod retention;
mod routing;
mod session;
mod team;
mod team_phonebook;
mod today;
mod wrapup;

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use call_log::{CallLog, CallLogConfig};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

pub use crate::directory::Directory;
use crate::error::CompanionError;
use crate::live::{CallDirection, CallPhase, LiveCall, LiveCalls, Me};
use crate::pipeline::{DomainEvent, LinkHealth};
use crate::retention::{LastPrune, RetentionSchedule, read_last_prune};
use crate::routing::{ParkedCallRouter, ParkingHook};
use crate::secrets::{ProfileSecrets, SecretVault};
use crate::settings::{PopupScope, Profile, Settings};
pub use wrapup::FollowUpSchedule;

/// How many domain events a slow subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 1024;

/// One profile's running core.
#[derive(Debug)]
pub struct Companion {
    profile: Profile,
    settings: Arc<RwLock<Settings>>,
    secrets: ProfileSecrets,
    log: CallLog,
    account: Result<session::Account, CompanionError>,
    directory: Arc<RwLock<Directory>>,
    live: Arc<Mutex<LiveCalls>>,
    me: Arc<RwLock<Me>>,
    events: broadcast::Sender<DomainEvent>,
    signed_in: Arc<AtomicBool>,
    router: Mutex<Option<Arc<dyn ParkedCallRouter>>>,
    parked: Arc<RwLock<BTreeSet<String>>>,
    parking: Arc<RwLock<Option<ParkingHook>>>,
    link: Arc<RwLock<Option<LinkHealth>>>,
    /// `false` from the start of live events until their first catch-up with the relay.
    synced: watch::Sender<bool>,
    last_prune: Arc<RwLock<Option<LastPrune>>>,
    /// The seat's client of its team server, once read (team mode only).
    team_client: Arc<RwLock<Option<crate::team::TeamClient>>>,
    /// The numbers of my calls that ended lately, for their wrap-ups.
    ended: Arc<wrapup::EndedNumbers>,
    /// One sending of wrap-ups to the team's server at a time.
    team_wrapups: Arc<wrapup::TeamWrapUpSending>,
    /// The team phonebook version the call log holds, as each sync applies it.
    phonebook_applied: watch::Sender<i64>,
    /// The colleagues' presence and availability (team mode only).
    roster: Arc<crate::team::TeamRoster>,
    cancel: CancellationToken,
}

impl Companion {
    /// Opens a profile: its settings, call log and (if configured) its account. Inside a tokio
    /// runtime it also starts the call log's clean-up, on the default schedule.
    pub fn open(profile: Profile, vault: Arc<dyn SecretVault>) -> Result<Self, CompanionError> {
        Self::open_scheduled(profile, vault, RetentionSchedule::default())
    }

    /// [`Companion::open`] with the clean-up on `schedule` (tests run it at once).
    pub fn open_scheduled(
        profile: Profile,
        vault: Arc<dyn SecretVault>,
        schedule: RetentionSchedule,
    ) -> Result<Self, CompanionError> {
        Self::open_timed(profile, vault, schedule, FollowUpSchedule::default())
    }

    /// [`Companion::open_scheduled`] with follow-ups checked on `follow_ups` (tests check often).
    pub fn open_timed(
        profile: Profile,
        vault: Arc<dyn SecretVault>,
        schedule: RetentionSchedule,
        follow_ups: FollowUpSchedule,
    ) -> Result<Self, CompanionError> {
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
        let account = session::build_account(&settings, &secrets, &profile);
        let parked = settings.parked.clone();
        let me = Me {
            workplace: settings.workplace.clone(),
            terminals: Default::default(),
            colleagues: Default::default(),
        };
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        // Whether there are tokens is known once the session has read the keyring, which it
        // does off the async runtime on first use (`session_status`, `start_live_events`).
        let signed_in = Arc::new(AtomicBool::new(false));
        let cancel = CancellationToken::new();
        let runtime = tokio::runtime::Handle::try_current();
        if let (Ok(account), Ok(runtime)) = (&account, &runtime) {
            runtime.spawn(session::relay_session_notices(
                account.session.notices(),
                events.clone(),
                Arc::clone(&signed_in),
                cancel.child_token(),
            ));
        }
        let settings = Arc::new(RwLock::new(settings));
        let (synced, _) = watch::channel(true);
        let last_prune = Arc::new(RwLock::new(read_last_prune(profile.data_dir())));
        if let Ok(runtime) = &runtime {
            runtime.spawn(
                retention::RetentionTask {
                    log: log.clone(),
                    settings: Arc::clone(&settings),
                    data_dir: profile.data_dir().to_path_buf(),
                    last: Arc::clone(&last_prune),
                    synced: synced.subscribe(),
                    schedule,
                    cancel: cancel.child_token(),
                }
                .run(),
            );
        }
        let ended = Arc::new(wrapup::EndedNumbers::default());
        let team_client: Arc<RwLock<Option<crate::team::TeamClient>>> = Arc::default();
        let team_wrapups = Arc::new(wrapup::TeamWrapUpSending::default());
        if let Ok(runtime) = &runtime {
            runtime.spawn(
                wrapup::WrapUpTask {
                    log: log.clone(),
                    settings: Arc::clone(&settings),
                    events: events.clone(),
                    ended: Arc::clone(&ended),
                    team_client: Arc::clone(&team_client),
                    team_wrapups: Arc::clone(&team_wrapups),
                    schedule: follow_ups,
                    cancel: cancel.child_token(),
                }
                .run(),
            );
        }
        Ok(Companion {
            profile,
            settings,
            secrets,
            log,
            account,
            directory: Arc::default(),
            live: Arc::new(Mutex::new(LiveCalls::new())),
            me: Arc::new(RwLock::new(me)),
            events,
            signed_in,
            router: Mutex::new(None),
            parked: Arc::new(RwLock::new(parked)),
            parking: Arc::default(),
            link: Arc::default(),
            synced,
            last_prune,
            team_client,
            team_wrapups,
            ended,
            phonebook_applied: watch::channel(0).0,
            roster: Arc::default(),
            cancel,
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
            && call.direction == CallDirection::Incoming
            && call.phase == CallPhase::Ringing
            && (call.mine || popups.scope == PopupScope::AllIncoming)
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
        // The team changes through join_team and leave_team.
        settings.team = current.team;
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
