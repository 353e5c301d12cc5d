//! Parked calls and the engine that decides them.
//!
//! An external number with parking on holds each incoming call for five seconds, waiting for the
//! API to transfer it or release it; with no decision the PBX falls back to the cabinet's routing.
//! When such a call's parking leg announces itself, the core asks the [`ParkedCallRouter`] (the
//! routing engine, [`RoutingEngine`], implements it) and carries out the answer with
//! `transferCall` or `terminateCall` on the parking leg, within a hard deadline measured from the
//! relay's receipt of the leg: a router that has not answered in time, or an API call that fails
//! or is still pending at the deadline, releases the call so it never waits out the five seconds
//! for nothing. Every decision, releases and failures included, is journalled in the call log and
//! announced as [`crate::DomainEvent::Routed`].
//!
//! Exactly one decider: only the app whose settings mark it as the account's router installs the
//! hook (and only while signed in and not in a team); every other app on the account only
//! watches the calls. Two routers would race each other's `transferCall` on the same leg. In
//! team mode the relay decides (it sees every call first and runs all the time, so that no
//! operator's laptop has to stay on for routing to work), and the app only journals the
//! decisions the relay sends it.
//!
//! The pieces: the rules themselves, the engine that applies them and the journal entry are the
//! `call-routing` crate's (shared with the relay, which decides in team mode), re-exported here;
//! [`engine`] is the [`ParkedCallRouter`] that gives the rules the app's facts (the phonebook's
//! personal manager and the last operator from the call log, in one indexed read, and which
//! workplaces are on a call from the live calls); [`api`] holds what the core's routing methods answer with (parking, the
//! journal). The methods themselves are the core's (`core/routing.rs`).

pub mod api;
pub mod engine;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use call_log::{CallLog, RoutingDecision};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use mtt_api::{Callee, LegRef, Pbx};
use serde::Serialize;

pub use api::{JOURNAL_PAGE, ParkingState, RoutingJournal, RoutingJournalEntry};
pub use call_routing::{
    BusinessHours, CallerView, DEADLINE_RULE, Decision, NO_RULE, OFFLINE_RULE, RoutingChoice,
    RoutingSettings, Rule, WhenBusy,
};
pub use engine::RoutingEngine;

/// The default time from the parking leg's arrival to the decision being sent (the PBX waits 5 s).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(4);

/// A parked incoming call waiting for a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedCall {
    /// The parking leg, which the decision acts on.
    pub leg: LegRef,
    /// Who is calling.
    pub caller_number: Option<String>,
    /// The caller's name as the PBX gave it.
    pub caller_name: Option<String>,
    /// The external number called.
    pub external_number: String,
    /// When the relay received the parking leg's `trying`.
    pub received_at: DateTime<Utc>,
}

/// Decides parked calls. Implementations must answer quickly; the core enforces the deadline.
pub trait ParkedCallRouter: Send + Sync + fmt::Debug + 'static {
    /// The decision for one parked call.
    fn decide(&self, call: ParkedCall) -> BoxFuture<'static, RoutingChoice>;

    /// The decision with its reasoning; by default the plain decision with none.
    fn decide_explained(&self, call: ParkedCall) -> BoxFuture<'static, Decision> {
        let choice = self.decide(call);
        Box::pin(async move {
            Decision {
                choice: choice.await,
                notes: Vec::new(),
            }
        })
    }
}

/// What happened to a parked call, for the UI and the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingOutcome {
    /// The parking leg.
    pub leg: String,
    /// Who called.
    pub caller_number: Option<String>,
    /// The parked external number called.
    pub external_number: String,
    /// What was decided (a release when the router missed the deadline or the transfer
    /// failed).
    pub choice: RoutingChoice,
    /// How it ended: `transferred`, `released`, `timed_out` (released at the deadline),
    /// `failed` (the API refused even the release) or `missed_offline` (it rang while this app
    /// was away, and nothing was sent).
    pub result: call_log::RoutingOutcome,
    /// Whether the decision reached the PBX within the deadline.
    pub in_time: bool,
    /// Milliseconds from the leg's arrival at the relay to the API's answer.
    pub elapsed_ms: u64,
    /// The deadline it had, in milliseconds.
    pub deadline_ms: u64,
    /// The API's refusal, if it refused.
    pub error: Option<String>,
    /// Why it went this way, in words: the rules' notes and what went wrong.
    pub detail: Option<String>,
    /// When the decision was carried out.
    pub decided_at: DateTime<Utc>,
}

