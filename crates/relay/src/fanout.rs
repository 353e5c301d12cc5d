//! Live fan-out of committed events to stream clients.
//!
//! The store's writer calls [`Fanout::committed`] after each commit, in id order. Each client
//! has its own bounded queue; an event is offered to every queue with `try_send`, so a slow
//! client can never block intake or the other clients. A client whose queue is full is removed
//! and its connection cut off; it reconnects with `Last-Event-ID` and catches up from the store.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::response::sse::Event;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use crate::audience::{Audience, LegAudiences, Viewer};
use crate::connection::Cutoff;
use crate::metrics::Metrics;
use crate::store::{CommitSink, Epoch, EventId, StoredEvent};

/// A committed event, rendered once for all clients.
#[derive(Debug)]
pub struct LiveEvent {
    /// The event's id.
    pub id: EventId,
    /// The SSE frame.
    pub frame: Event,
    /// Whom it is for.
    pub audience: Audience,
}

/// The JSON `data:` of a stream event.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StreamData<'a> {
    id: i64,
    received_at: String,
    kind: &'a str,
    body: &'a RawValue,
}

/// Whether `kind` can go into an SSE `event:` line (and is what intake would have stored).
pub(crate) fn is_plain_kind(kind: &str) -> bool {
    (1..=64).contains(&kind.len())
        && kind
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
}

/// An event's SSE `id:`, `<epoch>:<id>` (e.g. `3f9a0c1d2e4b5a69:42`): what an SSE client sends
/// back as `Last-Event-ID`, so that the relay can tell a resume point of its own history from
/// one of a history a restore or a new store replaced. The relay also takes a bare `<id>`, which
/// is what clients that read the id from `data` send.
pub fn sse_id(epoch: Epoch, id: EventId) -> String {
    format!("{epoch}:{id}")
}

/// A resume point as a client gives it: `<id>`, or `<epoch>:<id>` as [`sse_id`] writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumePoint {
    /// The epoch the id belongs to, when the client gave one.
    pub epoch: Option<Epoch>,
    /// Resume after this id.
    pub after: EventId,
}

impl ResumePoint {
    /// Reads `<id>` or `<epoch>:<id>`; an id is a whole number ≥ 0, an epoch 16 hex digits.
    pub fn parse(text: &str) -> Result<Self, String> {
        let refuse = || {
            format!(
                "resume point {text:?} is neither an event id (a whole number ≥ 0) nor <epoch>:<id> (16 hex digits, a colon, the id)"
            )
        };
        let (epoch, id) = match text.split_once(':') {
            Some((epoch, id)) => (Some(Epoch::parse(epoch).ok_or_else(refuse)?), id),
            None => (None, text),
        };
        let after = id
            .parse::<i64>()
            .ok()
            .filter(|id| *id >= 0)
            .ok_or_else(refuse)?;
        Ok(Self {
            epoch,
            after: EventId(after),
        })
    }
}

/// The SSE frame of a stored event: `id:` its [`sse_id`], `event:` its kind, `data:` a JSON
/// object with the id, the receipt time, the kind and the body exactly as received.
pub fn render(event: &StoredEvent) -> Result<Event, serde_json::Error> {
    let kind = if is_plain_kind(&event.kind) {
        event.kind.as_str()
    } else {
        "unknown"
    };
    let mut data = serde_json::to_string(&StreamData {
        id: event.id.0,
        received_at: event
            .received_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        kind,
        body: &event.body,
    })?;
    // SSE has no way to carry a carriage return inside data: it ends a line. A CR can only be
    // insignificant whitespace in JSON (inside strings it is escaped), so it becomes a newline.
    if data.contains('\r') {
        data = data.replace("\r\n", "\n").replace('\r', "\n");
    }
    Ok(Event::default()
        .id(sse_id(event.epoch, event.id))
        .event(kind)
        .data(data))
}

struct Subscriber {
    id: u64,
    queue: mpsc::Sender<Arc<LiveEvent>>,
    cutoff: Option<Arc<Cutoff>>,
    /// The seat whose stream this is, if a seat's.
    seat: Option<i64>,
    /// What it may see.
    viewer: Viewer,
}

/// The set of connected stream clients.
pub struct Fanout {
    subscribers: Mutex<Vec<Subscriber>>,
    next_subscriber: AtomicU64,
    buffer: usize,
    metrics: Arc<Metrics>,
    /// Whom each leg's call events are for: the one decision the live fan-out and the backlog
    /// replay both take.
    legs: LegAudiences,
}

