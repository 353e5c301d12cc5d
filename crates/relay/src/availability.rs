//! Each seat's availability: what its operator set (Available, Break, Away), and Offline while
//! no app of the seat holds a stream open. A stream of a seat holds an [`Online`] for as long
//! as it lasts; when the seat's last one ends, colleagues see Offline, and when one opens
//! again they see what the operator had set. Every change colleagues would see is queued for
//! `team_feed` as an `availability` event, stored and streamed to every seat like presence.
//!
//! The set value survives a relay restart: it is a plain team fact (`availability.seat.<n>`),
//! written before the change is announced, so an operator on a break is not offered calls
//! because the relay restarted. Which streams are open is memory only: after a restart every
//! seat is Offline until its app reconnects (which the app does by itself).
//!
//! The router's question ("does the operator of this workplace take calls?") is
//! [`SeatAvailability::is_available`], a lookup in memory under one short lock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use team_api::{Availability, AvailabilityAnswer, AvailabilityEvent};
use tokio::sync::mpsc;

use crate::additions::{Addition, offer};
use crate::error::RelayError;
use crate::store::team::{SeatRecord, SharedTeamStore};

/// The team fact holding seat `seat`'s set availability.
pub fn fact_name(seat: i64) -> String {
    format!("availability.seat.{seat}")
}

/// What the relay knows of one seat.
#[derive(Debug, Clone)]
struct SeatEntry {
    workplace: String,
    /// What the operator set.
    set: Availability,
    /// Streams of the seat open now.
    online: usize,
}

impl SeatEntry {
    /// What colleagues see.
    fn seen(&self) -> Availability {
        if self.online == 0 {
            Availability::Offline
        } else {
            self.set
        }
    }
}

/// The seats' availability.
#[derive(Debug)]
pub struct SeatAvailability {
    seats: Mutex<HashMap<i64, SeatEntry>>,
    additions: mpsc::Sender<Addition>,
}

/// A seat's stream is open while this lives.
#[derive(Debug)]
pub struct Online {
    board: Arc<SeatAvailability>,
    seat: i64,
}

impl Drop for Online {
    fn drop(&mut self) {
        self.board.went_offline(self.seat);
    }
}

/// The set availability kept for `seat` (Available when none was ever set or it cannot be read
/// as one).
async fn stored(team: &SharedTeamStore, seat: i64) -> Result<Availability, RelayError> {
    Ok(team
        .fact(fact_name(seat))
        .await?
        .as_deref()
        .and_then(Availability::parse)
        .filter(|set| set.is_settable())
        .unwrap_or(Availability::Available))
}

