//! Deciding one parked call: asking for its claim, deciding it under a renewed lease, the fence
//! before the PBX, carrying the choice out within the deadline, and the journal.

use std::time::{Duration, Instant};

use call_routing::{
    DEADLINE_RULE, Decision, JournalEntry, PARKING_WINDOW_MS, RoutingChoice, RoutingOutcome,
};
use chrono::Utc;
use mtt_api::{Callee, LegRef, Pbx};
use team_api::{ROUTING_KIND, RoutingDecisionEvent};

use super::{
    CLAIM_RETRY, Claimed, LEASE_MARGIN, LONGEST_LEASE, ParkedLeg, RelayRouter, SHORTEST_LEASE,
};
use crate::calls::number_key;
use crate::store::IncomingNotification;
use crate::store::claims::{ClaimAnswer, ParkedCallClaim};

impl RelayRouter {
    /// Asks for the call's claim until it is granted to this instance (then decides it, and
    /// answers the journal entry), settled by another, or the PBX's window has passed.
    pub async fn take_up(&self, call: ParkedLeg) -> Option<JournalEntry> {
        let window = Duration::from_millis(PARKING_WINDOW_MS);
        let deadline = Duration::from_millis(self.routing().settings.deadline_ms);
        let lease = (deadline / 4).clamp(SHORTEST_LEASE, LONGEST_LEASE);
        loop {
            let age = (Utc::now() - call.received_at).to_std().unwrap_or_default();
            let Some(left) = window.checked_sub(age).filter(|left| !left.is_zero()) else {
                tracing::error!(leg = %call.leg.id.as_str(), "a parked call was left undecided past the PBX's window: its decider stopped and no instance could take it over in time");
                return None;
            };
            let token = rand::random::<i64>();
            let asked = self
                .team
                .claim_parked_call(ParkedCallClaim {
                    leg: call.leg.id.as_str().to_owned(),
                    caller_key: call
                        .caller_number
                        .as_deref()
                        .map(number_key)
                        .unwrap_or_default(),
                    external_number: call.external_number.clone(),
                    received_at: call.received_at,
                    token,
                    holder: self.holder.clone(),
                    lease,
                })
                .await;
            let wait = match asked {
                Ok(ClaimAnswer::Granted { taken_over }) => {
                    if taken_over {
                        tracing::warn!(leg = %call.leg.id.as_str(), "a parked call's decider stopped; this instance takes it over");
                    }
                    return self
                        .decide(
                            call,
                            Claimed {
                                token,
                                taken_over,
                                lease,
                            },
                        )
                        .await;
                }
                Ok(ClaimAnswer::Settled) => return None,
                Ok(ClaimAnswer::HeldElsewhere { lease_left }) => lease_left + LEASE_MARGIN,
                Err(err) => {
                    tracing::warn!(error = %err, leg = %call.leg.id.as_str(), "a parked call's claim could not be asked for; asking again");
                    CLAIM_RETRY
                }
            };
            tokio::time::sleep(wait.min(left)).await;
        }
    }

