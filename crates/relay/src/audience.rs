//! Who may see an event on the stream: decided per subscriber at the fan-out, and the same way
//! for the backlog replayed on a resume, so that live and replayed streams of one seat carry
//! exactly the same events.
//!
//! Operators see the call events of their own workplace, directory changes, presence,
//! availability, the callback queue, phonebook changes and the routing decisions that sent a call
//! to them, never a colleague's `wrapup` (they read the team's notes one number at a time, in
//! the popup of that number's call); supervisors and admins see everything except `team`
//! events, which are for admins; a
//! personal-mode client key sees everything (which is why team mode refuses client keys unless
//! allowed).
//!
//! A call event is decided per leg, not per notification: an operator gets an event of a leg
//! when that event, or any earlier event of the same leg, names their workplace (caller,
//! callee, account or forwarder). The end of an incoming call that rang the team's group and
//! was given up names only the company number; without this the operator's app would ring on.
//! [`LegAudiences`] remembers, for each leg, every id its events named and the first event that
//! named it, so that "earlier" is exact for the live fan-out and for a backlog read later
//! alike (a later event naming a workplace never opens the leg's earlier events to it). It is
//! memory only and bounded ([`LEGS_REMEMBERED`]); a starting relay recalls it from the newest
//! stored events ([`EVENTS_RECALLED`]) before it serves, so a call in progress across a restart
//! still reaches the operator it rang. A leg forgotten since (far older than any call lasts) is
//! decided by each event's own names.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use mtt_api::Notification;
use serde_json::value::RawValue;
use team_api::{
    AVAILABILITY_KIND, CALLBACK_QUEUE_KIND, PHONEBOOK_KIND, PRESENCE_KIND, ROUTING_KIND, Role,
    TEAM_KIND, WRAPUP_KIND,
};

use crate::calls::{CALL_KIND, DIRECTORY_KIND};
use crate::error::RelayError;
use crate::store::{EventId, EventStore, StoredEvent};

/// How many legs [`LegAudiences`] remembers; past it the legs whose last event is oldest are
/// forgotten (a quarter at a time, so forgetting costs little per event).
pub const LEGS_REMEMBERED: usize = 50_000;
/// How many of the newest stored events a starting relay reads to remember the legs' audiences.
pub const EVENTS_RECALLED: i64 = 20_000;
/// How many events one read of the recall fetches.
const RECALL_PAGE: usize = 1_000;

/// Who is reading a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// A client key (personal mode): everything.
    Everything,
    /// A seat.
    Seat {
        /// Its role.
        role: Role,
        /// Its workplace.
        workplace: String,
    },
}

/// Whom an event is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every seat.
    All,
    /// A call event: operators of these ids' workplaces, supervisors and admins.
    Call(HashSet<String>),
    /// Supervisors and admins.
    Privileged,
    /// Admins.
    Admins,
}

impl Audience {
    /// The audience of an event of `kind` with `body`.
    pub fn of(kind: &str, body: &RawValue) -> Self {
        match kind {
            DIRECTORY_KIND | PRESENCE_KIND | AVAILABILITY_KIND | CALLBACK_QUEUE_KIND
            | PHONEBOOK_KIND => Audience::All,
            TEAM_KIND => Audience::Admins,
            // Said here, not left to the default: a colleague's notes never go to operators.
            WRAPUP_KIND => Audience::Privileged,
            ROUTING_KIND => Audience::Call(crate::routing::audience_ids(body.get())),
            CALL_KIND => match call_parties(body) {
                Some((_, ids)) => Audience::Call(ids),
                None => Audience::Privileged,
            },
            _ => Audience::Privileged,
        }
    }
}

impl Viewer {
    /// Whether this viewer sees an event for `audience`.
    pub fn sees(&self, audience: &Audience) -> bool {
        let Viewer::Seat { role, workplace } = self else {
            return true;
        };
        match (audience, role) {
            (Audience::All, _) | (_, Role::Admin) => true,
            (Audience::Admins, _) => false,
            (_, Role::Supervisor) => true,
            (Audience::Privileged, Role::Operator) => false,
            (Audience::Call(ids), Role::Operator) => ids.contains(workplace),
        }
    }
}