impl SeatAvailability {
    /// An empty board announcing its changes to `additions`.
    pub fn new(additions: mpsc::Sender<Addition>) -> Self {
        Self {
            seats: Mutex::new(HashMap::new()),
            additions,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<i64, SeatEntry>> {
        // Each change is one assignment: a panic elsewhere leaves the map consistent.
        self.seats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn announce(&self, seat: i64, entry: &SeatEntry) {
        offer(
            &self.additions,
            Addition::Availability(AvailabilityEvent {
                seat,
                workplace: entry.workplace.clone(),
                availability: entry.seen(),
            }),
        );
    }

    /// Learns every active seat and what it set, from the store (at start: until then a seat
    /// that never connected would be unknown to the router).
    pub async fn learn(&self, team: &SharedTeamStore) -> Result<(), RelayError> {
        for seat in team.seats().await? {
            if seat.revoked_at.is_some() {
                continue;
            }
            let set = stored(team, seat.profile.id).await?;
            self.lock()
                .entry(seat.profile.id)
                .or_insert_with(|| SeatEntry {
                    workplace: seat.profile.workplace.clone(),
                    set,
                    online: 0,
                });
        }
        Ok(())
    }

    /// A stream of seat `seat` at `workplace` opened; it is online until the guard is dropped.
    pub async fn online(
        self: &Arc<Self>,
        team: &SharedTeamStore,
        seat: i64,
        workplace: &str,
    ) -> Online {
        let known = self.lock().contains_key(&seat);
        let set = if known {
            Availability::Available
        } else {
            stored(team, seat).await.unwrap_or_else(|err| {
                tracing::warn!(error = %err, seat, "a seat's availability could not be read; taken as available");
                Availability::Available
            })
        };
        {
            let mut seats = self.lock();
            let entry = seats.entry(seat).or_insert_with(|| SeatEntry {
                workplace: workplace.to_owned(),
                set,
                online: 0,
            });
            let before = entry.seen();
            entry.online += 1;
            workplace.clone_into(&mut entry.workplace);
            if entry.seen() != before {
                self.announce(seat, entry);
            }
        }
        Online {
            board: Arc::clone(self),
            seat,
        }
    }

    fn went_offline(&self, seat: i64) {
        let mut seats = self.lock();
        let Some(entry) = seats.get_mut(&seat) else {
            return;
        };
        entry.online = entry.online.saturating_sub(1);
        if entry.online == 0 {
            self.announce(seat, entry);
        }
    }

    /// Sets seat `seat`'s availability (kept in the store first) and announces what
    /// colleagues now see. Offline is not settable.
    pub async fn set(
        &self,
        team: &SharedTeamStore,
        seat: i64,
        workplace: &str,
        set: Availability,
    ) -> Result<AvailabilityAnswer, RelayError> {
        if !set.is_settable() {
            return Err(RelayError::TeamInput {
                field: "availability",
                reason: "offline is what colleagues see while the app is away; it cannot be set"
                    .into(),
            });
        }
        team.put_fact(fact_name(seat), set.as_str().to_owned())
            .await?;
        let mut seats = self.lock();
        let entry = seats.entry(seat).or_insert_with(|| SeatEntry {
            workplace: workplace.to_owned(),
            set,
            online: 0,
        });
        let before = entry.seen();
        entry.set = set;
        workplace.clone_into(&mut entry.workplace);
        if entry.seen() != before {
            self.announce(seat, entry);
        }
        Ok(AvailabilityAnswer {
            seat,
            set,
            availability: entry.seen(),
        })
    }

    /// Follows the team's seats after a change (`seats` as the store now has them): a revoked
    /// seat is forgotten — it no longer speaks for its workplace, which the router would
    /// otherwise pass over as Offline until a restart — and a seat's workplace follows an edit.
    pub fn follow_seats(&self, seats: &[SeatRecord]) {
        let active: HashMap<i64, &str> = seats
            .iter()
            .filter(|seat| seat.revoked_at.is_none())
            .map(|seat| (seat.profile.id, seat.profile.workplace.as_str()))
            .collect();
        let mut board = self.lock();
        board.retain(|seat, entry| match active.get(seat) {
            Some(workplace) => {
                if entry.workplace != *workplace {
                    (*workplace).clone_into(&mut entry.workplace);
                }
                true
            }
            None => false,
        });
    }

    /// What colleagues see of seat `seat` (Offline for a seat the relay does not know).
    pub fn availability(&self, seat: i64) -> Availability {
        self.lock()
            .get(&seat)
            .map_or(Availability::Offline, SeatEntry::seen)
    }

    /// Whether the operator of `workplace` takes calls: some seat of it is connected and set
    /// Available. A workplace no seat sits at is available (no operator app says otherwise;
    /// the PBX rings its phone as it would without a team).
    pub fn is_available(&self, workplace: &str) -> bool {
        let seats = self.lock();
        let mut at_workplace = seats.values().filter(|e| e.workplace == workplace);
        let Some(first) = at_workplace.next() else {
            return true;
        };
        first.seen() == Availability::Available
            || at_workplace.any(|e| e.seen() == Availability::Available)
    }
}

/// The router passes an unavailable operator's rule to the next one.
impl crate::routing::Availability for SeatAvailability {
    fn is_available(&self, workplace: &str) -> bool {
        SeatAvailability::is_available(self, workplace)
    }
}

#[cfg(test)]
mod tests;
