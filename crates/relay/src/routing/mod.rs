//! Routing on the relay: in team mode the relay is the one decider of parked calls.
//!
//! An external number with parking on holds each incoming call for five seconds, waiting for the
//! API to transfer it or release it. The relay sees every call first and runs all the time, so it
//! decides right at intake: when the parking leg's incoming `trying` for a parked number has been
//! stored ([`RelayRouter::watch`] before the store, [`RelayRouter::act`] after it), the rules
//! (`call-routing`, the same as the desktop router's) are applied to the relay's own facts
//! ([`facts`]) and the choice is carried out with `transferCall` or `terminateCall` through the
//! integration's `mtt-api` session, which never sends an action again after a timeout. The
//! deadline is measured from the relay's receipt of the leg: a decision or a transfer still
//! pending at it releases the call, so a caller never waits out the window for nothing. Every
//! decision is journalled in the store and added to the stream as a `routing` event for the
//! seats that may see the call (their apps keep it in their own journal for History).
//!
//! The relay also keeps the facts the rules need that outlive the events' retention: each
//! outside number's first call and the workplace that last answered it
//! ([`crate::store::routing`]), and re-applies parking to the team's parked numbers each time its
//! integration connects ([`run`]), as the desktop router did after each sign-in. Desktop apps in
//! team mode never decide.

pub mod facts;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use call_routing::{DEADLINE_RULE, Decision, JournalEntry, RoutingChoice, RoutingOutcome};
use chrono::{DateTime, TimeDelta, Utc};
use mtt_api::{CallEvent, CallState, Callee, Direction, LegRef, Notification, Pbx};
use team_api::{IntegrationState, ROUTING_KIND, RoutingDecisionEvent, TeamRouting};
use tokio_util::sync::CancellationToken;

pub use facts::{Availability, EveryoneAvailable, NoPhonebook, PersonalManagers, PhonebookMatch};

use crate::calls::{CALL_KIND, CallView, number_key};
use crate::error::RelayError;
use crate::integration::Integration;
use crate::store::routing::CallerSeen;
use crate::store::team::SharedTeamStore;
use crate::store::{IncomingNotification, SharedStore};
use facts::RelayFacts;

/// A caller's repeated `trying` for the same parked number within this window is one call (the
/// PBX may announce a parking leg more than once).
const PARKED_CALL_WINDOW: TimeDelta = TimeDelta::seconds(10);

/// How often [`run`] looks at the integration (to re-apply parking when it connects).
const WATCH_EVERY: Duration = Duration::from_secs(2);

/// After routing changed in the store could not be taken up (parking refused), how long [`run`]
/// waits before trying again.
const FOLLOW_RETRY: Duration = Duration::from_secs(60);

/// How often [`run`] forgets callers older than the longest "last operator" window.
const PRUNE_EVERY: Duration = Duration::from_secs(6 * 3600);

/// A parked call to decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedLeg {
    /// The parking leg, which the decision acts on.
    pub leg: LegRef,
    /// Who is calling.
    pub caller_number: Option<String>,
    /// The parked external number called.
    pub external_number: String,
    /// When the relay received the leg.
    pub received_at: DateTime<Utc>,
}

/// What a stored notification means for routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// A parked call to decide (and its caller to note).
    Parked(ParkedLeg, Option<CallerSeen>),
    /// A call from outside to note (its first `trying`, or its answer).
    Caller(CallerSeen),
}

/// The relay's decider.
pub struct RelayRouter {
    team: SharedTeamStore,
    store: SharedStore,
    calls: Arc<CallView>,
    integration: Arc<Integration>,
    managers: RwLock<Arc<dyn PersonalManagers>>,
    availability: RwLock<Arc<dyn Availability>>,
    /// The team's routing as last read or set.
    current: RwLock<Arc<TeamRouting>>,
    /// (caller, external number) → when its parked call was taken up.
    recent: Mutex<HashMap<(String, String), DateTime<Utc>>>,
}

impl std::fmt::Debug for RelayRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayRouter")
            .field("parked", &self.routing().parked)
            .finish_non_exhaustive()
    }
}

