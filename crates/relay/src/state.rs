//! What the handlers share: the configuration, the event store, the fan-out, the counters, the
//! OAuth hand-off, the cached client keys and the caps on long-lived requests. It lives apart from the router so that the handlers' modules (intake,
//! stream, oauth) and the server that routes to them all depend on it, and it on none of them.

use std::sync::{Arc, Mutex};

use chrono::{TimeDelta, Utc};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::access::Access;
use crate::additions::Addition;
use crate::availability::SeatAvailability;
use crate::calls::CallView;
use crate::config::RelayConfig;
use crate::console_state::Console;
use crate::directory::DirectoryCache;
use crate::error::RelayError;
use crate::fanout::Fanout;
use crate::handoff::Handoff;
use crate::integration::Integration;
use crate::metrics::Metrics;
use crate::rate::RateLimit;
use crate::routing::RelayRouter;
use crate::sealing::Sealer;
use crate::seat_limits::SeatLimits;
use crate::store::audit::SharedAuditStore;
use crate::store::console::SharedConsoleStore;
use crate::store::phonebook::SharedPhonebookStore;
use crate::store::sqlite::{SqliteOptions, SqliteStore};
use crate::store::team::SharedTeamStore;
use crate::store::wrapup::SharedWrapUpStore;
use crate::store::{CommitSink, SharedStore};
use crate::team_feed::{FEED_QUEUE, TeamSink};
use crate::team_phonebook::TeamPhonebook;

/// The stores a relay runs on.
pub type Stores = (
    SharedStore,
    SharedTeamStore,
    SharedAuditStore,
    SharedWrapUpStore,
    SharedPhonebookStore,
    SharedConsoleStore,
);

/// Everything the handlers share.
#[derive(Debug, Clone)]
pub struct RelayState {
    /// The configuration the relay runs with.
    pub config: Arc<RelayConfig>,
    /// The event store.
    pub store: SharedStore,
    /// The live fan-out (the store's commit sink).
    pub fanout: Arc<Fanout>,
    /// The counters behind `/metrics`.
    pub metrics: Arc<Metrics>,
    /// OAuth sign-ins waiting for their app.
    pub handoff: Arc<Handoff>,
    /// The client keys (cached) and the streams open with each.
    pub access: Arc<Access>,
    /// One permit per sign-in long poll waiting (`oauth_polls_max` in all).
    pub oauth_polls: Arc<Semaphore>,
    /// Cancelled when the relay shuts down: streams and long polls end.
    pub shutdown: CancellationToken,
    /// The team's store: seats, invites, the integration's sealed secrets.
    pub team: SharedTeamStore,
    /// The МТТ integration the relay holds in team mode.
    pub integration: Arc<Integration>,
    /// Join attempts (`join_attempts_per_minute`).
    pub join_limit: Arc<RateLimit>,
    /// The audit log of the seats' actions.
    pub audit: SharedAuditStore,
    /// The team's wrap-ups and tags list.
    pub wrapups: SharedWrapUpStore,
    /// The team phonebook and its index of personal managers.
    pub phonebook: Arc<TeamPhonebook>,
    /// The relay's view of live calls, presence and the callback queue.
    pub calls: Arc<CallView>,
    /// The team's directory, cached.
    pub directory: Arc<DirectoryCache>,
    /// Each seat's availability (set, and Offline while no stream of it is open).
    pub availability: Arc<SeatAvailability>,
    /// Each seat's requests in flight and rate.
    pub seat_limits: Arc<SeatLimits>,
    /// The decider of parked calls in team mode.
    pub routing: Arc<RelayRouter>,
    /// The queue of what the relay adds to the stream (see `team_feed`).
    pub additions: mpsc::Sender<Addition>,
    /// Its receiving end, taken by the task that stores them when the relay starts.
    pub(crate) additions_rx: Arc<Mutex<Option<mpsc::Receiver<Addition>>>>,
    /// The admin console's accounts and sessions, and what was seen of the seats' apps.
    pub console_store: SharedConsoleStore,
    /// The admin console's running state (sign-in limit, streams, today's counters).
    pub console: Arc<Console>,
}

