//! The hook through which parked calls are decided.
//!
//! An external number with parking on holds each incoming call for five seconds, waiting for the
//! API to transfer it or release it; with no decision the PBX falls back to the cabinet's routing.
//! When such a call's parking leg announces itself, the core asks the [`ParkedCallRouter`] (the
//! routing engine implements it) and carries out the answer with `transferCall` or
//! `terminateCall` on the parking leg, within a hard deadline: a router that has not answered in
//! time, or an API call that fails, releases the call so it never waits out the five seconds for
//! nothing. Only an app marked as the account's router decides; the others only watch.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use mtt_api::{Callee, LegRef, Pbx};
use serde::Serialize;

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

/// What to do with a parked call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum RoutingChoice {
    /// Transfer the call to a workplace SIP ID or a number.
    #[serde(rename_all = "camelCase")]
    Transfer {
        /// Where to.
        to: String,
        /// Which rule chose it, for the journal.
        rule: String,
    },
    /// Release the call to the cabinet's routing at once.
    #[serde(rename_all = "camelCase")]
    Release {
        /// Which rule chose it.
        rule: String,
    },
}

/// Decides parked calls. Implementations must answer quickly; the core enforces the deadline.
pub trait ParkedCallRouter: Send + Sync + fmt::Debug + 'static {
    /// The decision for one parked call.
    fn decide(&self, call: ParkedCall) -> BoxFuture<'static, RoutingChoice>;
}

/// What happened to a parked call, for the UI and the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingOutcome {
    /// The parking leg.
    pub leg: String,
    /// What was decided (a release when the router missed the deadline).
    pub choice: RoutingChoice,
    /// Whether the router answered within the deadline.
    pub in_time: bool,
    /// Milliseconds from the leg's arrival at the relay to the API's answer.
    pub elapsed_ms: u64,
    /// The API's refusal, if it refused.
    pub error: Option<String>,
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
    /// relay received the leg (so time spent reaching the app counts).
    pub async fn decide(&self, call: ParkedCall) -> RoutingOutcome {
        let started = Instant::now();
        let already = (Utc::now() - call.received_at).to_std().unwrap_or_default();
        let budget = self.deadline.saturating_sub(already);
        let leg = call.leg.clone();
        let (choice, in_time) = match tokio::time::timeout(budget, self.router.decide(call)).await {
            Ok(choice) => (choice, true),
            Err(_) => (
                RoutingChoice::Release {
                    rule: "deadline".into(),
                },
                false,
            ),
        };
        let result = match &choice {
            RoutingChoice::Transfer { to, .. } => match Callee::parse(to) {
                Ok(target) => self.pbx.transfer_call(&leg, &target).await,
                Err(e) => Err(e),
            },
            RoutingChoice::Release { .. } => self.pbx.terminate_call(&leg).await,
        };
        let (choice, error) = match result {
            Ok(()) => (choice, None),
            // A failed transfer still must not leave the caller waiting: release instead.
            Err(e) if matches!(choice, RoutingChoice::Transfer { .. }) => {
                let release = self.pbx.terminate_call(&leg).await.err();
                tracing::warn!(error = %e, "transfer of a parked call failed; released it");
                (
                    RoutingChoice::Release {
                        rule: "transfer failed".into(),
                    },
                    Some(match release {
                        None => e.to_string(),
                        Some(r) => format!("{e}; releasing also failed: {r}"),
                    }),
                )
            }
            Err(e) => (choice, Some(e.to_string())),
        };
        RoutingOutcome {
            leg: leg.id.as_str().to_owned(),
            choice,
            in_time,
            elapsed_ms: (already + started.elapsed()).as_millis() as u64,
            error,
        }
    }
}