    /// Decides a parked call this instance holds the claim of and carries the choice out within
    /// the deadline, measured from the relay's receipt of the leg; journals it and adds it to
    /// the stream. Answers the journal entry, or `None` when the claim was lost before anything
    /// was sent (another instance decides it then).
    pub async fn decide(&self, call: ParkedLeg, claimed: Claimed) -> Option<JournalEntry> {
        let started = Instant::now();
        let routing = self.routing();
        let deadline = Duration::from_millis(routing.settings.deadline_ms);
        let already = (Utc::now() - call.received_at).to_std().unwrap_or_default();
        let deadline_at = started + deadline.saturating_sub(already);
        let zone = routing
            .time_zone
            .parse()
            .unwrap_or(mtt_api::notification::DEFAULT_PBX_ZONE);
        let facts = self.facts();
        let deciding = tokio::time::timeout_at(deadline_at.into(), async {
            let decision = call_routing::decide(
                &routing.settings,
                zone,
                call.caller_number.as_deref(),
                call.received_at,
                &facts,
            )
            .await;
            let pbx = self.integration.pbx_for_actions().await;
            (decision, pbx)
        });
        let leg = call.leg.id.as_str();
        let decided = tokio::select! {
            decided = deciding => decided,
            () = self.keep_claim(leg, claimed) => {
                tracing::warn!(leg, "this instance lost its claim on a parked call while deciding it; another decides it, nothing sent from here");
                return None;
            }
        };
        // The fence: nothing reaches the PBX unless the claim is still this instance's.
        match self
            .team
            .start_acting(call.leg.id.as_str().to_owned(), claimed.token)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(leg = %call.leg.id.as_str(), "this instance stalled past its claim on a parked call; another decides it, nothing sent from here");
                return None;
            }
            Err(err) => {
                tracing::error!(error = %err, leg = %call.leg.id.as_str(), "a parked call's claim could not be acted on; nothing sent (the PBX follows the cabinet's routing)");
                return None;
            }
        }
        let mut carried = match decided {
            Ok((decision, Ok(pbx))) => carry_out(&pbx, &call.leg, decision, deadline_at).await,
            Ok((decision, Err(err))) => Carried {
                choice: decision.choice,
                result: RoutingOutcome::Failed,
                notes: decision.notes,
                error: Some(format!("the integration cannot be used: {err}")),
            },
            Err(_) => {
                let mut carried = match self.integration.pbx_for_actions().await {
                    Ok(pbx) => release(&pbx, &call.leg, DEADLINE_RULE, true).await,
                    Err(err) => Carried {
                        choice: RoutingChoice::Release {
                            rule: DEADLINE_RULE.to_owned(),
                        },
                        result: RoutingOutcome::Failed,
                        notes: Vec::new(),
                        error: Some(format!("the integration cannot be used: {err}")),
                    },
                };
                carried.notes.push(format!(
                    "deadline passed: no decision within {} ms",
                    deadline.as_millis()
                ));
                carried
            }
        };
        if claimed.taken_over {
            carried
                .notes
                .push("taken over from a relay instance that stopped deciding it".into());
        }
        let took = already + started.elapsed();
        let detail: Vec<String> = carried
            .notes
            .iter()
            .cloned()
            .chain(carried.error.clone())
            .collect();
        let entry = JournalEntry {
            leg: call.leg.id.as_str().to_owned(),
            caller_number: call.caller_number.as_deref().map(|n| n.trim().to_owned()),
            line_number: Some(call.external_number.clone()),
            rule: Some(carried.choice.rule().to_owned()),
            target: match &carried.choice {
                RoutingChoice::Transfer { to, .. } => Some(to.clone()),
                RoutingChoice::Release { .. } => None,
            },
            outcome: carried.result,
            detail: (!detail.is_empty()).then(|| detail.join("; ")),
            decided_at: Utc::now(),
            took_ms: i64::try_from(took.as_millis()).unwrap_or(i64::MAX),
            deadline_ms: i64::try_from(deadline.as_millis()).unwrap_or(i64::MAX),
        };
        tracing::info!(leg = %entry.leg, rule = ?entry.rule, outcome = entry.outcome.as_text(), took_ms = entry.took_ms, "parked call decided");
        self.journal(entry.clone()).await;
        Some(entry)
    }

    /// Renews the claim every third of its lease; returns only when it is no longer this
    /// instance's (a store error is tried again: the fence before acting has the last word).
    async fn keep_claim(&self, leg: &str, claimed: Claimed) {
        loop {
            tokio::time::sleep(claimed.lease / 3).await;
            match self
                .team
                .renew_claim(leg.to_owned(), claimed.token, claimed.lease)
                .await
            {
                Ok(true) => {}
                Ok(false) => return,
                Err(err) => {
                    tracing::warn!(error = %err, leg, "a parked call's claim could not be renewed");
                }
            }
        }
    }

    /// Journals a decision and adds it to the stream.
    async fn journal(&self, entry: JournalEntry) {
        let id = match self.team.record_decision(entry.clone()).await {
            Ok(id) => id,
            Err(err) => {
                tracing::error!(error = %err, leg = %entry.leg, "a routing decision could not be journalled");
                return;
            }
        };
        let Ok(body) = serde_json::to_string(&RoutingDecisionEvent { id, entry }) else {
            return;
        };
        let Ok(notification) = IncomingNotification::new(ROUTING_KIND.to_owned(), body) else {
            return;
        };
        if let Err(err) = self.store.append(notification).await {
            tracing::warn!(error = %err, "a routing decision could not be added to the stream");
        }
    }
}

/// What carrying out a choice came to.
struct Carried {
    choice: RoutingChoice,
    result: RoutingOutcome,
    notes: Vec<String>,
    error: Option<String>,
}

/// Sends the choice to the PBX. A transfer still pending at the deadline, or refused, is given
/// up and the call released instead, so the caller does not wait out the window. Nothing is sent
/// twice: `Pbx` never repeats an action after a timeout.
async fn carry_out(pbx: &Pbx, leg: &LegRef, decision: Decision, deadline_at: Instant) -> Carried {
    let Decision { choice, notes } = decision;
    let RoutingChoice::Transfer { to, rule } = &choice else {
        let mut carried = release(pbx, leg, choice.rule(), false).await;
        carried.notes = notes;
        return carried;
    };
    let sent = match Callee::parse(to) {
        Ok(target) => {
            tokio::time::timeout_at(deadline_at.into(), pbx.transfer_call(leg, &target)).await
        }
        Err(e) => Ok(Err(e)),
    };
    match sent {
        Ok(Ok(())) => Carried {
            choice,
            result: RoutingOutcome::Transferred,
            notes,
            error: None,
        },
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "transfer of a parked call failed; releasing it");
            let mut carried = release(pbx, leg, rule, false).await;
            let why = format!("transferCall to {to} failed: {e}");
            carried.error = Some(match carried.error {
                None => why,
                Some(r) => format!("{why}; {r}"),
            });
            carried.notes = notes;
            if carried.result == RoutingOutcome::Released {
                carried.result = RoutingOutcome::Failed;
                carried.notes.push("released instead".into());
            }
            carried
        }
        Err(_) => {
            tracing::warn!(to, "transferCall missed the deadline; releasing the call");
            let mut carried = release(pbx, leg, rule, true).await;
            carried.notes = notes;
            carried.notes.push(format!(
                "deadline passed: transferCall to {to} had not answered in time; released"
            ));
            carried
        }
    }
}

/// Releases the call with `terminateCall`.
async fn release(pbx: &Pbx, leg: &LegRef, rule: &str, late: bool) -> Carried {
    let choice = RoutingChoice::Release {
        rule: rule.to_owned(),
    };
    match pbx.terminate_call(leg).await {
        Ok(()) => Carried {
            choice,
            result: if late {
                RoutingOutcome::TimedOut
            } else {
                RoutingOutcome::Released
            },
            notes: Vec::new(),
            error: None,
        },
        Err(e) => Carried {
            choice,
            result: RoutingOutcome::Failed,
            notes: Vec::new(),
            error: Some(format!("terminateCall failed: {e}")),
        },
    }
}