/// A call event's leg id and every id it names as caller, callee, account or forwarder.
fn call_parties(body: &RawValue) -> Option<(String, HashSet<String>)> {
    let Ok(Notification::Call(call)) = Notification::parse(body.get().as_bytes()) else {
        return None;
    };
    let mut ids = HashSet::new();
    for party in [&call.caller, &call.callee].into_iter().flatten() {
        ids.extend(party.id.iter().cloned());
        ids.extend(party.account_id.iter().cloned());
        ids.extend(party.forwarder_list.iter().cloned());
    }
    ids.extend(call.account_id.iter().cloned());
    Some((call.leg.as_str().to_owned(), ids))
}

/// What one leg's events named.
#[derive(Debug)]
struct LegNames {
    /// Each id named, with the first event that named it.
    named: HashMap<String, EventId>,
    /// The leg's newest event (what forgetting goes by).
    last: EventId,
}

/// The ids each leg's events named, for deciding a call event's audience per leg (see the
/// module's explanation).
#[derive(Debug, Default)]
pub struct LegAudiences {
    legs: Mutex<HashMap<String, LegNames>>,
}

impl LegAudiences {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, LegNames>> {
        // Every change leaves the map consistent.
        self.legs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes in stored events, in any order and any number of times, and answers whom each is
    /// for (as [`Self::audience`] would, without reading the events again): what the live
    /// fan-out sends by.
    pub fn observe(&self, events: &[StoredEvent]) -> Vec<Audience> {
        let parsed: Vec<Option<(String, HashSet<String>)>> = events
            .iter()
            .map(|event| {
                (event.kind == CALL_KIND)
                    .then(|| call_parties(&event.body))
                    .flatten()
            })
            .collect();
        let mut legs = self.lock();
        let audiences = events
            .iter()
            .zip(parsed)
            .map(|(event, call)| {
                let Some((leg, ids)) = call else {
                    return if event.kind == CALL_KIND {
                        Audience::Privileged
                    } else {
                        Audience::of(&event.kind, &event.body)
                    };
                };
                let names = legs.entry(leg).or_insert_with(|| LegNames {
                    named: HashMap::new(),
                    last: event.id,
                });
                names.last = names.last.max(event.id);
                for name in ids {
                    let first = names.named.entry(name).or_insert(event.id);
                    *first = (*first).min(event.id);
                }
                Audience::Call(named_by(names, event.id))
            })
            .collect();
        if legs.len() > LEGS_REMEMBERED {
            forget_oldest(&mut legs);
        }
        audiences
    }

    /// Whom `event` is for: as [`Audience::of`], and for a call event also every id that an
    /// earlier event of its leg named.
    pub fn audience(&self, event: &StoredEvent) -> Audience {
        if event.kind != CALL_KIND {
            return Audience::of(&event.kind, &event.body);
        }
        let Some((leg, mut ids)) = call_parties(&event.body) else {
            return Audience::Privileged;
        };
        if let Some(names) = self.lock().get(&leg) {
            ids.extend(named_by(names, event.id));
        }
        Audience::Call(ids)
    }

