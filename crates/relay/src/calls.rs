//! The relay's view of the team's live calls, built from the call events it receives: which
//! legs are live and whom they touch (what the seat API checks an operator's transfer or hang
//! up against, and where it finds a leg's tag and transport id), each workplace's presence, and
//! the shared callback queue.
//!
//! The view is fed every committed event in id order ([`CallView::observe`]) and answers what
//! changed that the team should hear of ([`Derived`]): a workplace's presence, a callback offered
//! or cleared, the directory gone stale. It is memory only: after a restart it fills again from
//! the events that follow (a call in progress across a restart is unknown to it until its next
//! event).
//!
//! The callback queue: an incoming call from outside (the caller is not a team workplace) whose
//! legs from that caller all end with none connected is offered; it is cleared by a dial from
//! any seat to that number, or by a later connected call with it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use mtt_api::{CallEvent, CallState, Direction, Notification, PbxEvent};
use team_api::{
    CallbackCleared, CallbackOffer, CallbackQueueEvent, DirectoryNumber, DirectoryWorkplace,
    LiveCall, Presence, PresenceEvent, WorkplacePresence,
};

use crate::store::StoredEvent;

/// The kind of the PBX's call events.
pub const CALL_KIND: &str = "callNotifications";
/// The kind of the PBX's directory events.
pub const DIRECTORY_KIND: &str = "vpbxNotifications";

/// A live leg as the relay knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    /// `call.id`.
    pub id: String,
    /// `call.tag`, if an event carried it.
    pub tag: Option<String>,
    /// `transportId`, if an event carried it.
    pub transport_id: Option<String>,
    /// The last state.
    pub state: CallState,
    /// The direction.
    pub direction: Option<Direction>,
    /// The caller's number or id.
    pub caller: Option<String>,
    /// The callee's number or id.
    pub callee: Option<String>,
    /// Every id the leg's events named as caller, callee, account or forwarder.
    pub touches: HashSet<String>,
    /// When the relay first saw it.
    pub since: DateTime<Utc>,
    /// Whether it was ever connected.
    pub answered: bool,
    /// When it was first connected.
    pub answered_at: Option<DateTime<Utc>>,
}

impl Leg {
    /// Whether the leg touches `workplace` (as caller, callee or forwarder).
    pub fn touches(&self, workplace: &str) -> bool {
        self.touches.contains(workplace)
    }
}

/// What an observed event changed that the team hears of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derived {
    /// A workplace's presence changed.
    Presence(PresenceEvent),
    /// The callback queue changed.
    Callback(CallbackQueueEvent),
    /// The PBX said its directory changed: read it again.
    DirectoryChanged,
    /// A leg ended (the wallboard's counters of the day).
    Ended(EndedLeg),
}

/// A leg that ended, by the team workplaces it reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedLeg {
    /// The leg's id.
    pub leg_id: String,
    /// The team workplaces it was connected to.
    pub talked_at: Vec<String>,
    /// The team workplaces it rang or reached.
    pub reached: Vec<String>,
    /// When it was first connected.
    pub answered_at: Option<DateTime<Utc>>,
    /// When it ended (the event's time).
    pub ended_at: DateTime<Utc>,
    /// Whether it came in from outside or from a colleague (a missed call is an incoming one).
    pub incoming: bool,
}

/// The legs from one outside caller while any is live.
#[derive(Debug, Default)]
struct CallerGroup {
    live: usize,
    answered: bool,
    company_number: Option<String>,
    leg_id: String,
}

/// Where one live leg rings and where it is connected, by the ids its events named. A call to
/// the company rings a group on one leg (`showing` at each workplace); one answers (`connected`
/// naming it) and the others get `hiding`, which ends the call there only.
#[derive(Debug, Default)]
struct Parties {
    ringing_at: HashSet<String>,
    talking_at: HashSet<String>,
}

#[derive(Debug, Default)]
struct ViewState {
    legs: HashMap<String, Leg>,
    /// Each live leg's parties (beside `legs`, whose `Leg` is part of the crate's API).
    parties: HashMap<String, Parties>,
    /// The team's workplaces, and the terminals that belong to each.
    workplaces: HashSet<String>,
    terminals: HashMap<String, String>,
    /// Company numbers (the directory's external numbers).
    numbers: HashSet<String>,
    presence: BTreeMap<String, Presence>,
    groups: HashMap<String, CallerGroup>,
    /// The callback queue by number, in the order offered.
    queue: Vec<CallbackOffer>,
}