impl std::fmt::Debug for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout")
            .field("subscribers", &self.lock().len())
            .field("buffer", &self.buffer)
            .finish()
    }
}

impl Fanout {
    /// A fan-out whose clients may each have `buffer` events waiting.
    pub fn new(buffer: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            subscribers: Mutex::new(Vec::new()),
            next_subscriber: AtomicU64::new(1),
            buffer: buffer.max(1),
            metrics,
            legs: LegAudiences::default(),
        }
    }

    /// Whom each leg's call events are for (see [`LegAudiences`]): what a backlog replay
    /// filters by, and what a starting relay recalls from the store.
    pub fn legs(&self) -> &LegAudiences {
        &self.legs
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Subscriber>> {
        // The list stays consistent even if a holder panicked: every change is one push or
        // one retain.
        self.subscribers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a client; from now on it receives every committed event until it is dropped
    /// or cut off (then its queue ends).
    pub fn subscribe(self: &Arc<Self>, cutoff: Option<Arc<Cutoff>>) -> Subscription {
        self.subscribe_as(None, cutoff)
    }

    /// Registers a client held by `seat` (or by a client key, `None`); see [`Self::subscribe`].
    pub fn subscribe_as(
        self: &Arc<Self>,
        seat: Option<i64>,
        cutoff: Option<Arc<Cutoff>>,
    ) -> Subscription {
        self.subscribe_viewing(seat, Viewer::Everything, cutoff)
    }

    /// Registers a client held by `seat` that receives only the events `viewer` may see.
    pub fn subscribe_viewing(
        self: &Arc<Self>,
        seat: Option<i64>,
        viewer: Viewer,
        cutoff: Option<Arc<Cutoff>>,
    ) -> Subscription {
        let (queue, events) = mpsc::channel(self.buffer);
        let id = self.next_subscriber.fetch_add(1, Ordering::Relaxed);
        self.lock().push(Subscriber {
            id,
            queue,
            cutoff,
            seat,
            viewer,
        });
        self.metrics.client_connected(1);
        Subscription {
            id,
            events,
            fanout: Arc::clone(self),
        }
    }

    /// Disconnects every client (at shutdown): a client that stopped reading would otherwise
    /// keep its connection, and so the server, alive.
    pub fn disconnect_all(&self) {
        for subscriber in self.lock().drain(..) {
            if let Some(cutoff) = &subscriber.cutoff {
                cutoff.pull();
            }
        }
    }

    /// Drops every subscriber of `seat` (revoked): its queue ends and its connection is cut.
    pub fn disconnect_seat(&self, seat: i64) {
        self.lock().retain(|subscriber| {
            if subscriber.seat != Some(seat) {
                return true;
            }
            if let Some(cutoff) = &subscriber.cutoff {
                cutoff.pull();
            }
            false
        });
    }

    /// How many clients are subscribed.
    pub fn subscribers(&self) -> usize {
        self.lock().len()
    }
}

impl CommitSink for Fanout {
    fn committed(&self, events: &[StoredEvent]) {
        // Before anything else: a client subscribing later replays these from the backlog
        // and must get the same audiences.
        let audiences = self.legs.observe(events);
        if self.lock().is_empty() {
            return;
        }
        let live: Vec<Arc<LiveEvent>> = events
            .iter()
            .zip(audiences)
            .filter_map(|(event, audience)| match render(event) {
                Ok(frame) => Some(Arc::new(LiveEvent {
                    id: event.id,
                    frame,
                    audience,
                })),
                Err(err) => {
                    tracing::error!(id = event.id.0, error = %err, "an event could not be rendered for the stream");
                    None
                }
            })
            .collect();
        let metrics = &self.metrics;
        self.lock().retain(|subscriber| {
            for event in &live {
                if !subscriber.viewer.sees(&event.audience) {
                    continue;
                }
                match subscriber.queue.try_send(Arc::clone(event)) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        metrics.client_cut_off();
                        tracing::info!(
                            subscriber = subscriber.id,
                            "a stream client fell behind its buffer and is cut off"
                        );
                        if let Some(cutoff) = &subscriber.cutoff {
                            cutoff.pull();
                        }
                        return false;
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => return false,
                }
            }
            true
        });
    }
}

/// One client's live queue; dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    id: u64,
    events: mpsc::Receiver<Arc<LiveEvent>>,
    fanout: Arc<Fanout>,
}

