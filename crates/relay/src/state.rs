//! What the handlers share: the configuration, the event store, the fan-out, the counters, the
//! OAuth hand-off, the cached client keys and the caps on long-lived requests. It lives apart from the router so that the handlers' modules (intake,
//! stream, oauth) and the server that routes to them all depend on it, and it on none of them.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::access::Access;
use crate::config::RelayConfig;
use crate::error::RelayError;
use crate::fanout::Fanout;
use crate::handoff::Handoff;
use crate::metrics::Metrics;
use crate::store::sqlite::{SqliteOptions, SqliteStore};
use crate::store::{CommitSink, SharedStore};

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
            Ok(Arc::new(SqliteStore::open(&database, options, sink)?) as SharedStore)
        })
    }

    /// State over any store: `open_store` receives the sink the store must announce its
    /// commits to.
    pub fn with_store(
        config: RelayConfig,
        open_store: impl FnOnce(Arc<dyn CommitSink>) -> Result<SharedStore, RelayError>,
    ) -> Result<Self, RelayError> {
        config.validate()?;
        let metrics = Arc::new(Metrics::default());
        let fanout = Arc::new(Fanout::new(config.client_buffer, Arc::clone(&metrics)));
        let store = open_store(Arc::clone(&fanout) as Arc<dyn CommitSink>)?;
        let shutdown = CancellationToken::new();
        Ok(Self {
            handoff: Arc::new(Handoff::new(config.oauth_code_ttl)),
            access: Arc::new(Access::new(
                Arc::clone(&store),
                config.streams_max,
                config.streams_per_key,
                shutdown.clone(),
            )),
            oauth_polls: Arc::new(Semaphore::new(config.oauth_polls_max)),
            config: Arc::new(config),
            store,
            fanout,
            metrics,
            shutdown,
        })
    }

    /// Removes the events older than the retention period once.
    pub async fn prune_once(&self) -> Result<u64, RelayError> {
        let retention = TimeDelta::from_std(self.config.retention).unwrap_or(TimeDelta::MAX);
        let cutoff = Utc::now()
            .checked_sub_signed(retention)
            .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
        self.store.prune_received_before(cutoff).await
    }
}