/// Everything needed to decide parked calls.
#[derive(Debug, Clone)]
pub struct ParkingHook {
    /// The decider.
    pub router: Arc<dyn ParkedCallRouter>,
    /// The API client that carries out decisions.
    pub pbx: Pbx,
    /// The external numbers with parking on, as this app last set them.
    pub parked: Arc<RwLock<BTreeSet<String>>>,
    /// Time from the leg's arrival to the decision.
    pub deadline: Duration,
    /// Where decisions are journalled, if anywhere.
    pub journal: Option<CallLog>,
}

/// What carrying out a choice came to.
struct Carried {
    choice: RoutingChoice,
    result: call_log::RoutingOutcome,
    error: Option<String>,
    note: Option<String>,
}

impl ParkingHook {
    /// Whether calls to this number are parked.
    pub fn is_parked(&self, number: &str) -> bool {
        self.parked
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(number)
    }

    /// Asks the router and carries out its choice within the deadline, measured from when the
    /// relay received the leg (so time spent reaching the app counts), then journals it.
    pub async fn decide(&self, call: ParkedCall) -> RoutingOutcome {
        let started = Instant::now();
        let already = (Utc::now() - call.received_at).to_std().unwrap_or_default();
        let deadline_at = started + self.deadline.saturating_sub(already);
        let leg = call.leg.clone();
        let caller_number = call.caller_number.as_deref().map(|n| n.trim().to_owned());
        let external_number = call.external_number.clone();
        let decided =
            tokio::time::timeout_at(deadline_at.into(), self.router.decide_explained(call)).await;
        let (carried, notes) = match decided {
            Ok(decision) => (
                self.carry_out(&leg, decision.choice, deadline_at).await,
                decision.notes,
            ),
            Err(_) => {
                let mut carried = self.release(&leg, DEADLINE_RULE, true).await;
                carried.note = Some(format!(
                    "deadline passed: no decision within {} ms",
                    self.deadline.as_millis()
                ));
                (carried, Vec::new())
            }
        };
        let elapsed_ms =
            u64::try_from((already + started.elapsed()).as_millis()).unwrap_or(u64::MAX);
        let deadline_ms = u64::try_from(self.deadline.as_millis()).unwrap_or(u64::MAX);
        let detail: Vec<String> = notes
            .into_iter()
            .chain(carried.note)
            .chain(carried.error.clone())
            .collect();
        let outcome = RoutingOutcome {
            leg: leg.id.as_str().to_owned(),
            caller_number,
            external_number,
            choice: carried.choice,
            result: carried.result,
            in_time: elapsed_ms <= deadline_ms,
            elapsed_ms,
            deadline_ms,
            error: carried.error,
            detail: (!detail.is_empty()).then(|| detail.join("; ")),
            decided_at: Utc::now(),
        };
        if let Some(log) = &self.journal
            && let Err(e) = log.record_routing_decision(journal_entry(&outcome)).await
        {
            tracing::error!(error = %e, leg = %outcome.leg, "a routing decision could not be journalled");
        }
        outcome
    }

    /// Journals a parked call this app heard of only after its deadline, or after it ended: it
    /// rang while the app was away (asleep, off, offline), and the PBX has handed it to the
    /// cabinet's own routing already. Nothing goes to the PBX: a `terminateCall` now would act
    /// on a leg long gone, or worse, cut a call the cabinet's routing is ringing. `waited` is
    /// the leg's age when the app caught up, by the relay's clock, when known (else the
    /// deadline is journalled as its age). It never counts as meeting the deadline.
    pub async fn missed_while_offline(
        &self,
        call: ParkedCall,
        waited: Option<Duration>,
    ) -> RoutingOutcome {
        let deadline_ms = u64::try_from(self.deadline.as_millis()).unwrap_or(u64::MAX);
        let elapsed_ms = waited.map_or(deadline_ms, |w| {
            u64::try_from(w.as_millis()).unwrap_or(u64::MAX)
        });
        let outcome = RoutingOutcome {
            leg: call.leg.id.as_str().to_owned(),
            caller_number: call.caller_number.as_deref().map(|n| n.trim().to_owned()),
            external_number: call.external_number,
            choice: RoutingChoice::Release {
                rule: OFFLINE_RULE.to_owned(),
            },
            result: call_log::RoutingOutcome::MissedOffline,
            in_time: false,
            elapsed_ms,
            deadline_ms,
            error: None,
            detail: Some(
                "rang while this app was away; the PBX's own routing took the call".to_owned(),
            ),
            decided_at: Utc::now(),
        };
        if let Some(log) = &self.journal
            && let Err(e) = log.record_routing_decision(journal_entry(&outcome)).await
        {
            tracing::error!(error = %e, leg = %outcome.leg, "a routing decision could not be journalled");
        }
        outcome
    }

