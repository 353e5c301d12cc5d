//! The routing engine: the app's facts for one parked call, given to the shared rules engine
//! (`call_routing::decide`).
//!
//! Speed matters more than anywhere else in the app: the PBX holds the caller for five seconds
//! and the goal is a decision at the PBX within 300 ms of the relay's receipt. So the engine makes
//! one read of the call log per call ([`call_log::CallLog::caller_facts`]: the contact's manager,
//! the last operator and whether the number is known, each an index walk however large the log),
//! reads the live calls and the directory from memory, and never waits on the network itself.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use call_log::CallLog;
use call_routing::{CallerView, RoutingFacts, WorkplaceFacts};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use super::{ParkedCall, ParkedCallRouter};
use crate::directory::Directory;
use crate::live::{CallDirection, CallPhase, LiveCalls};
use crate::routing::{Decision, RoutingChoice};
use crate::settings::Settings;

/// Decides parked calls by the profile's routing rules.
#[derive(Debug, Clone)]
pub struct RoutingEngine {
    log: CallLog,
    live: Arc<Mutex<LiveCalls>>,
    directory: Arc<RwLock<Directory>>,
    settings: Arc<RwLock<Settings>>,
}

/// The app's facts at the moment of one decision: the call log to read the caller from, and
/// the directory and busy workplaces copied from memory.
struct AppFacts {
    log: CallLog,
    /// Terminal → its workplace.
    terminals: HashMap<String, String>,
    /// The account's workplaces (empty before the directory is read: then any SIP ID counts).
    workplaces: HashSet<String>,
    busy: HashSet<String>,
}

impl AppFacts {
    fn workplace_of(&self, id: &str) -> String {
        self.terminals
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }
}

impl WorkplaceFacts for AppFacts {
    fn is_workplace(&self, id: &str) -> bool {
        self.workplaces.is_empty() || self.workplaces.contains(id)
    }

    fn is_busy(&self, workplace: &str) -> bool {
        self.busy.contains(workplace)
    }
}

impl RoutingFacts for AppFacts {
    type Error = call_log::CallLogError;

    async fn caller(
        &self,
        number: &str,
        last_operator_since: DateTime<Utc>,
        known_before: DateTime<Utc>,
    ) -> Result<CallerView, Self::Error> {
        let facts = self
            .log
            .caller_facts(number, last_operator_since, known_before)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "routing without the call history"))?;
        Ok(CallerView {
            manager: facts
                .manager_sip_id
                .as_deref()
                .map(|m| self.workplace_of(m)),
            last_operator: facts.last_operator.as_deref().map(|o| self.workplace_of(o)),
            known: facts.contact_id.is_some() || facts.called_before,
        })
    }
}

impl RoutingEngine {
    /// An engine reading the rules from `settings` at each call (so edits apply at once), the
    /// phonebook and history from `log`, and who is on a call from `live` and `directory`.
    pub fn new(
        log: CallLog,
        live: Arc<Mutex<LiveCalls>>,
        directory: Arc<RwLock<Directory>>,
        settings: Arc<RwLock<Settings>>,
    ) -> Self {
        RoutingEngine {
            log,
            live,
            directory,
            settings,
        }
    }

    /// The decision for one call, with its reasoning.
    pub async fn explain(&self, call: ParkedCall) -> Decision {
        let (routing, zone) = {
            let settings = self.settings.read().unwrap_or_else(|p| p.into_inner());
            let zone = settings
                .pbx_time_zone
                .parse()
                .unwrap_or(mtt_api::notification::DEFAULT_PBX_ZONE);
            (settings.routing.clone(), zone)
        };
        let facts = self.facts();
        call_routing::decide(
            &routing,
            zone,
            call.caller_number.as_deref(),
            call.received_at,
            &facts,
        )
        .await
    }

    fn facts(&self) -> AppFacts {
        let (terminals, workplaces) = {
            let directory = self.directory.read().unwrap_or_else(|p| p.into_inner());
            let terminals: HashMap<String, String> = directory
                .terminals
                .iter()
                .map(|t| (t.terminal.clone(), t.workplace.clone()))
                .collect();
            let workplaces: HashSet<String> = directory
                .workplaces
                .iter()
                .map(|w| w.workplace.clone())
                .collect();
            (terminals, workplaces)
        };
        let mut facts = AppFacts {
            log: self.log.clone(),
            terminals,
            workplaces,
            busy: HashSet::new(),
        };
        facts.busy = self.busy_workplaces(&|id| facts.workplace_of(id));
        facts
    }

    /// The workplaces on a connected call now: who answered an incoming call, the operator of
    /// an outgoing one; terminals count as their workplace.
    fn busy_workplaces(&self, workplace_of: &dyn Fn(&str) -> String) -> HashSet<String> {
        let calls = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot();
        let mut busy = HashSet::new();
        for call in calls.iter().filter(|c| c.phase == CallPhase::Connected) {
            if let Some(by) = &call.answered_by {
                busy.insert(workplace_of(by));
            }
            if call.direction == CallDirection::Outgoing {
                busy.extend(call.workplaces.iter().map(|w| workplace_of(w)));
            }
        }
        busy
    }
}

impl ParkedCallRouter for RoutingEngine {
    fn decide(&self, call: ParkedCall) -> BoxFuture<'static, RoutingChoice> {
        let engine = self.clone();
        Box::pin(async move { engine.explain(call).await.choice })
    }

    fn decide_explained(&self, call: ParkedCall) -> BoxFuture<'static, Decision> {
        let engine = self.clone();
        Box::pin(async move { engine.explain(call).await })
    }
}
