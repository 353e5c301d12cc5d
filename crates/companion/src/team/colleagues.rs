//! The Team panel's model: the team's seats as the relay describes them
//! (`GET /team/colleagues`), kept current by the stream's `presence` (per workplace) and
//! `availability` (per seat) events. Pure data: the core loads it and the pipeline feeds it.
//!
//! The relay's answer is the truth when it arrives; events then replace single values, the last
//! one winning (each carries the whole value for its key, so replaying the backlog in order
//! ends where the relay is). Presence is kept per workplace, also for workplaces no seat sits at
//! yet, so a seat that appears later starts with what its workplace is doing.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize as _, Serialize};
use serde_json::Value;
use team_api::{
    AVAILABILITY_KIND, Availability, AvailabilityEvent, Colleagues, PRESENCE_KIND, Presence,
    PresenceEvent,
};

/// A colleague as the Team panel shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamColleague {
    /// The seat's number.
    pub seat: i64,
    /// The seat's name.
    pub name: String,
    /// The workplace (SIP ID): where a call or a transfer to them goes.
    pub workplace: String,
    /// `operator`, `supervisor` or `admin`.
    pub role: String,
    /// What their workplace is doing.
    pub presence: Presence,
    /// Whether they take calls.
    pub availability: Availability,
}

impl TeamColleague {
    /// The presence's wire word (`free`, `ringing`, `talking`).
    pub fn presence_word(&self) -> &'static str {
        match self.presence {
            Presence::Free => "free",
            Presence::Ringing => "ringing",
            Presence::Talking => "talking",
        }
    }

    /// Free and available: the first a transfer should be offered to.
    pub fn is_free(&self) -> bool {
        self.presence == Presence::Free && self.availability == Availability::Available
    }
}

#[derive(Debug, Default)]
struct RosterState {
    loaded: bool,
    seats: BTreeMap<i64, TeamColleague>,
    presence: HashMap<String, Presence>,
}

/// The team's seats, current.
#[derive(Debug, Default)]
pub struct TeamRoster {
    state: Mutex<RosterState>,
}

impl TeamRoster {
    fn lock(&self) -> MutexGuard<'_, RosterState> {
        // Every change is a plain assignment: a panic elsewhere leaves the maps consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the relay's list has been taken since the app started.
    pub fn is_loaded(&self) -> bool {
        self.lock().loaded
    }

    /// Takes the relay's list as the truth.
    pub fn replace(&self, answer: Colleagues) {
        let mut state = self.lock();
        state.loaded = true;
        state.seats.clear();
        for colleague in answer.colleagues {
            state
                .presence
                .insert(colleague.workplace.clone(), colleague.presence);
            state.seats.insert(
                colleague.seat,
                TeamColleague {
                    seat: colleague.seat,
                    name: colleague.name,
                    workplace: colleague.workplace,
                    role: colleague.role.as_str().to_owned(),
                    presence: colleague.presence,
                    availability: colleague.availability,
                },
            );
        }
    }

    /// The seats, in seat number order.
    pub fn colleagues(&self) -> Vec<TeamColleague> {
        self.lock().seats.values().cloned().collect()
    }

    /// One seat.
    pub fn colleague(&self, seat: i64) -> Option<TeamColleague> {
        self.lock().seats.get(&seat).cloned()
    }

    /// Sets a seat's availability as the relay answered it; the changed colleague, if known.
    pub fn set_availability(&self, seat: i64, availability: Availability) -> Option<TeamColleague> {
        let mut state = self.lock();
        let colleague = state.seats.get_mut(&seat)?;
        colleague.availability = availability;
        Some(colleague.clone())
    }

    /// Follows a stream event: `None` when `kind` is not the roster's; else the colleagues it
    /// changed (none when it changed nothing, or its body is not what the kind promises).
    pub fn follow(&self, kind: &str, body: &Value) -> Option<Vec<TeamColleague>> {
        match kind {
            PRESENCE_KIND => {
                let Ok(event) = PresenceEvent::deserialize(body) else {
                    return Some(Vec::new());
                };
                let mut state = self.lock();
                state
                    .presence
                    .insert(event.workplace.clone(), event.presence);
                Some(
                    state
                        .seats
                        .values_mut()
                        .filter(|c| c.workplace == event.workplace && c.presence != event.presence)
                        .map(|c| {
                            c.presence = event.presence;
                            c.clone()
                        })
                        .collect(),
                )
            }
            AVAILABILITY_KIND => {
                let Ok(event) = AvailabilityEvent::deserialize(body) else {
                    return Some(Vec::new());
                };
                let mut state = self.lock();
                let presence = state.presence.get(&event.workplace).copied();
                let Some(colleague) = state.seats.get_mut(&event.seat) else {
                    // A seat made after the list was read: it shows at the next reload.
                    return Some(Vec::new());
                };
                colleague.workplace = event.workplace;
                if let Some(presence) = presence {
                    colleague.presence = presence;
                }
                if colleague.availability == event.availability {
                    return Some(Vec::new());
                }
                colleague.availability = event.availability;
                Some(vec![colleague.clone()])
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
