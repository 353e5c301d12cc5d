//! What one seat may hold of the seat API: a few requests in flight and a rate, so that one
//! seat (or a stolen credential) cannot tie up the relay or flood the PBX.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::rate::RateLimit;

/// Requests one seat may have in flight at once.
pub const SEAT_IN_FLIGHT: usize = 4;
/// Requests one seat may make a minute (a burst of as many).
pub const SEAT_PER_MINUTE: u32 = 120;

/// Why a seat's request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// [`SEAT_IN_FLIGHT`] requests are already in flight.
    InFlight,
    /// Over [`SEAT_PER_MINUTE`]: ask again after this long.
    Rate(Duration),
}

#[derive(Debug, Default)]
struct SeatUse {
    in_flight: HashMap<i64, usize>,
    rates: HashMap<i64, Arc<RateLimit>>,
}

/// Every seat's use.
#[derive(Debug, Default)]
pub struct SeatLimits {
    seats: Arc<Mutex<SeatUse>>,
}

/// A request in flight; dropping it frees its place.
#[derive(Debug)]
pub struct SeatPermit {
    seat: i64,
    seats: Arc<Mutex<SeatUse>>,
}

fn lock(seats: &Mutex<SeatUse>) -> MutexGuard<'_, SeatUse> {
    seats
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SeatLimits {
    /// Admits one request of `seat`, or says why not.
    pub fn admit(&self, seat: i64) -> Result<SeatPermit, Limited> {
        let mut seats = lock(&self.seats);
        let rate = Arc::clone(
            seats
                .rates
                .entry(seat)
                .or_insert_with(|| Arc::new(RateLimit::per_minute(SEAT_PER_MINUTE))),
        );
        let in_flight = seats.in_flight.entry(seat).or_insert(0);
        if *in_flight >= SEAT_IN_FLIGHT {
            return Err(Limited::InFlight);
        }
        rate.take().map_err(Limited::Rate)?;
        *in_flight += 1;
        Ok(SeatPermit {
            seat,
            seats: Arc::clone(&self.seats),
        })
    }
}

impl Drop for SeatPermit {
    fn drop(&mut self) {
        let mut seats = lock(&self.seats);
        if let Some(count) = seats.in_flight.get_mut(&self.seat) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                seats.in_flight.remove(&self.seat);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seat_holds_a_few_requests_at_once_and_the_others_are_unaffected() {
        let limits = SeatLimits::default();
        let held: Vec<_> = (0..SEAT_IN_FLIGHT)
            .map(|_| limits.admit(1).unwrap())
            .collect();
        assert_eq!(limits.admit(1).unwrap_err(), Limited::InFlight);
        assert!(limits.admit(2).is_ok());
        drop(held);
        assert!(limits.admit(1).is_ok());
    }
}