    /// Reads the newest [`EVENTS_RECALLED`] stored events into memory (at start, before the
    /// relay serves); answers how many were read.
    pub async fn recall(&self, store: &dyn EventStore) -> Result<usize, RelayError> {
        let newest = store.horizon().await?.last_id;
        let mut after = EventId((newest.0 - EVENTS_RECALLED).max(0));
        let mut read = 0;
        loop {
            let page = store.events_after(after, RECALL_PAGE).await?;
            let Some(last) = page.last_id() else {
                return Ok(read);
            };
            read += page.events.len();
            let _ = self.observe(&page.events);
            after = last;
        }
    }
}

/// The ids a leg's events named up to event `id`.
fn named_by(names: &LegNames, id: EventId) -> HashSet<String> {
    names
        .named
        .iter()
        .filter(|(_, first)| **first <= id)
        .map(|(name, _)| name.clone())
        .collect()
}

/// Forgets the quarter of the legs whose newest event is oldest.
fn forget_oldest(legs: &mut HashMap<String, LegNames>) {
    let mut ages: Vec<EventId> = legs.values().map(|names| names.last).collect();
    let keep = LEGS_REMEMBERED - LEGS_REMEMBERED / 4;
    let cut = ages.len().saturating_sub(keep);
    if cut == 0 {
        return;
    }
    let (_, oldest_kept, _) = ages.select_nth_unstable(cut);
    let oldest_kept = *oldest_kept;
    legs.retain(|_, names| names.last >= oldest_kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn seat(role: Role) -> Viewer {
        Viewer::Seat {
            role,
            workplace: "883140000000001".into(),
        }
    }

    fn call(callee: &str) -> Box<RawValue> {
        raw(&format!(
            r#"{{"event":"callNotifications","result":{{"callInfo":{{"state":"connected","call":{{"id":"leg-1","tag":"t"}},"caller":{{"id":"79001234567"}},"callee":{{"id":"{callee}"}}}}}}}}"#
        ))
    }

    #[test]
    fn operators_see_their_own_calls_and_the_shared_kinds_only() {
        let mine = Audience::of(CALL_KIND, &call("883140000000001"));
        let theirs = Audience::of(CALL_KIND, &call("883140000000002"));
        let operator = seat(Role::Operator);
        assert!(operator.sees(&mine));
        assert!(!operator.sees(&theirs));
        assert!(seat(Role::Supervisor).sees(&theirs));
        assert!(operator.sees(&Audience::of(PRESENCE_KIND, &raw("{}"))));
        assert!(operator.sees(&Audience::of(AVAILABILITY_KIND, &raw("{}"))));
        assert!(operator.sees(&Audience::of(DIRECTORY_KIND, &raw("{}"))));
        assert!(!operator.sees(&Audience::of("unknown", &raw("{}"))));
        let wrapup = Audience::of(WRAPUP_KIND, &raw("{}"));
        assert!(!operator.sees(&wrapup));
        assert!(seat(Role::Supervisor).sees(&wrapup));
        assert!(seat(Role::Admin).sees(&wrapup));
        let team = Audience::of(TEAM_KIND, &raw("{}"));
        assert!(!operator.sees(&team));
        assert!(!seat(Role::Supervisor).sees(&team));
        assert!(seat(Role::Admin).sees(&team));
        assert!(Viewer::Everything.sees(&team));
    }

    fn stored(id: i64, leg: &str, callee: &str) -> StoredEvent {
        StoredEvent {
            epoch: crate::store::Epoch::from_stored(1),
            id: EventId(id),
            received_at: chrono::Utc::now(),
            kind: CALL_KIND.into(),
            body: raw(&format!(
                r#"{{"event":"callNotifications","result":{{"callInfo":{{"state":"showing","call":{{"id":"{leg}","tag":"t"}},"caller":{{"id":"79001234567"}},"callee":{{"id":"{callee}"}}}}}}}}"#
            )),
        }
    }

    #[test]
    fn a_leg_that_named_a_workplace_once_is_that_operators_from_then_on_and_not_before() {
        let operator = seat(Role::Operator);
        let events = [
            stored(1, "leg-1", "74951234567"),
            stored(2, "leg-1", "883140000000001"),
            stored(3, "leg-1", "74951234567"),
            stored(4, "leg-2", "74951234567"),
        ];
        // Any order, any repetition: the same decisions.
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]] {
            let legs = LegAudiences::default();
            for at in order {
                legs.observe(std::slice::from_ref(&events[at]));
                legs.observe(std::slice::from_ref(&events[at]));
            }
            let seen: Vec<bool> = events
                .iter()
                .map(|event| operator.sees(&legs.audience(event)))
                .collect();
            assert_eq!(seen, [false, true, true, false], "{order:?}");
        }
        // What the fan-out sends by is what a backlog is read by.
        let legs = LegAudiences::default();
        let live = legs.observe(&events);
        let replayed: Vec<Audience> = events.iter().map(|e| legs.audience(e)).collect();
        assert_eq!(live, replayed);
    }

    #[test]
    fn the_legs_whose_last_event_is_oldest_are_forgotten_past_the_limit() {
        let legs = LegAudiences::default();
        let operator = seat(Role::Operator);
        legs.observe(&[stored(1, "old", "883140000000001")]);
        let end = stored(2, "old", "74951234567");
        legs.observe(std::slice::from_ref(&end));
        assert!(operator.sees(&legs.audience(&end)));
        let newer: Vec<StoredEvent> = (0..LEGS_REMEMBERED)
            .map(|n| stored(10 + n as i64, &format!("leg-{n}"), "74951234567"))
            .collect();
        legs.observe(&newer);
        assert!(legs.lock().len() <= LEGS_REMEMBERED);
        assert!(!operator.sees(&legs.audience(&end)), "forgotten");
        let newest = format!("leg-{}", LEGS_REMEMBERED - 1);
        assert!(legs.lock().contains_key(&newest));
    }
}