    /// Sends the choice to the PBX. A transfer still pending at the deadline, or refused, is
    /// given up and the call released instead, so the caller does not wait out the window.
    async fn carry_out(
        &self,
        leg: &LegRef,
        choice: RoutingChoice,
        deadline_at: Instant,
    ) -> Carried {
        let RoutingChoice::Transfer { to, rule } = &choice else {
            return self.release(leg, choice.rule(), false).await;
        };
        let sent = match Callee::parse(to) {
            Ok(target) => {
                tokio::time::timeout_at(deadline_at.into(), self.pbx.transfer_call(leg, &target))
                    .await
            }
            Err(e) => Ok(Err(e)),
        };
        match sent {
            Ok(Ok(())) => Carried {
                choice,
                result: call_log::RoutingOutcome::Transferred,
                error: None,
                note: None,
            },
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "transfer of a parked call failed; releasing it");
                let mut carried = self.release(leg, rule, false).await;
                let why = format!("transferCall to {to} failed: {e}");
                carried.error = Some(match carried.error {
                    None => why,
                    Some(r) => format!("{why}; {r}"),
                });
                if carried.result == call_log::RoutingOutcome::Released {
                    carried.result = call_log::RoutingOutcome::Failed;
                    carried.note = Some("released instead".into());
                }
                carried
            }
            Err(_) => {
                tracing::warn!(to, "transferCall missed the deadline; releasing the call");
                let mut carried = self.release(leg, rule, true).await;
                carried.note = Some(format!(
                    "deadline passed: transferCall to {to} had not answered within {} ms; released",
                    self.deadline.as_millis()
                ));
                carried
            }
        }
    }

    /// Releases the call with `terminateCall`.
    async fn release(&self, leg: &LegRef, rule: &str, late: bool) -> Carried {
        let choice = RoutingChoice::Release {
            rule: rule.to_owned(),
        };
        match self.pbx.terminate_call(leg).await {
            Ok(()) => Carried {
                choice,
                result: if late {
                    call_log::RoutingOutcome::TimedOut
                } else {
                    call_log::RoutingOutcome::Released
                },
                error: None,
                note: None,
            },
            Err(e) => Carried {
                choice,
                result: call_log::RoutingOutcome::Failed,
                error: Some(format!("terminateCall failed: {e}")),
                note: None,
            },
        }
    }
}

/// The journal's row for an outcome.
fn journal_entry(outcome: &RoutingOutcome) -> RoutingDecision {
    RoutingDecision {
        leg: outcome.leg.clone(),
        caller_number: outcome.caller_number.clone(),
        line_number: Some(outcome.external_number.clone()),
        rule: Some(outcome.choice.rule().to_owned()),
        target: match &outcome.choice {
            RoutingChoice::Transfer { to, .. } => Some(to.clone()),
            RoutingChoice::Release { .. } => None,
        },
        outcome: outcome.result,
        detail: outcome.detail.clone(),
        decided_at: outcome.decided_at,
        took_ms: i64::try_from(outcome.elapsed_ms).unwrap_or(i64::MAX),
        deadline_ms: i64::try_from(outcome.deadline_ms).unwrap_or(i64::MAX),
    }
}

/// Journals a decision the team's relay made and sent on the stream (a `routing` event), as the
/// app's own decisions are journalled, so that History shows why a call went where it did; the
/// same decision delivered again (a replay) is journalled once. Answers the outcome to announce,
/// or `None` when the body is not a decision or was journalled already.
pub async fn journal_relay_decision(
    log: &CallLog,
    body: serde_json::Value,
) -> Option<RoutingOutcome> {
    let event: team_api::RoutingDecisionEvent = match serde_json::from_value(body) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(error = %e, "a routing decision from the relay does not read");
            return None;
        }
    };
    let entry = event.entry;
    match log.routing_decisions_for(&entry.leg).await {
        Ok(known) if known.iter().any(|r| r.decision == entry) => return None,
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "the routing journal could not be read"),
    }
    if let Err(e) = log.record_routing_decision(entry.clone()).await {
        tracing::error!(error = %e, leg = %entry.leg, "the relay's routing decision could not be journalled");
        return None;
    }
    let choice = match (&entry.target, entry.rule.clone().unwrap_or_default()) {
        (Some(to), rule) => RoutingChoice::Transfer {
            to: to.clone(),
            rule,
        },
        (None, rule) => RoutingChoice::Release { rule },
    };
    Some(RoutingOutcome {
        in_time: entry.met_deadline(),
        leg: entry.leg,
        caller_number: entry.caller_number,
        external_number: entry.line_number.unwrap_or_default(),
        choice,
        result: entry.outcome,
        elapsed_ms: u64::try_from(entry.took_ms).unwrap_or_default(),
        deadline_ms: u64::try_from(entry.deadline_ms).unwrap_or_default(),
        error: None,
        detail: entry.detail,
        decided_at: entry.decided_at,
    })
}
