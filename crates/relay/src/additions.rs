//! What the relay adds to the team's stream, queued for `team_feed` to store: a type of its own
//! so that the integration (which sends `team` notices) and the feed both use it without
//! depending on each other.

use team_api::{AvailabilityEvent, TeamEvent};
use tokio::sync::mpsc;

use crate::calls::Derived;

/// Something the relay adds to the stream.
#[derive(Debug, Clone)]
pub enum Addition {
    /// From the live-call view.
    Derived(Derived),
    /// About the integration, for admins.
    Team(TeamEvent),
    /// A seat's availability as colleagues see it (`availability`).
    Availability(AvailabilityEvent),
}

/// Queues an addition without waiting (the writer thread must never block).
pub fn offer(additions: &mpsc::Sender<Addition>, addition: Addition) {
    if additions.try_send(addition).is_err() {
        tracing::warn!("the relay's own stream events are behind; one was dropped");
    }
}
