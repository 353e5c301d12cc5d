//! What the admin console keeps while the relay runs, apart from its routes (so that the
//! relay's state, which every route takes, and the commit sink can hold it without depending
//! on the console's handlers): its settings, the sign-in limit, the open wallboard streams, and
//! the wallboard's day — each workplace's answered, missed and talk time today, kept from the
//! legs the live-call view saw end (each counted once, by the team's day in its time zone),
//! with the signal of every change the wallboard shows.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::watch;

use crate::calls::EndedLeg;
use crate::rate::RateLimit;

/// The console's settings (the configuration's defaults; tests shorten the lock).
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// The team's time zone: "today" on the wallboard.
    pub time_zone: chrono_tz::Tz,
    /// Wrong passwords in a row that lock an account.
    pub lock_after: u32,
    /// How long a lock lasts.
    pub lock_for: Duration,
    /// Sign-in attempts taken per minute, from everywhere together.
    pub sign_ins_per_minute: u32,
    /// Wallboard streams per session.
    pub streams_per_session: usize,
    /// Wallboard streams in all.
    pub streams_max: usize,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            time_zone: chrono_tz::Europe::Moscow,
            lock_after: 10,
            lock_for: Duration::from_secs(15 * 60),
            sign_ins_per_minute: 60,
            streams_per_session: 8,
            streams_max: 64,
        }
    }
}

/// What the console keeps while the relay runs.
#[derive(Debug)]
pub struct Console {
    /// Sign-in attempts (`sign_ins_per_minute`).
    pub sign_ins: RateLimit,
    /// Wallboard streams open now.
    pub streams: AtomicUsize,
    /// Each session's wallboard streams open now, by the session's hash.
    pub session_streams: std::sync::Mutex<std::collections::HashMap<[u8; 32], usize>>,
    /// Each seat's answered, missed and talk time today.
    pub today: Arc<TodayCounters>,
    /// When the relay started.
    pub started_at: chrono::DateTime<Utc>,
}

impl Console {
    /// The console's state for `settings`.
    pub fn new(settings: &ConsoleSettings, today: Arc<TodayCounters>) -> Self {
        Self {
            sign_ins: RateLimit::per_minute(settings.sign_ins_per_minute),
            streams: AtomicUsize::new(0),
            session_streams: std::sync::Mutex::new(std::collections::HashMap::new()),
            today,
            started_at: Utc::now(),
        }
    }

    /// Wallboard streams open now.
    pub fn open_streams(&self) -> usize {
        self.streams.load(Ordering::Relaxed)
    }
}

/// One workplace's day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    /// Legs connected there.
    pub answered: u32,
    /// Incoming legs that reached it and were answered nowhere.
    pub missed: u32,
    /// Seconds connected.
    pub talk_seconds: i64,
}

#[derive(Debug, Default)]
struct Day {
    date: Option<NaiveDate>,
    by_workplace: HashMap<String, DayCounts>,
    counted: HashSet<String>,
}

/// Each workplace's counts for the team's day, and the signal of every change the wallboard
/// shows.
#[derive(Debug)]
pub struct TodayCounters {
    time_zone: chrono_tz::Tz,
    day: Mutex<Day>,
    changes: watch::Sender<u64>,
}

impl TodayCounters {
    /// Empty counters for the day in `time_zone`.
    pub fn new(time_zone: chrono_tz::Tz) -> Self {
        Self {
            time_zone,
            day: Mutex::new(Day::default()),
            changes: watch::Sender::new(0),
        }
    }

    fn date_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    fn day(&self) -> std::sync::MutexGuard<'_, Day> {
        self.day
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a leg that ended (once per leg; a leg of another day is not counted).
    pub fn ended(&self, leg: &EndedLeg) {
        let date = self.date_of(leg.ended_at);
        let today = self.date_of(Utc::now());
        if date != today {
            return;
        }
        let mut day = self.day();
        if day.date != Some(today) {
            *day = Day {
                date: Some(today),
                ..Day::default()
            };
        }
        if !day.counted.insert(leg.leg_id.clone()) {
            return;
        }
        let talk = leg
            .answered_at
            .map(|at| (leg.ended_at - at).num_seconds().max(0))
            .unwrap_or(0);
        for workplace in &leg.talked_at {
            let counts = day.by_workplace.entry(workplace.clone()).or_default();
            counts.answered += 1;
            counts.talk_seconds += talk;
        }
        if leg.talked_at.is_empty() && leg.incoming {
            for workplace in &leg.reached {
                day.by_workplace
                    .entry(workplace.clone())
                    .or_default()
                    .missed += 1;
            }
        }
    }

    /// A workplace's counts today.
    pub fn of(&self, workplace: &str) -> DayCounts {
        let day = self.day();
        if day.date != Some(self.date_of(Utc::now())) {
            return DayCounts::default();
        }
        day.by_workplace.get(workplace).copied().unwrap_or_default()
    }

    /// Something the wallboard shows changed.
    pub fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Follows the changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}

/// How far before the day's start the rebuild begins reading, so that a call which began
/// before midnight and ended today is known from its first event.
const REBUILD_LEAD: chrono::TimeDelta = chrono::TimeDelta::hours(2);

impl TodayCounters {
    /// Counts again the legs that ended today before the relay started, from the store's
    /// events (a fresh live-call view over them, knowing the team's `workplaces`); a leg the
    /// running view counts too is counted once. Answers how many events were read.
    pub async fn rebuild(
        &self,
        store: &dyn crate::store::EventStore,
        workplaces: &[String],
    ) -> Result<usize, crate::RelayError> {
        use crate::store::EventId;
        let now = Utc::now().with_timezone(&self.time_zone);
        let midnight = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .and_then(|start| start.and_local_timezone(self.time_zone).earliest())
            .map_or(Utc::now(), |start| start.with_timezone(&Utc));
        let from = midnight - REBUILD_LEAD;
        // The first event at or after `from`, by halving the ids (events are numbered in the
        // order they were committed, which is their receipt time's order).
        let horizon = store.horizon().await?;
        let (mut low, mut high) = (0_i64, horizon.last_id.0);
        while low < high {
            let mid = low + (high - low) / 2;
            let page = store.events_after(EventId(mid), 1).await?;
            match page.events.first() {
                Some(event) if event.received_at < from => low = event.id.0,
                _ => high = mid,
            }
        }
        let view = crate::calls::CallView::default();
        for workplace in workplaces {
            view.add_workplace(workplace);
        }
        let mut after = EventId(low);
        let mut read = 0;
        loop {
            let page = store.events_after(after, 1000).await?;
            let Some(last) = page.last_id() else {
                return Ok(read);
            };
            read += page.events.len();
            for derived in view.observe(&page.events) {
                if let crate::calls::Derived::Ended(ended) = derived {
                    self.ended(&ended);
                }
            }
            after = last;
        }
    }
}
