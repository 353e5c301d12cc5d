//! Routing on the relay: in team mode the relay is the one decider of parked calls.
//!
//! An external number with parking on holds each incoming call for five seconds, waiting for the
//! API to transfer it or release it. The relay sees every call first and runs all the time, so it
//! decides as soon as the parking leg's incoming `trying` for a parked number is committed: the
//! store announces it to every instance ([`crate::team_feed::TeamSink`] hands it to
//! [`take_up_parked`]), each asks the store for the call's claim, and the one granted it
//! ([`crate::store::claims`]: a lease, taken over when its holder stops, fenced before anything
//! is sent) applies the rules (`call-routing`, the same as the desktop router's) to the relay's
//! own facts ([`facts`]) and carries the choice out with `transferCall` or `terminateCall`
//! through the integration's `mtt-api` session, which never sends an action again after a
//! timeout. The deadline is measured from the relay's receipt of the leg (its stored time): a
//! decision or a transfer still pending at it releases the call, so a caller never waits out
//! the window for nothing. Every decision is journalled in the store and added to the stream as
//! a `routing` event for the seats that may see the call (their apps keep it in their own
//! journal for History).
//!
//! The relay also keeps the facts the rules need that outlive the events' retention: each
//! outside number's first call and the workplace that last answered it
//! ([`crate::store::routing`]), and re-applies parking to the team's parked numbers each time its
//! integration connects ([`run`]), as the desktop router did after each sign-in. Desktop apps in
//! team mode never decide.

pub mod facts;

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use call_routing::{
    DEADLINE_RULE, Decision, JournalEntry, PARKING_WINDOW_MS, RoutingChoice, RoutingOutcome,
};
use chrono::{DateTime, TimeDelta, Utc};
use mtt_api::{CallEvent, CallState, Callee, Direction, LegRef, Notification, Pbx};
use team_api::{IntegrationState, ROUTING_KIND, RoutingDecisionEvent, TeamRouting};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use facts::{Availability, EveryoneAvailable, NoPhonebook, PersonalManagers, PhonebookMatch};

use crate::calls::{CALL_KIND, CallView, number_key};
use crate::error::RelayError;
use crate::integration::Integration;
use crate::store::claims::{ClaimAnswer, ParkedCallClaim};
use crate::store::routing::CallerSeen;
use crate::store::team::SharedTeamStore;
use crate::store::{IncomingNotification, SharedStore, StoredEvent};
use facts::RelayFacts;

/// How many committed call events may wait for [`take_up_parked`]; past it they are dropped
/// with a log line (a parked call among them is then left to another instance, or to the
/// cabinet's routing).
pub const PARKED_QUEUE: usize = 4096;

/// The longest lease on a parked call's claim: a decision takes milliseconds, and a stalled
/// holder must leave most of the deadline to the instance taking over.
const LONGEST_LEASE: Duration = Duration::from_secs(1);
/// The shortest lease, for the shortest deadlines.
const SHORTEST_LEASE: Duration = Duration::from_millis(50);
/// How long after another holder's lease ends an instance asks again (so that the holder's own
/// last moment to act has passed in the database too).
const LEASE_MARGIN: Duration = Duration::from_millis(20);
/// How long to wait before asking for a claim again after the store failed.
const CLAIM_RETRY: Duration = Duration::from_millis(100);

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