/// The live-call view.
#[derive(Debug, Default)]
pub struct CallView {
    state: Mutex<ViewState>,
}

fn is_live(state: &CallState) -> bool {
    matches!(
        state,
        CallState::Trying | CallState::Showing | CallState::Connected
    )
}

fn ids_of(event: &CallEvent) -> HashSet<String> {
    let mut ids = HashSet::new();
    for party in [&event.caller, &event.callee].into_iter().flatten() {
        for id in [&party.id, &party.account_id, &party.display_id]
            .into_iter()
            .flatten()
        {
            if !id.trim().is_empty() {
                ids.insert(id.clone());
            }
        }
        ids.extend(party.forwarder_list.iter().cloned());
    }
    if let Some(account) = &event.account_id {
        ids.insert(account.clone());
    }
    ids
}

/// Digits only, for matching a number however it was written.
pub fn number_key(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

impl CallView {
    fn lock(&self) -> MutexGuard<'_, ViewState> {
        // Every change keeps the maps consistent at each step.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a team workplace (a seat's), so that its presence is followed.
    pub fn add_workplace(&self, workplace: &str) {
        let mut state = self.lock();
        if state.workplaces.insert(workplace.to_owned()) {
            state
                .presence
                .entry(workplace.to_owned())
                .or_insert(Presence::Free);
        }
    }

    /// Takes the directory's workplaces, terminals and company numbers.
    pub fn set_directory(
        &self,
        workplaces: &[DirectoryWorkplace],
        terminals: &[(String, String)],
        numbers: &[DirectoryNumber],
    ) {
        let mut state = self.lock();
        for workplace in workplaces {
            state.workplaces.insert(workplace.workplace.clone());
            state
                .presence
                .entry(workplace.workplace.clone())
                .or_insert(Presence::Free);
        }
        state.terminals = terminals.iter().cloned().collect();
        state.numbers = numbers.iter().map(|n| number_key(&n.number)).collect();
    }

    /// A live leg by id.
    pub fn leg(&self, id: &str) -> Option<Leg> {
        self.lock().legs.get(id).cloned()
    }

    /// The team's workplaces where the live leg `id` is connected now, and those where it
    /// rings now (a group call rings several on one leg; one answers, the others hide).
    pub fn leg_parties(&self, id: &str) -> (Vec<String>, Vec<String>) {
        let state = self.lock();
        let Some(parties) = state.parties.get(id) else {
            return (Vec::new(), Vec::new());
        };
        let workplaces = |ids: &HashSet<String>| {
            let mut found: Vec<String> = ids
                .iter()
                .filter_map(|id| team_workplace(&state, id))
                .collect();
            found.sort();
            found.dedup();
            found
        };
        (
            workplaces(&parties.talking_at),
            workplaces(&parties.ringing_at),
        )
    }

    /// The live legs that `workplace` may see (all when `None`), oldest first.
    pub fn live_calls(&self, workplace: Option<&str>) -> Vec<LiveCall> {
        let state = self.lock();
        let mut calls: Vec<LiveCall> = state
            .legs
            .values()
            .filter(|leg| workplace.is_none_or(|w| leg.touches(w)))
            .map(|leg| {
                let mut workplaces: Vec<String> = leg
                    .touches
                    .iter()
                    .filter_map(|id| team_workplace(&state, id))
                    .collect();
                workplaces.sort();
                workplaces.dedup();
                LiveCall {
                    leg_id: leg.id.clone(),
                    state: leg.state.as_wire().to_owned(),
                    direction: leg.direction.as_ref().map(direction_text),
                    caller: leg.caller.clone(),
                    callee: leg.callee.clone(),
                    workplaces,
                    since: leg.since,
                }
            })
            .collect();
        calls.sort_by(|a, b| a.since.cmp(&b.since).then(a.leg_id.cmp(&b.leg_id)));
        calls
    }

    /// The team workplace `id` names (itself, or the workplace of the terminal it is), if the
    /// view knows it.
    pub fn team_workplace_of(&self, id: &str) -> Option<String> {
        team_workplace(&self.lock(), id)
    }

    /// One workplace's presence, if the view knows the workplace.
    pub fn presence_of(&self, workplace: &str) -> Option<Presence> {
        self.lock().presence.get(workplace).copied()
    }

    /// Every known workplace's presence.
    pub fn presence(&self) -> Vec<WorkplacePresence> {
        self.lock()
            .presence
            .iter()
            .map(|(workplace, presence)| WorkplacePresence {
                workplace: workplace.clone(),
                presence: *presence,
            })
            .collect()
    }

    /// The callback queue, oldest first.
    pub fn callbacks(&self) -> Vec<CallbackOffer> {
        self.lock().queue.clone()
    }

    /// A seat dialled `number`: clears it from the queue (the change to announce, if it was
    /// there).
    pub fn dialled(&self, number: &str, seat: i64) -> Option<Derived> {
        clear(&mut self.lock(), number, Some(seat))
    }

    /// Follows committed events; answers what the team should hear of.
    pub fn observe(&self, events: &[StoredEvent]) -> Vec<Derived> {
        let mut derived = Vec::new();
        for event in events {
            match event.kind.as_str() {
                CALL_KIND | DIRECTORY_KIND => {}
                _ => continue,
            }
            let Ok(notification) = Notification::parse(event.body.get().as_bytes()) else {
                continue;
            };
            match notification {
                Notification::Call(call) => {
                    self.apply(&call, event.received_at, &mut derived);
                }
                Notification::Pbx(PbxEvent { .. }) => derived.push(Derived::DirectoryChanged),
                Notification::Unknown(_) => {}
            }
        }
        derived
    }

    fn apply(&self, call: &CallEvent, at: DateTime<Utc>, derived: &mut Vec<Derived>) {
        let mut state = self.lock();
        let id = call.leg.as_str().to_owned();
        let known = state.legs.contains_key(&id);
        // `hiding` ends the call at the workplace it names, not the leg.
        let hiding = call.state == CallState::Hiding;
        let live = is_live(&call.state) || (hiding && known);
        if !live && !known {
            // The end of a leg the view never saw live: nothing to follow.
            return;
        }
        let caller_number = call
            .caller
            .as_ref()
            .and_then(|p| p.number())
            .map(str::to_owned);
        let leg = state.legs.entry(id.clone()).or_insert_with(|| Leg {
            id: id.clone(),
            tag: None,
            transport_id: None,
            state: call.state.clone(),
            direction: None,
            caller: None,
            callee: None,
            touches: HashSet::new(),
            since: at,
            answered: false,
            answered_at: None,
        });
        let first = !known;
        if !hiding {
            leg.state = call.state.clone();
        }
        if call.tag.is_some() {
            leg.tag.clone_from(&call.tag);
        }
        if call.transport_id.is_some() {
            leg.transport_id.clone_from(&call.transport_id);
        }
        if call.direction.is_some() {
            leg.direction.clone_from(&call.direction);
        }
        if let Some(number) = &caller_number {
            leg.caller = Some(number.clone());
        }
        if let Some(number) = call.callee.as_ref().and_then(|p| p.number()) {
            leg.callee = Some(number.to_owned());
        }
        let named = ids_of(call);
        leg.touches.extend(named.iter().cloned());
        leg.answered |= call.state == CallState::Connected;
        if call.state == CallState::Connected && leg.answered_at.is_none() {
            leg.answered_at = Some(at);
        }
        let leg = leg.clone();
        let parties = state.parties.entry(id.clone()).or_default();
        match call.state {
            CallState::Trying | CallState::Showing => parties.ringing_at.extend(named),
            CallState::Connected => parties.talking_at.extend(named),
            CallState::Hiding => {
                for hidden in callee_ids(call) {
                    parties.ringing_at.remove(&hidden);
                    parties.talking_at.remove(&hidden);
                }
            }
            _ => {}
        }
        if !live {
            state.legs.remove(&id);
            let talked = state.parties.remove(&id).unwrap_or_default().talking_at;
            let workplaces = |ids: &mut dyn Iterator<Item = &String>| {
                let mut found: Vec<String> =
                    ids.filter_map(|id| team_workplace(&state, id)).collect();
                found.sort();
                found.dedup();
                found
            };
            let talked_at = workplaces(&mut talked.iter());
            let reached = workplaces(&mut leg.touches.iter());
            if !reached.is_empty() {
                derived.push(Derived::Ended(EndedLeg {
                    leg_id: id.clone(),
                    talked_at,
                    reached,
                    answered_at: leg.answered_at,
                    ended_at: at,
                    incoming: leg.direction == Some(Direction::Incoming),
                }));
            }
        }
        self.follow_caller(&mut state, &leg, first, live, derived);
        for workplace in leg
            .touches
            .iter()
            .filter_map(|id| team_workplace(&state, id))
            .collect::<HashSet<_>>()
        {
            let now = presence_of(&state, &workplace);
            if state.presence.insert(workplace.clone(), now) != Some(now) {
                derived.push(Derived::Presence(PresenceEvent {
                    workplace,
                    presence: now,
                }));
            }
        }
    }

    /// The callback queue's side of a leg's event.
    fn follow_caller(
        &self,
        state: &mut ViewState,
        leg: &Leg,
        first: bool,
        live: bool,
        derived: &mut Vec<Derived>,
    ) {
        let Some(caller) = leg.caller.as_deref() else {
            return;
        };
        let from_outside =
            leg.direction == Some(Direction::Incoming) && team_workplace(state, caller).is_none();
        if leg.answered {
            // Whoever got through (or was called back) is off the queue.
            let other = if from_outside {
                Some(caller)
            } else {
                leg.callee.as_deref()
            };
            if let Some(number) = other
                && let Some(change) = clear(state, number, None)
            {
                derived.push(change);
            }
        }
        if !from_outside {
            return;
        }
        let key = number_key(caller);
        let company_number = leg.callee.clone().filter(|callee| {
            state.numbers.contains(&number_key(callee)) || team_workplace(state, callee).is_none()
        });
        let group = state.groups.entry(key.clone()).or_default();
        if first && live {
            group.live += 1;
            group.leg_id.clone_from(&leg.id);
            if company_number.is_some() {
                group.company_number = company_number;
            }
        }
        group.answered |= leg.answered;
        if live {
            return;
        }
        group.live = group.live.saturating_sub(1);
        if group.live > 0 {
            return;
        }
        let Some(group) = state.groups.remove(&key) else {
            return;
        };
        if group.answered || state.queue.iter().any(|o| number_key(&o.number) == key) {
            return;
        }
        let offer = CallbackOffer {
            number: caller.to_owned(),
            company_number: group.company_number,
            leg_id: group.leg_id,
            missed_at: Utc::now(),
        };
        state.queue.push(offer.clone());
        derived.push(Derived::Callback(CallbackQueueEvent::Offered(offer)));
    }
}

fn clear(state: &mut ViewState, number: &str, seat: Option<i64>) -> Option<Derived> {
    let key = number_key(number);
    if key.is_empty() {
        return None;
    }
    let at = state
        .queue
        .iter()
        .position(|offer| number_key(&offer.number) == key)?;
    let offer = state.queue.remove(at);
    Some(Derived::Callback(CallbackQueueEvent::Cleared(
        CallbackCleared {
            number: offer.number,
            by_seat: seat,
        },
    )))
}

/// The team workplace `id` names: itself, or the workplace of the terminal it is.
fn team_workplace(state: &ViewState, id: &str) -> Option<String> {
    if state.workplaces.contains(id) {
        return Some(id.to_owned());
    }
    state.terminals.get(id).cloned()
}

/// What `workplace` is doing: talking on a live leg connected there, else ringing where a live
/// leg shows there, else free.
fn presence_of(state: &ViewState, workplace: &str) -> Presence {
    let names = |ids: &HashSet<String>| {
        ids.iter()
            .any(|id| team_workplace(state, id).as_deref() == Some(workplace))
    };
    let mut presence = Presence::Free;
    for parties in state.parties.values() {
        if names(&parties.talking_at) {
            return Presence::Talking;
        }
        if names(&parties.ringing_at) {
            presence = Presence::Ringing;
        }
    }
    presence
}

/// The ids an event names as its callee (where a `hiding` ends the call).
fn callee_ids(event: &CallEvent) -> HashSet<String> {
    let mut ids = HashSet::new();
    if let Some(party) = &event.callee {
        for id in [&party.id, &party.account_id, &party.display_id]
            .into_iter()
            .flatten()
        {
            if !id.trim().is_empty() {
                ids.insert(id.clone());
            }
        }
    }
    ids
}

fn direction_text(direction: &Direction) -> String {
    match direction {
        Direction::Incoming => "incoming".into(),
        Direction::Outgoing => "outgoing".into(),
        Direction::Other(other) => other.clone(),
    }
}

#[cfg(test)]
mod tests;
