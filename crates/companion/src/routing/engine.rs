//! The routing engine: gathers what the rules look at for one parked call and applies them.
//!
//! Speed matters more than anywhere else in the app: the PBX holds the caller for five seconds
//! and the goal is a decision at the PBX within 300 ms of the relay's receipt. So the engine makes
//! one read of the call log per call ([`call_log::CallLog::caller_facts`]: the contact's manager,
//! the last operator and whether the number is known, each an index walk however large the log),
//! reads the live calls and the directory from memory, and never waits on the network itself.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use call_log::CallLog;
use chrono::Duration;
use futures::future::BoxFuture;

use super::{ParkedCall, ParkedCallRouter};
use crate::directory::Directory;
use crate::live::{CallDirection, CallPhase, LiveCalls};
use crate::routing_rules::{CallerView, Decision, RoutingChoice, Rule};
use crate::settings::Settings;

/// A parked call's own legs are in the log by the time it is decided; only calls that started
/// this long before it make the caller known.
const OWN_LEGS: Duration = Duration::seconds(30);

/// Decides parked calls by the profile's routing rules.
#[derive(Debug, Clone)]
pub struct RoutingEngine {
    log: CallLog,
    live: Arc<Mutex<LiveCalls>>,
    directory: Arc<RwLock<Directory>>,
    settings: Arc<RwLock<Settings>>,
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
        let days = routing
            .rules
            .iter()
            .find_map(|r| match r {
                Rule::LastOperator {
                    enabled: true,
                    days,
                } => Some(*days),
                _ => None,
            })
            .unwrap_or(0);
        let mut notes = Vec::new();
        let number = call
            .caller_number
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let facts = match number {
            None => {
                notes.push("the caller's number is hidden".to_owned());
                call_log::CallerFacts::default()
            }
            Some(number) => {
                let since = call.received_at - Duration::days(i64::from(days));
                let before = call.received_at - OWN_LEGS;
                match self.log.caller_facts(number, since, before).await {
                    Ok(facts) => facts,
                    Err(e) => {
                        tracing::warn!(error = %e, "routing without the call history");
                        notes.push(format!("the call history could not be read: {e}"));
                        call_log::CallerFacts::default()
                    }
                }
            }
        };
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
        let workplace_of = |id: &str| terminals.get(id).cloned().unwrap_or_else(|| id.to_owned());
        let busy = self.busy_workplaces(&workplace_of);
        let caller = CallerView {
            manager: facts.manager_sip_id.as_deref().map(workplace_of),
            last_operator: facts.last_operator.as_deref().map(workplace_of),
            known: facts.contact_id.is_some() || facts.called_before,
        };
        let valid = |id: &str| workplaces.is_empty() || workplaces.contains(id);
        let mut decision = routing.evaluate(
            &caller,
            call.received_at,
            zone,
            &|w: &str| busy.contains(w),
            &valid,
        );
        notes.append(&mut decision.notes);
        decision.notes = notes;
        decision
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