/// A claim granted to this instance: its token fences what it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimed {
    /// The granted ask's token.
    pub token: i64,
    /// Whether another instance held the call first and stopped.
    pub taken_over: bool,
    /// The lease, renewed while deciding.
    pub lease: Duration,
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
    /// Who this instance is in the claims it holds (host and process).
    holder: String,
    /// The committed call events, until [`run`] takes them.
    parked: Mutex<Option<mpsc::Receiver<StoredEvent>>>,
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
    /// [`RelayRouter::use_availability`] say otherwise; `parked` brings the committed call
    /// events (from the store's sink) to [`run`].
    pub fn new(
        team: SharedTeamStore,
        store: SharedStore,
        calls: Arc<CallView>,
        integration: Arc<Integration>,
        parked: mpsc::Receiver<StoredEvent>,
    ) -> Self {
        Self {
            team,
            store,
            calls,
            integration,
            managers: RwLock::new(Arc::new(NoPhonebook)),
            availability: RwLock::new(Arc::new(EveryoneAvailable)),
            current: RwLock::new(Arc::new(TeamRouting::default())),
            holder: format!(
                "{} pid {}",
                gethostname::gethostname().to_string_lossy(),
                std::process::id()
            ),
            parked: Mutex::new(Some(parked)),
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

    /// The call from outside a notification about to be stored tells of, read before the store
    /// takes it: its first `trying`, or its answer. Cheap for anything else (the kind is checked
    /// first). Parked calls are taken up from the store's announcements instead
    /// ([`take_up_parked`]), on every instance.
    pub fn watch(&self, notification: &IncomingNotification) -> Option<CallerSeen> {
        if notification.kind() != CALL_KIND {
            return None;
        }
        let Ok(Notification::Call(call)) = Notification::parse(notification.body().as_bytes())
        else {
            return None;
        };
        self.caller_seen(&call, Utc::now())
    }

    /// Notes the caller [`RelayRouter::watch`] saw, once the notification is stored (and was
    /// not a repeat), without waiting.
    pub fn act(&self, seen: CallerSeen) {
        let team = Arc::clone(&self.team);
        tokio::spawn(async move {
            if let Err(err) = team.note_caller(seen).await {
                tracing::warn!(error = %err, "a caller could not be noted for routing");
            }
        });
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

    /// The parked call a committed incoming `trying` to a parked number starts, unless the
    /// PBX's window for it has passed (an old event read again after a restart). Repeats of
    /// one call are told apart by the claims ([`crate::store::claims`]), the same on every
    /// instance.
    pub fn parked_leg(&self, event: &StoredEvent) -> Option<ParkedLeg> {
        if event.kind != CALL_KIND {
            return None;
        }
        let window = TimeDelta::milliseconds(i64::try_from(PARKING_WINDOW_MS).ok()?);
        if Utc::now() - event.received_at >= window {
            return None;
        }
        let Ok(Notification::Call(call)) = Notification::parse(event.body.get().as_bytes()) else {
            return None;
        };
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
        let received_at = event.received_at;
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

/// Takes up every parked call among the committed call events, each on a task of its own,
/// until `shutdown`.
pub async fn take_up_parked(
    router: Arc<RelayRouter>,
    mut events: mpsc::Receiver<StoredEvent>,
    shutdown: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            () = shutdown.cancelled() => return,
            event = events.recv() => match event {
                Some(event) => event,
                None => return,
            },
        };
        if let Some(call) = router.parked_leg(&event) {
            let router = Arc::clone(&router);
            tokio::spawn(async move {
                router.take_up(call).await;
            });
        }
    }
}

/// Loads the team's routing, then until `shutdown`: takes up parked calls
/// ([`take_up_parked`]), re-applies parking each time the integration becomes connected, and
/// forgets callers older than the longest "last operator" window (and old claims).
pub async fn run(router: Arc<RelayRouter>, shutdown: CancellationToken) {
    if let Err(err) = router.load().await {
        tracing::error!(error = %err, "the team's routing rules could not be read; routing waits for an admin to set them");
    }
    let parked = router
        .parked
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(parked) = parked {
        tokio::spawn(take_up_parked(
            Arc::clone(&router),
            parked,
            shutdown.clone(),
        ));
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
            if let Err(err) = router
                .team
                .prune_claims_before(Utc::now() - TimeDelta::days(1))
                .await
            {
                tracing::warn!(error = %err, "old parked-call claims could not be forgotten; trying later");
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