impl RelayState {
    /// State over the embedded SQLite store at `config.database`.
    pub fn open(config: RelayConfig) -> Result<Self, RelayError> {
        let options = SqliteOptions {
            duplicate_window: config.duplicate_window,
            wal_limit: config.wal_limit,
            ..SqliteOptions::default()
        };
        let database = config.database.clone();
        Self::with_store(config, move |sink| {
            let store = Arc::new(SqliteStore::open(&database, options, sink)?);
            Ok((
                Arc::clone(&store) as SharedStore,
                Arc::clone(&store) as SharedTeamStore,
                Arc::clone(&store) as SharedAuditStore,
                Arc::clone(&store) as SharedWrapUpStore,
                Arc::clone(&store) as SharedPhonebookStore,
                store as SharedConsoleStore,
            ))
        })
    }

    /// State over the store the configuration names: the SQLite file, or the Postgres
    /// database (connecting to it first).
    pub async fn open_configured(config: RelayConfig) -> Result<Self, RelayError> {
        let Some(url) = config.postgres.clone() else {
            return Self::open(config);
        };
        let window = config.duplicate_window;
        let (prepared, sink) = Prepared::new(config)?;
        let store = crate::store::StoreLocation::Postgres(url)
            .open_with(sink, Some(window))
            .await?;
        Ok(prepared.finish((
            Arc::clone(&store) as SharedStore,
            Arc::clone(&store) as SharedTeamStore,
            Arc::clone(&store) as SharedAuditStore,
            Arc::clone(&store) as SharedWrapUpStore,
            Arc::clone(&store) as SharedPhonebookStore,
            store as SharedConsoleStore,
        )))
    }

    /// State over any store: `open_store` receives the sink the store must announce its
    /// commits to, and gives the event store and the team store. The at-rest key is read from
    /// `TRUBKA_RELAY_KEY` or `config.key_file` if either exists (without it, the relay serves
    /// events and seats but cannot hold an integration).
    pub fn with_store(
        config: RelayConfig,
        open_store: impl FnOnce(Arc<dyn CommitSink>) -> Result<Stores, RelayError>,
    ) -> Result<Self, RelayError> {
        let (prepared, sink) = Prepared::new(config)?;
        let stores = open_store(sink)?;
        Ok(prepared.finish(stores))
    }

    /// Removes the events older than the retention period once.
    pub async fn prune_once(&self) -> Result<u64, RelayError> {
        let retention = TimeDelta::from_std(self.config.retention).unwrap_or(TimeDelta::MAX);
        let cutoff = Utc::now()
            .checked_sub_signed(retention)
            .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
        self.store.prune_received_before(cutoff).await
    }

    /// Removes the audit log entries older than the audit retention once.
    pub async fn prune_audit_once(&self) -> Result<u64, RelayError> {
        let retention = TimeDelta::from_std(self.config.audit_retention).unwrap_or(TimeDelta::MAX);
        let cutoff = Utc::now()
            .checked_sub_signed(retention)
            .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
        self.audit.prune_audit_before(cutoff).await
    }

    /// Removes the routing decisions older than the journal's retention once.
    pub async fn prune_routing_journal_once(&self) -> Result<u64, RelayError> {
        let retention =
            TimeDelta::from_std(self.config.routing_journal_retention).unwrap_or(TimeDelta::MAX);
        let cutoff = Utc::now()
            .checked_sub_signed(retention)
            .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
        self.team.prune_decisions_before(cutoff).await
    }
}

