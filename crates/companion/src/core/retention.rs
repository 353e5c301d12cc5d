//! The call log's clean-up in the background: once soon after start, then every day, by the
//! periods in the settings as they are at each run. It waits for the first catch-up with the
//! relay, which may be a long backlog, rather than compete with it for the writer.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use call_log::CallLog;
use chrono::Utc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::Companion;
use crate::retention::{LastPrune, RetentionSchedule, write_last_prune};
use crate::settings::Settings;

/// What the clean-up task needs from the core.
pub(super) struct RetentionTask {
    pub log: CallLog,
    pub settings: Arc<RwLock<Settings>>,
    pub data_dir: PathBuf,
    pub last: Arc<RwLock<Option<LastPrune>>>,
    /// `true` while no first sync with the relay is under way.
    pub synced: watch::Receiver<bool>,
    pub schedule: RetentionSchedule,
    pub cancel: CancellationToken,
}

impl RetentionTask {
    /// Runs until cancelled.
    pub async fn run(mut self) {
        let mut wait = self.schedule.first_after;
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            wait = self.schedule.every;
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                // A closed sender means the core is going away; the select above ends it.
                _ = self.synced.wait_for(|synced| *synced) => {}
            }
            if self.cancel.is_cancelled() {
                return;
            }
            self.prune_once().await;
        }
    }

    async fn prune_once(&self) {
        let retention = self
            .settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .retention;
        let now = Utc::now();
        // The log's writer thread does the work: nothing here blocks the runtime.
        let last = match self.log.prune_to(retention.cutoffs(now)).await {
            Ok(report) => {
                tracing::info!(
                    calls = report.calls,
                    raw_events = report.events,
                    routing_decisions = report.routing_decisions,
                    "the call log was cleaned up"
                );
                LastPrune::done(now, report)
            }
            Err(e) => {
                tracing::warn!(error = %e, "the call log could not be cleaned up");
                LastPrune::failed(now, e.to_string())
            }
        };
        *self.last.write().unwrap_or_else(|p| p.into_inner()) = Some(last.clone());
        let dir = self.data_dir.clone();
        let written = tokio::task::spawn_blocking(move || write_last_prune(&dir, &last)).await;
        if let Ok(Err(e)) | Err(e) = written.map_err(std::io::Error::other) {
            tracing::warn!(error = %e, "the clean-up's record could not be kept");
        }
    }
}

impl Companion {
    /// What the last clean-up of the call log did (since this profile has one), if it ran.
    pub fn last_prune(&self) -> Option<LastPrune> {
        self.last_prune
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
