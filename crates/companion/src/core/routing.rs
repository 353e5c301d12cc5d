//! The core's routing methods: parking per external number, the router switch, the routing
//! rules and the journal, as the window's Settings and History screens and the CLI use them.
//!
//! Parking state lives only here: the API can set parking but not read it back, so the set of
//! parked numbers and the time it was last applied are kept in the profile's settings and applied
//! again after every sign-in (a new sign-in may follow a change in the cabinet).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Companion;
use crate::error::{CompanionError, ErrorCode};
use crate::pipeline::DomainEvent;
use crate::routing::{
    ParkedCallRouter, ParkingHook, ParkingState, RoutingEngine, RoutingJournal, RoutingJournalEntry,
};
use call_routing::RoutingSettings;

impl Companion {
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
    pub(super) fn update_parking_hook(&self) {
        let router = self
            .router
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| {
                Arc::new(RoutingEngine::new(
                    self.log.clone(),
                    Arc::clone(&self.live),
                    Arc::clone(&self.directory),
                    Arc::clone(&self.settings),
                ))
            });
        let settings = self.settings();
        let signed_in = self.signed_in.load(Ordering::SeqCst);
        // In team mode the team's server decides parked calls: never this app.
        let router_here = settings.router && settings.team.is_none();
        let hook = match (router_here && signed_in, self.account()) {
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
        if is_router && settings.team.is_some() {
            return Err(CompanionError::InvalidInput(
                "in a team the team's server decides parked calls, not this app".into(),
            ));
        }
        settings.router = is_router;
        self.profile.save_settings(&settings)?;
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        self.update_parking_hook();
        Ok(())
    }

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
    pub(super) async fn after_sign_in(&self) {
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

    /// The latest `limit` routing decisions (the Settings screen shows [`crate::routing::JOURNAL_PAGE`]) and the
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

    /// The team's routing as its server has it, for an admin's Settings: `None` outside a team
    /// (the app's own rules apply). Other seats are refused by the server (`role_required`).
    pub async fn team_routing(&self) -> Result<Option<team_api::TeamRouting>, CompanionError> {
        match self.team_client().await? {
            Some(client) => Ok(Some(client.routing().await?)),
            None => Ok(None),
        }
    }

    /// Replaces the team's routing at its server (admins only): the rules from TOML text as the
    /// app's own are written, and parking turned `on` or off for `parked` numbers, each when
    /// given. The server checks them and applies parking; answers what it saved.
    pub async fn set_team_routing(
        &self,
        rules: Option<&str>,
        parking: Option<(&str, bool)>,
    ) -> Result<team_api::TeamRouting, CompanionError> {
        let client = self
            .team_client()
            .await?
            .ok_or_else(|| CompanionError::InvalidInput("this app is not in a team".into()))?;
        let mut routing = client.routing().await?;
        if let Some(text) = rules {
            let parsed = RoutingSettings::from_toml(text)
                .map_err(|e| CompanionError::InvalidInput(format!("routing rules: {e}")))?;
            routing.settings = RoutingSettings {
                parking_applied_at: routing.settings.parking_applied_at,
                ..parsed
            };
        }
        if let Some((number, on)) = parking {
            routing.parked.retain(|n| n != number);
            if on {
                routing.parked.push(number.to_owned());
            }
        }
        client.set_routing(&routing).await
    }
}
