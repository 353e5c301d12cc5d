//! What the relay itself adds to the team's stream. The store's commits pass through
//! [`TeamSink`] to the fan-out; on the way the live-call view follows them, and what it derives
//! (a workplace's presence, the callback queue) — with the integration's notices for admins —
//! goes through a bounded queue to [`run`], which appends them to the store as events of the
//! kinds `presence`, `callbackQueue`, `team` and (from `availability`) `availability`. Stored like any event, they are numbered,
//! resumable and filtered per seat the same way live and on a resume.

use std::sync::Arc;

use team_api::{AVAILABILITY_KIND, CALLBACK_QUEUE_KIND, PRESENCE_KIND, TEAM_KIND};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::additions::{Addition, offer};
use crate::calls::{CALL_KIND, CallView, Derived};
use crate::console_state::TodayCounters;
use crate::directory::DirectoryCache;
use crate::fanout::Fanout;
use crate::store::{CommitSink, IncomingNotification, SharedStore, StoredEvent};

/// How many derived events may wait to be stored; past it they are dropped with a log line
/// (presence is a summary that the next change repeats; the queue is readable whole).
pub const FEED_QUEUE: usize = 4096;

/// The store's commit sink in front of the fan-out.
#[derive(Debug)]
pub struct TeamSink {
    calls: Arc<CallView>,
    fanout: Arc<Fanout>,
    additions: mpsc::Sender<Addition>,
    today: Option<Arc<TodayCounters>>,
    parked: Option<mpsc::Sender<StoredEvent>>,
}

impl TeamSink {
    /// A sink that lets `calls` follow every commit before `fanout` sends it.
    pub fn new(
        calls: Arc<CallView>,
        fanout: Arc<Fanout>,
        additions: mpsc::Sender<Addition>,
    ) -> Self {
        Self {
            calls,
            fanout,
            additions,
            today: None,
            parked: None,
        }
    }

    /// Also hands every committed call `trying` to `parked` (the router takes parked calls up
    /// from there, off the commit's path).
    pub fn with_parked(mut self, parked: mpsc::Sender<StoredEvent>) -> Self {
        self.parked = Some(parked);
        self
    }

    /// Also counts each ended leg for the wallboard's day, and tells it of every commit.
    pub fn with_today(mut self, today: Arc<TodayCounters>) -> Self {
        self.today = Some(today);
        self
    }
}

impl CommitSink for TeamSink {
    fn committed(&self, events: &[StoredEvent]) {
        for derived in self.calls.observe(events) {
            match (derived, &self.today) {
                (Derived::Ended(ended), Some(today)) => today.ended(&ended),
                (Derived::Ended(_), None) => {}
                (derived, _) => offer(&self.additions, Addition::Derived(derived)),
            }
        }
        if let Some(today) = &self.today {
            today.changed();
        }
        if let Some(parked) = &self.parked {
            for event in events
                .iter()
                .filter(|e| e.kind == CALL_KIND && e.body.get().contains("\"trying\""))
            {
                if parked.try_send(event.clone()).is_err() {
                    tracing::warn!(
                        id = event.id.0,
                        "the router is behind: a call event is not looked at for parking"
                    );
                }
            }
        }
        self.fanout.committed(events);
    }
}

/// Stores the additions until `shutdown`; a directory change empties the directory cache.
pub async fn run(
    mut additions: mpsc::Receiver<Addition>,
    store: SharedStore,
    directory: Arc<DirectoryCache>,
    shutdown: CancellationToken,
) {
    loop {
        let addition = tokio::select! {
            () = shutdown.cancelled() => return,
            addition = additions.recv() => match addition {
                Some(addition) => addition,
                None => return,
            },
        };
        let (kind, body) = match addition {
            Addition::Derived(Derived::DirectoryChanged) => {
                directory.invalidate();
                continue;
            }
            // Counted by the sink itself (the wallboard's day); nothing to store.
            Addition::Derived(Derived::Ended(_)) => continue,
            Addition::Derived(Derived::Presence(presence)) => {
                (PRESENCE_KIND, serde_json::to_string(&presence))
            }
            Addition::Derived(Derived::Callback(change)) => {
                (CALLBACK_QUEUE_KIND, serde_json::to_string(&change))
            }
            Addition::Team(event) => (TEAM_KIND, serde_json::to_string(&event)),
            Addition::Availability(change) => (AVAILABILITY_KIND, serde_json::to_string(&change)),
        };
        let Ok(body) = body else { continue };
        let Ok(notification) = IncomingNotification::new(kind.to_owned(), body) else {
            continue;
        };
        if let Err(err) = store.append(notification).await {
            tracing::warn!(error = %err, kind, "the relay's own stream event could not be stored");
        }
    }
}