impl Subscription {
    /// The next live event; `None` once the client was cut off (after the events already
    /// queued).
    pub async fn next(&mut self) -> Option<Arc<LiveEvent>> {
        self.events.recv().await
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let id = self.id;
        self.fanout.lock().retain(|subscriber| subscriber.id != id);
        self.fanout.metrics.client_connected(-1);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn stored(id: i64, body: &str) -> StoredEvent {
        StoredEvent {
            epoch: Epoch::from_stored(7),
            id: EventId(id),
            received_at: Utc::now(),
            kind: "callNotifications".into(),
            body: RawValue::from_string(body.into()).unwrap(),
        }
    }

    #[tokio::test]
    async fn every_subscriber_gets_events_in_order() {
        let fanout = Arc::new(Fanout::new(8, Arc::new(Metrics::default())));
        let mut first = fanout.subscribe(None);
        let mut second = fanout.subscribe(None);
        fanout.committed(&[stored(1, "{}"), stored(2, "[]")]);
        for subscription in [&mut first, &mut second] {
            assert_eq!(subscription.next().await.unwrap().id, EventId(1));
            assert_eq!(subscription.next().await.unwrap().id, EventId(2));
        }
        drop(first);
        assert_eq!(fanout.subscribers(), 1);
    }

    #[tokio::test]
    async fn a_full_queue_cuts_the_client_off_and_spares_the_others() {
        let metrics = Arc::new(Metrics::default());
        let fanout = Arc::new(Fanout::new(2, Arc::clone(&metrics)));
        let cutoff = Arc::new(Cutoff::default());
        let mut slow = fanout.subscribe(Some(Arc::clone(&cutoff)));
        let mut fast = fanout.subscribe(None);
        for id in 1..=3 {
            fanout.committed(&[stored(id, "{}")]);
            assert_eq!(fast.next().await.unwrap().id, EventId(id));
        }
        assert_eq!(metrics.clients_cut_off(), 1);
        assert_eq!(fanout.subscribers(), 1);
        // The slow client gets what was queued, then its queue ends.
        assert_eq!(slow.next().await.unwrap().id, EventId(1));
        assert_eq!(slow.next().await.unwrap().id, EventId(2));
        assert!(slow.next().await.is_none());
    }

    #[tokio::test]
    async fn a_seats_subscribers_are_dropped_by_seat_and_the_others_kept() {
        let fanout = Arc::new(Fanout::new(8, Arc::new(Metrics::default())));
        let cutoff = Arc::new(Cutoff::default());
        let mut revoked = fanout.subscribe_as(Some(3), Some(Arc::clone(&cutoff)));
        let mut other = fanout.subscribe_as(Some(4), None);
        let mut key = fanout.subscribe(None);
        fanout.disconnect_seat(3);
        assert_eq!(fanout.subscribers(), 2);
        assert!(cutoff.is_pulled());
        fanout.committed(&[stored(1, "{}")]);
        assert!(revoked.next().await.is_none());
        assert_eq!(other.next().await.unwrap().id, EventId(1));
        assert_eq!(key.next().await.unwrap().id, EventId(1));
    }

    #[test]
    fn resume_points_are_an_id_or_an_epoch_and_an_id() {
        let epoch = Epoch::from_stored(-2);
        let id = sse_id(epoch, EventId(42));
        assert_eq!(id, "fffffffffffffffe:42");
        assert_eq!(
            ResumePoint::parse(&id),
            Ok(ResumePoint {
                epoch: Some(epoch),
                after: EventId(42)
            })
        );
        assert_eq!(
            ResumePoint::parse("9"),
            Ok(ResumePoint {
                epoch: None,
                after: EventId(9)
            })
        );
        for bad in [
            "-1",
            "x",
            "abc:1",
            "fffffffffffffffe:",
            ":5",
            "fffffffffffffffe:-1",
            "1:2:3",
        ] {
            assert!(ResumePoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unusual_bodies_and_kinds_render_without_panicking() {
        let body = "{\"event\":\"callNotifications\",\r\n \"result\": {\"a\": \"x\\r\"}}";
        assert!(render(&stored(7, body)).is_ok());
        let unusual = StoredEvent {
            kind: "bad\nkind".into(),
            ..stored(8, "1")
        };
        // A kind that cannot be an SSE event name is sent as `unknown` instead of panicking.
        assert!(render(&unusual).is_ok());
    }
}
