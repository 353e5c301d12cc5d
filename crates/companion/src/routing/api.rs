//! The core's routing methods: the rules, parking per external number, the router switch and the
//! journal, as the window's Settings and History screens and the CLI use them.
//!
//! Parking state lives only here: the API can set parking but not read it back, so the set of
//! parked numbers and the time it was last applied are kept in the profile's settings and applied
//! again after every sign-in (a new sign-in may follow a change in the cabinet).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::rules::RoutingSettings;
use crate::core::Companion;
use crate::error::{CompanionError, ErrorCode};
use crate::pipeline::DomainEvent;

/// How many decisions the Settings screen shows.
pub const JOURNAL_PAGE: usize = 100;

/// Parking as this app last set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParkingState {
    /// The external numbers with parking on.
    pub numbers: Vec<String>,
    /// When parking was last applied to the PBX (a change, or the re-apply after sign-in).
    pub applied_at: Option<DateTime<Utc>>,
    /// Whether this app is marked as the account's router.
    pub is_router: bool,
    /// Whether this app decides parked calls now (marked as router and signed in).
    pub deciding: bool,
}

/// One journalled decision, as the screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingJournalEntry {
    /// The journal row.
    pub id: i64,
    /// The parking leg.
    pub leg: String,
    /// Who called.
    pub caller_number: Option<String>,
    /// The parked external number.
    pub external_number: Option<String>,
    /// The rule that decided (`manager`, `last_operator`, `outside_hours`, `unknown_caller`,
    /// `no_rule`, `deadline`).
    pub rule: Option<String>,
    /// Where the call was sent, for a transfer.
    pub target: Option<String>,
    /// `transferred`, `released`, `timed_out` or `failed`.
    pub outcome: call_log::RoutingOutcome,
    /// Why, in words: the rules' notes and the API's errors.
    pub detail: Option<String>,
    /// When it was carried out.
    pub decided_at: DateTime<Utc>,
    /// Milliseconds from the relay's receipt of the parking leg to the API's answer.
    pub took_ms: i64,
    /// The deadline it had.
    pub deadline_ms: i64,
    /// Whether it met the deadline.
    pub met_deadline: bool,
}

impl From<call_log::RoutingRecord> for RoutingJournalEntry {
    fn from(r: call_log::RoutingRecord) -> Self {
        let d = r.decision;
        RoutingJournalEntry {
            id: r.id,
            met_deadline: d.took_ms <= d.deadline_ms,
            leg: d.leg,
            caller_number: d.caller_number,
            external_number: d.line_number,
            rule: d.rule,
            target: d.target,
            outcome: d.outcome,
            detail: d.detail,
            decided_at: d.decided_at,
            took_ms: d.took_ms,
            deadline_ms: d.deadline_ms,
        }
    }
}

/// The latest decisions and how many met their deadline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingJournal {
    /// Newest first.
    pub decisions: Vec<RoutingJournalEntry>,
    /// Of them, how many met the deadline.
    pub met: usize,
    /// `met / decisions`, or `None` with no decisions.
    pub share: Option<f64>,
}

impl Companion {
    /// The routing rules, business hours and deadline.
    pub fn routing_settings(&self) -> RoutingSettings {
        self.settings().routing
    }

    /// Replaces the routing rules, business hours and deadline after checking them (the error
    /// names the rule and the field). When parking was applied is kept as it was: only applying
    /// parking changes it. The engine uses the new rules from the next parked call.
    pub fn set_routing_settings(
        &self,
        routing: RoutingSettings,
    ) -> Result<RoutingSettings, CompanionError> {
        routing
            .validate()
            .map_err(|e| CompanionError::InvalidInput(format!("routing rules: {e}")))?;
        let mut settings = self.settings();
        let applied = settings.routing.parking_applied_at;
        settings.routing = RoutingSettings {
            parking_applied_at: applied,
            ..routing
        };
        self.profile.save_settings(&settings)?;
        let saved = settings.routing.clone();
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        // The deadline lives in the hook.
        self.update_parking_hook();
        Ok(saved)
    }

    /// Reads routing settings from TOML text (a `[routing]` table, or its keys alone) and
    /// applies them as [`Companion::set_routing_settings`] does.
    pub fn set_routing_settings_toml(&self, text: &str) -> Result<RoutingSettings, CompanionError> {
        let routing = RoutingSettings::from_toml(text)
            .map_err(|e| CompanionError::InvalidInput(format!("routing rules: {e}")))?;
        self.set_routing_settings(routing)
    }

    /// Parking as this app last set it, and whether this app decides parked calls.
    pub fn parking_state(&self) -> ParkingState {
        let settings = self.settings();
        ParkingState {
            numbers: settings.parked.iter().cloned().collect(),
            applied_at: settings.routing.parking_applied_at,
            is_router: settings.router,
            deciding: self.is_deciding(),
        }
    }

    /// Whether this app decides parked calls now.
    pub fn is_deciding(&self) -> bool {
        self.parking
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Applies the remembered parking to the PBX again (`setParkingNumbers` with every parked
    /// number) and records when. Returns that time, or `None` when no number is parked.
    pub async fn reapply_parking(&self) -> Result<Option<DateTime<Utc>>, CompanionError> {
        let numbers: Vec<String> = self.settings().parked.iter().cloned().collect();
        if numbers.is_empty() {
            return Ok(None);
        }
        self.checked(self.pbx()?.set_parking(&numbers, true).await)?;
        let now = Utc::now();
        let mut settings = self.settings();
        settings.routing.parking_applied_at = Some(now);
        self.profile.save_settings(&settings)?;
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        Ok(Some(now))
    }

    /// After a successful sign-in: re-applies parking (a failure is announced as trouble, not
    /// returned, since the sign-in itself succeeded) and installs the routing engine if this app
    /// is the router.
    pub(crate) async fn after_sign_in(&self) {
        self.update_parking_hook();
        match self.reapply_parking().await {
            Ok(Some(at)) => tracing::info!(%at, "parking applied again after sign-in"),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "parking could not be applied after sign-in");
                let _ = self.events.send(DomainEvent::Trouble {
                    code: ErrorCode::Parking,
                    message: format!(
                        "parking could not be applied again after sign-in; parked calls may follow the cabinet's routing: {e}"
                    ),
                });
            }
        }
    }

    /// The latest `limit` routing decisions (the Settings screen shows [`JOURNAL_PAGE`]) and the
    /// share of them that met their deadline.
    pub async fn routing_journal(&self, limit: usize) -> Result<RoutingJournal, CompanionError> {
        let decisions: Vec<RoutingJournalEntry> = self
            .log
            .routing_decisions(limit)
            .await?
            .into_iter()
            .map(RoutingJournalEntry::from)
            .collect();
        let met = decisions.iter().filter(|d| d.met_deadline).count();
        #[allow(
            clippy::cast_precision_loss,
            reason = "a share needs no more than f64 precision"
        )]
        let share = (!decisions.is_empty()).then(|| met as f64 / decisions.len() as f64);
        Ok(RoutingJournal {
            decisions,
            met,
            share,
        })
    }

    /// Why a history row's call went where it did: the decision for its parking leg, found
    /// from either leg of the call (see [`call_log::CallLog::routing_decision_for_call`]).
    pub async fn routing_reason(
        &self,
        leg: &str,
    ) -> Result<Option<RoutingJournalEntry>, CompanionError> {
        Ok(self
            .log
            .routing_decision_for_call(leg)
            .await?
            .map(RoutingJournalEntry::from))
    }
}