/// What a relay's state needs before its store is open: the store must be handed the sink.
struct Prepared {
    config: RelayConfig,
    sealer: Option<Sealer>,
    metrics: Arc<Metrics>,
    fanout: Arc<Fanout>,
    calls: Arc<CallView>,
    today: Arc<crate::console_state::TodayCounters>,
    additions: mpsc::Sender<Addition>,
    additions_rx: mpsc::Receiver<Addition>,
    parked_rx: mpsc::Receiver<crate::store::StoredEvent>,
}

impl Prepared {
    fn new(config: RelayConfig) -> Result<(Self, Arc<dyn CommitSink>), RelayError> {
        config.validate()?;
        let sealer = Sealer::load(&config.key_file)?;
        let metrics = Arc::new(Metrics::default());
        let fanout = Arc::new(Fanout::new(config.client_buffer, Arc::clone(&metrics)));
        let calls = Arc::new(CallView::default());
        let (additions, additions_rx) = mpsc::channel(FEED_QUEUE);
        let today = Arc::new(crate::console_state::TodayCounters::new(
            config.console.time_zone,
        ));
        let (parked, parked_rx) = mpsc::channel(crate::routing::PARKED_QUEUE);
        let sink = TeamSink::new(Arc::clone(&calls), Arc::clone(&fanout), additions.clone())
            .with_today(Arc::clone(&today))
            .with_parked(parked);
        Ok((
            Self {
                config,
                sealer,
                metrics,
                fanout,
                calls,
                today,
                additions,
                additions_rx,
                parked_rx,
            },
            Arc::new(sink) as Arc<dyn CommitSink>,
        ))
    }

    fn finish(self, (store, team, audit, wrapups, phonebook, console_store): Stores) -> RelayState {
        let Prepared {
            config,
            sealer,
            metrics,
            fanout,
            calls,
            today,
            additions,
            additions_rx,
            parked_rx,
        } = self;
        let shutdown = CancellationToken::new();
        let config = Arc::new(config);
        let integration = Arc::new(
            Integration::new(
                Arc::clone(&team),
                sealer,
                Arc::clone(&config),
                Arc::clone(&metrics),
            )
            .with_notices(additions.clone()),
        );
        let routing = Arc::new(RelayRouter::new(
            Arc::clone(&team),
            Arc::clone(&store),
            Arc::clone(&calls),
            Arc::clone(&integration),
            parked_rx,
        ));
        // The router's facts about people: the team phonebook's personal managers and each
        // operator's availability, both answered from memory.
        let phonebook = Arc::new(TeamPhonebook::new(phonebook));
        let availability = Arc::new(SeatAvailability::new(additions.clone()));
        routing.use_managers(Arc::clone(&phonebook) as Arc<dyn crate::routing::PersonalManagers>);
        routing
            .use_availability(Arc::clone(&availability) as Arc<dyn crate::routing::Availability>);
        let console = Arc::new(Console::new(&config.console, today));
        RelayState {
            console_store,
            console,
            handoff: Arc::new(Handoff::new(config.oauth_code_ttl)),
            access: Arc::new(
                Access::new(
                    Arc::clone(&store),
                    config.streams_max,
                    config.streams_per_key,
                    shutdown.clone(),
                )
                .with_team(
                    Arc::clone(&team),
                    config.allow_client_keys,
                    Arc::clone(&fanout),
                    Arc::clone(&availability),
                )
                .following_workplaces(Arc::clone(&calls)),
            ),
            oauth_polls: Arc::new(Semaphore::new(config.oauth_polls_max)),
            integration,
            routing,
            seat_limits: Arc::new(SeatLimits::default()),
            availability,
            directory: Arc::new(DirectoryCache::default()),
            additions_rx: Arc::new(Mutex::new(Some(additions_rx))),
            additions,
            calls,
            audit,
            wrapups,
            phonebook,
            join_limit: Arc::new(RateLimit::per_minute(config.join_attempts_per_minute)),
            team,
            config,
            store,
            fanout,
            metrics,
            shutdown,
        }
    }
}