fn read<T: ?Sized>(lock: &RwLock<Arc<T>>) -> Arc<T> {
    Arc::clone(
        &lock
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
}

fn write<T: ?Sized>(lock: &RwLock<Arc<T>>, value: Arc<T>) {
    *lock
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = value;
}

impl RelayRouter {
    /// A router over the relay's stores, call view and integration, with no phonebook and
    /// everyone available until [`RelayRouter::use_managers`] and
    /// [`RelayRouter::use_availability`] say otherwise.
    pub fn new(
        team: SharedTeamStore,
        store: SharedStore,
        calls: Arc<CallView>,
        integration: Arc<Integration>,
    ) -> Self {
        Self {
            team,
            store,
            calls,
            integration,
            managers: RwLock::new(Arc::new(NoPhonebook)),
            availability: RwLock::new(Arc::new(EveryoneAvailable)),
            current: RwLock::new(Arc::new(TeamRouting::default())),
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// Reads personal managers from `managers` (the team phonebook).
    pub fn use_managers(&self, managers: Arc<dyn PersonalManagers>) {
        write(&self.managers, managers);
    }

    /// Reads operators' availability from `availability`.
    pub fn use_availability(&self, availability: Arc<dyn Availability>) {
        write(&self.availability, availability);
    }

    /// The team's routing in use.
    pub fn routing(&self) -> Arc<TeamRouting> {
        read(&self.current)
    }

    /// Reads the team's routing from the store (at start).
    pub async fn load(&self) -> Result<(), RelayError> {
        if let Some(stored) = self.team.routing().await? {
            write(&self.current, Arc::new(stored));
        }
        Ok(())
    }

    /// Checks and saves the team's routing and uses it from the next call; parking is applied
    /// to numbers newly parked and removed from numbers no longer parked. Answers what was
    /// saved.
    pub async fn set(&self, mut routing: TeamRouting) -> Result<TeamRouting, RelayError> {
        check(&mut routing)?;
        let before = self.routing();
        routing.settings.parking_applied_at = before.settings.parking_applied_at;
        self.apply_parking(&before, &mut routing).await?;
        self.team.put_routing(routing.clone()).await?;
        write(&self.current, Arc::new(routing.clone()));
        Ok(routing)
    }

    /// Turns parking on for numbers `routing` parks and `before` did not, and off for the
    /// reverse; notes when, if anything was sent.
    async fn apply_parking(
        &self,
        before: &TeamRouting,
        routing: &mut TeamRouting,
    ) -> Result<(), RelayError> {
        let added: Vec<String> = routing
            .parked
            .iter()
            .filter(|n| !before.parked.contains(n))
            .cloned()
            .collect();
        let removed: Vec<String> = before
            .parked
            .iter()
            .filter(|n| !routing.parked.contains(n))
            .cloned()
            .collect();
        if !added.is_empty() || !removed.is_empty() {
            let pbx = self.integration.pbx_for_actions().await?;
            for (numbers, on) in [(&added, true), (&removed, false)] {
                if !numbers.is_empty() {
                    pbx.set_parking(numbers, on)
                        .await
                        .map_err(|source| RelayError::Mtt {
                            what: "setParkingNumbers",
                            source,
                        })?;
                }
            }
            routing.settings.parking_applied_at = Some(Utc::now());
        }
        Ok(())
    }

    /// Takes up parking the PBX has just accepted from an admin (`PUT /team/parking`): the
    /// numbers join (`on`) or leave the team's parked numbers, in the store and for the next
    /// call, so that the PBX and the router agree on what is parked. The rest of the routing is
    /// kept. The same change is made to the stored routing and to the one in use rather than
    /// one copied over the other: routing changed in the store behind the relay and not yet
    /// taken up still differs from the one in use afterwards, and [`run`] takes it up as usual.
    pub async fn parking_changed(&self, numbers: &[String], on: bool) -> Result<(), RelayError> {
        let now = Utc::now();
        let change = |routing: &mut TeamRouting| {
            for number in numbers.iter().map(|n| n.trim()) {
                routing.parked.retain(|parked| parked != number);
                if on {
                    routing.parked.push(number.to_owned());
                }
            }
            routing.parked.sort();
            routing.settings.parking_applied_at = Some(now);
        };
        let mut stored = match self.team.routing().await? {
            Some(stored) => stored,
            None => (*self.routing()).clone(),
        };
        change(&mut stored);
        self.team.put_routing(stored).await?;
        let mut current = (*self.routing()).clone();
        change(&mut current);
        write(&self.current, Arc::new(current));
        Ok(())
    }

    /// Takes up routing changed in the store behind the running relay (`trubka-relay routing
    /// set`): the new rules apply from the next call, and parking follows the parked numbers.
    async fn follow_store(&self) -> Result<(), RelayError> {
        let Some(mut stored) = self.team.routing().await? else {
            return Ok(());
        };
        let before = self.routing();
        if stored == *before {
            return Ok(());
        }
        if stored.parked != before.parked {
            self.apply_parking(&before, &mut stored).await?;
            self.team.put_routing(stored.clone()).await?;
        }
        write(&self.current, Arc::new(stored));
        Ok(())
    }

    /// Applies parking to every parked number again (after the integration connects: the API
    /// cannot read parking back, and the cabinet may have changed). Answers when, or `None`
    /// with nothing parked.
    pub async fn reapply_parking(&self) -> Result<Option<DateTime<Utc>>, RelayError> {
        let mut routing = (*self.routing()).clone();
        if routing.parked.is_empty() {
            return Ok(None);
        }
        let pbx = self.integration.pbx_for_actions().await?;
        pbx.set_parking(&routing.parked, true)
            .await
            .map_err(|source| RelayError::Mtt {
                what: "setParkingNumbers",
                source,
            })?;
        let now = Utc::now();
        routing.settings.parking_applied_at = Some(now);
        self.team.put_routing(routing.clone()).await?;
        write(&self.current, Arc::new(routing));
        Ok(Some(now))
    }

    /// What a notification about to be stored means for routing, read before the store takes
    /// it: a parked call's first `trying`, or a call from outside to note. Cheap for anything
    /// else (the kind is checked first).
    pub fn watch(&self, notification: &IncomingNotification) -> Option<Watched> {
        if notification.kind() != CALL_KIND {
            return None;
        }
        let Ok(Notification::Call(call)) = Notification::parse(notification.body().as_bytes())
        else {
            return None;
        };
        let received_at = Utc::now();
        let seen = self.caller_seen(&call, received_at);
        match self.parked_leg(&call, received_at) {
            Some(parked) => Some(Watched::Parked(parked, seen)),
            None => seen.map(Watched::Caller),
        }
    }

    /// Acts on what [`RelayRouter::watch`] saw, once the notification is stored (and was not a
    /// repeat): decides a parked call and notes its caller, without waiting.
    pub fn act(self: &Arc<Self>, watched: Watched) {
        let (parked, seen) = match watched {
            Watched::Parked(parked, seen) => (Some(parked), seen),
            Watched::Caller(seen) => (None, Some(seen)),
        };
        if let Some(parked) = parked {
            let router = Arc::clone(self);
            tokio::spawn(async move {
                router.decide(parked).await;
            });
        }
        if let Some(seen) = seen {
            let team = Arc::clone(&self.team);
            tokio::spawn(async move {
                if let Err(err) = team.note_caller(seen).await {
                    tracing::warn!(error = %err, "a caller could not be noted for routing");
                }
            });
        }
    }

    /// A call from outside: its first `trying` (the number called before) or its answer by a
    /// workplace (the last operator).
    fn caller_seen(&self, call: &CallEvent, at: DateTime<Utc>) -> Option<CallerSeen> {
        if call.direction != Some(Direction::Incoming) {
            return None;
        }
        let caller = call.caller.as_ref().and_then(|p| p.number())?;
        if self.calls.team_workplace_of(caller).is_some() || mtt_api::SipId::looks_like(caller) {
            return None;
        }
        let number_key = number_key(caller);
        if number_key.is_empty() {
            return None;
        }
        let answered_by = match call.state {
            CallState::Trying => None,
            CallState::Connected => Some(
                call.callee
                    .as_ref()
                    .and_then(|p| p.id.clone().or_else(|| p.account_id.clone()))
                    .filter(|id| mtt_api::SipId::looks_like(id))?,
            ),
            _ => return None,
        };
        let answered_by = answered_by.map(|id| self.calls.team_workplace_of(&id).unwrap_or(id));
        Some(CallerSeen {
            number_key,
            at,
            answered_by,
        })
    }

    /// The parked call an incoming `trying` to a parked number starts, once per call.
    fn parked_leg(&self, call: &CallEvent, received_at: DateTime<Utc>) -> Option<ParkedLeg> {
        if call.state != CallState::Trying || call.direction != Some(Direction::Incoming) {
            return None;
        }
        let external = call.callee.as_ref().and_then(|p| p.number())?;
        if !self.routing().parked.iter().any(|n| n == external) {
            return None;
        }
        let caller_number = call
            .caller
            .as_ref()
            .and_then(|p| p.number())
            .map(str::to_owned);
        {
            let mut recent = self
                .recent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            recent.retain(|_, at| received_at - *at < PARKED_CALL_WINDOW);
            let key = (
                caller_number.clone().unwrap_or_default(),
                external.to_owned(),
            );
            if recent.contains_key(&key) {
                return None;
            }
            recent.insert(key, received_at);
        }
        let (Some(tag), Some(transport)) = (call.tag.clone(), call.transport_id.clone()) else {
            tracing::warn!(leg = %call.leg, "a parked call without tag or transport id cannot be routed");
            return None;
        };
        let leg = LegRef::new(call.leg.as_str(), tag, transport).ok()?;
        Some(ParkedLeg {
            leg,
            caller_number,
            external_number: external.to_owned(),
            received_at,
        })
    }

    fn facts(&self) -> RelayFacts {
        RelayFacts {
            team: Arc::clone(&self.team),
            calls: Arc::clone(&self.calls),
            managers: read(&self.managers),
            availability: read(&self.availability),
        }
    }

    /// Decides a parked call and carries the choice out within the deadline, measured from the
    /// relay's receipt of the leg; journals it and adds it to the stream. Answers the journal
    /// entry.
    pub async fn decide(&self, call: ParkedLeg) -> JournalEntry {
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
        let decided = tokio::time::timeout_at(deadline_at.into(), async {
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
        })
        .await;
        let carried = match decided {
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
        entry
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

/// Checks the team's routing as given (by an admin through the seat API or the command line),
/// naming what is wrong, and puts the parked numbers in order.
pub fn check(routing: &mut TeamRouting) -> Result<(), RelayError> {
    routing.settings.validate().map_err(RelayError::Routing)?;
    routing.time_zone.parse::<chrono_tz::Tz>().map_err(|_| {
        RelayError::Routing(format!(
            "time_zone {:?} is not a time zone name such as Europe/Moscow",
            routing.time_zone
        ))
    })?;
    for number in &routing.parked {
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RelayError::Routing(format!(
                "parked number {number:?} is not an external number (digits only)"
            )));
        }
    }
    routing.parked.sort();
    routing.parked.dedup();
    Ok(())
}

/// Who sees a `routing` event besides supervisors and admins: the operator of the workplace the
/// call was sent to.
pub fn audience_ids(body: &str) -> std::collections::HashSet<String> {
    serde_json::from_str::<RoutingDecisionEvent>(body)
        .ok()
        .and_then(|event| event.entry.target)
        .into_iter()
        .collect()
}

/// Loads the team's routing, then until `shutdown`: re-applies parking each time the
/// integration becomes connected, and forgets callers older than the longest "last operator"
/// window.
pub async fn run(router: Arc<RelayRouter>, shutdown: CancellationToken) {
    if let Err(err) = router.load().await {
        tracing::error!(error = %err, "the team's routing rules could not be read; routing waits for an admin to set them");
    }
    let mut connected = false;
    let mut last_prune: Option<Instant> = None;
    let mut last_follow: Option<Instant> = None;
    loop {
        let now_connected = router.integration.status().integration == IntegrationState::Connected;
        if now_connected && !connected {
            match router.reapply_parking().await {
                Ok(Some(at)) => tracing::info!(%at, "parking applied again"),
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "parking could not be applied again; parked calls may follow the cabinet's routing")
                }
            }
        }
        connected = now_connected;
        if now_connected && last_follow.is_none_or(|at| at.elapsed() >= FOLLOW_RETRY) {
            match router.follow_store().await {
                Ok(()) => last_follow = None,
                Err(err) => {
                    last_follow = Some(Instant::now());
                    tracing::warn!(error = %err, "changed routing could not be taken up; trying again in a minute");
                }
            }
        }
        if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(Instant::now());
            let days = call_routing::last_operator_days(&router.routing().settings).max(1);
            let cutoff = Utc::now() - TimeDelta::days(i64::from(days));
            if let Err(err) = router.team.prune_callers_before(cutoff).await {
                tracing::warn!(error = %err, "old callers could not be forgotten; trying later");
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(WATCH_EVERY) => {}
        }
    }
}

#[cfg(test)]
mod tests;
