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

mod decide;
pub mod facts;

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use call_routing::PARKING_WINDOW_MS;
use chrono::{DateTime, TimeDelta, Utc};
use mtt_api::{CallEvent, CallState, Direction, LegRef, Notification};
use team_api::{IntegrationState, RoutingDecisionEvent, TeamRouting};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use facts::{Availability, EveryoneAvailable, NoPhonebook, PersonalManagers, PhonebookMatch};

use crate::calls::{CALL_KIND, CallView, number_key};
use crate::error::RelayError;
use crate::integration::Integration;
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
