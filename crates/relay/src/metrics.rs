//! Counters for `GET /metrics`, written in the Prometheus text format by hand: a handful of
//! atomics and one histogram do not justify a metrics framework.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Why intake or the stream turned a request away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// A path other than the hook's.
    UnknownPath,
    /// The body was longer than the limit.
    TooLarge,
    /// The body was empty.
    Empty,
    /// The body was not UTF-8 or not JSON.
    NotJson,
    /// The body nested deeper than allowed.
    TooDeep,
    /// The store could not commit the event.
    StoreFailed,
    /// A stream request without a valid client key.
    Unauthorized,
    /// A route was at its concurrency cap (sign-in polls, streams in all): 503 at once.
    Overloaded,
    /// A client key already held its most streams: 429.
    TooManyStreams,
    /// A request took longer than `request_timeout_ms`, body included: 408.
    TimedOut,
    /// A join attempt past `join_attempts_per_minute`: 429.
    RateLimited,
    /// A join with a malformed, unknown, expired or used invite, or a bad body.
    BadJoin,
}

impl RejectReason {
    const ALL: [RejectReason; 12] = [
        RejectReason::UnknownPath,
        RejectReason::TooLarge,
        RejectReason::Empty,
        RejectReason::NotJson,
        RejectReason::TooDeep,
        RejectReason::StoreFailed,
        RejectReason::Unauthorized,
        RejectReason::Overloaded,
        RejectReason::TooManyStreams,
        RejectReason::TimedOut,
        RejectReason::RateLimited,
        RejectReason::BadJoin,
    ];

    fn label(self) -> &'static str {
        match self {
            RejectReason::UnknownPath => "unknown_path",
            RejectReason::TooLarge => "too_large",
            RejectReason::Empty => "empty",
            RejectReason::NotJson => "not_json",
            RejectReason::TooDeep => "too_deep",
            RejectReason::StoreFailed => "store_failed",
            RejectReason::Unauthorized => "unauthorized",
            RejectReason::Overloaded => "overloaded",
            RejectReason::TooManyStreams => "too_many_streams",
            RejectReason::TimedOut => "timed_out",
            RejectReason::RateLimited => "rate_limited",
            RejectReason::BadJoin => "bad_join",
        }
    }
}

/// Appends a gauge measured by the caller (what is open or waiting now) to an exposition.
pub fn render_gauge(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

/// How a refresh of the integration's tokens ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// New tokens are stored.
    Ok,
    /// МТТ refused the refresh token: the integration must be connected again.
    Refused,
    /// МТТ could not be reached or failed; the refresh is tried again.
    Failed,
}

impl RefreshOutcome {
    const ALL: [RefreshOutcome; 3] = [
        RefreshOutcome::Ok,
        RefreshOutcome::Refused,
        RefreshOutcome::Failed,
    ];

    fn label(self) -> &'static str {
        match self {
            RefreshOutcome::Ok => "ok",
            RefreshOutcome::Refused => "refused",
            RefreshOutcome::Failed => "failed",
        }
    }
}

/// Upper bounds (seconds) of the commit latency histogram's buckets.
const COMMIT_BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The relay's counters; shared by all handlers.
#[derive(Debug, Default)]
pub struct Metrics {
    received: AtomicU64,
    last_received_ms: AtomicI64,
    minutes: MinuteCounts,
    stored: AtomicU64,
    duplicates: AtomicU64,
    delivered: AtomicU64,
    skipped: AtomicU64,
    rejected: [AtomicU64; RejectReason::ALL.len()],
    clients: AtomicI64,
    clients_cut_off: AtomicU64,
    commit_buckets: [AtomicU64; COMMIT_BUCKETS.len()],
    commit_count: AtomicU64,
    commit_micros: AtomicU64,
    refreshes: [AtomicU64; RefreshOutcome::ALL.len()],
}

impl Metrics {
    /// A notification arrived at the hook (before any check).
    pub fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
        self.last_received_ms
            .store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
        self.minutes.count(chrono::Utc::now().timestamp() / 60);
    }

    /// When the last notification arrived (since the relay started).
    pub fn last_received(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        match self.last_received_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => chrono::DateTime::from_timestamp_millis(ms),
        }
    }

    /// Notifications received in the last minute, and per minute over the last 15.
    pub fn received_per_minute(&self) -> (u64, f64) {
        self.minutes.rates(chrono::Utc::now().timestamp() / 60)
    }

    /// A notification was committed; `duplicate` if it was recognised instead of stored.
    pub fn stored(&self, duplicate: bool, latency: Duration) {
        if duplicate {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        } else {
            self.stored.fetch_add(1, Ordering::Relaxed);
        }
        let seconds = latency.as_secs_f64();
        for (bound, bucket) in COMMIT_BUCKETS.iter().zip(&self.commit_buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.commit_count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.commit_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// A request was turned away.
    pub fn rejected(&self, reason: RejectReason) {
        if let Some(index) = RejectReason::ALL.iter().position(|r| *r == reason) {
            self.rejected[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many requests were turned away for this reason.
    pub fn rejected_count(&self, reason: RejectReason) -> u64 {
        RejectReason::ALL
            .iter()
            .position(|r| *r == reason)
            .map_or(0, |index| self.rejected[index].load(Ordering::Relaxed))
    }

    /// A refresh of the integration's tokens ended so.
    pub fn integration_refreshed(&self, outcome: RefreshOutcome) {
        if let Some(index) = RefreshOutcome::ALL.iter().position(|o| *o == outcome) {
            self.refreshes[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many refreshes of the integration's tokens ended so.
    pub fn integration_refreshes(&self, outcome: RefreshOutcome) -> u64 {
        RefreshOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .map_or(0, |index| self.refreshes[index].load(Ordering::Relaxed))
    }

    /// An event was written to a stream client.
    pub fn delivered(&self) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
    }

    /// A stream passed over a stored event that could not be read as one (not JSON: the
    /// database was edited by hand or damaged).
    pub fn event_skipped(&self) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
    }

    /// How many times streams passed over an unreadable stored event.
    pub fn events_skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// A stream client connected (`+1`) or left (`-1`).
    pub fn client_connected(&self, delta: i64) {
        self.clients.fetch_add(delta, Ordering::Relaxed);
    }

    /// A stream client fell behind its buffer and was disconnected.
    pub fn client_cut_off(&self) {
        self.clients_cut_off.fetch_add(1, Ordering::Relaxed);
    }

    /// How many stream clients were cut off so far.
    pub fn clients_cut_off(&self) -> u64 {
        self.clients_cut_off.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition, with the store's size measured by the caller.
    pub fn render(&self, store_bytes: Option<u64>) -> String {
        let mut out = String::with_capacity(2048);
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        counter(
            &mut out,
            "trubka_relay_events_received_total",
            "Notifications that reached the hook.",
            self.received.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "trubka_relay_events_stored_total",
            "Notifications committed to the store.",
            self.stored.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "trubka_relay_events_duplicate_total",
            "Notifications recognised as repeats within the duplicate window.",
            self.duplicates.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "trubka_relay_events_delivered_total",
            "Events written to stream clients.",
            self.delivered.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "trubka_relay_events_skipped_total",
            "Stored events a stream passed over because they are not valid JSON (a hand edit or a damaged disk), once per stream.",
            self.skipped.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP trubka_relay_rejected_total Requests turned away, by reason.\n# TYPE trubka_relay_rejected_total counter"
        );
        for (reason, count) in RejectReason::ALL.iter().zip(&self.rejected) {
            let _ = writeln!(
                out,
                "trubka_relay_rejected_total{{reason=\"{}\"}} {}",
                reason.label(),
                count.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP trubka_relay_integration_refreshes_total Refreshes of the МТТ integration's tokens, by outcome (refused: connect the integration again).\n# TYPE trubka_relay_integration_refreshes_total counter"
        );
        for (outcome, count) in RefreshOutcome::ALL.iter().zip(&self.refreshes) {
            let _ = writeln!(
                out,
                "trubka_relay_integration_refreshes_total{{outcome=\"{}\"}} {}",
                outcome.label(),
                count.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP trubka_relay_clients_connected Stream clients connected now.\n# TYPE trubka_relay_clients_connected gauge\ntrubka_relay_clients_connected {}",
            self.clients.load(Ordering::Relaxed)
        );
        counter(
            &mut out,
            "trubka_relay_clients_cut_off_total",
            "Stream clients disconnected for falling behind their buffer.",
            self.clients_cut_off.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP trubka_relay_commit_seconds Time from a notification's arrival at the store to its durable commit.\n# TYPE trubka_relay_commit_seconds histogram"
        );
        for (bound, bucket) in COMMIT_BUCKETS.iter().zip(&self.commit_buckets) {
            let _ = writeln!(
                out,
                "trubka_relay_commit_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.commit_count.load(Ordering::Relaxed);
        let sum = Duration::from_micros(self.commit_micros.load(Ordering::Relaxed)).as_secs_f64();
        let _ = writeln!(
            out,
            "trubka_relay_commit_seconds_bucket{{le=\"+Inf\"}} {count}\ntrubka_relay_commit_seconds_sum {sum}\ntrubka_relay_commit_seconds_count {count}"
        );
        if let Some(bytes) = store_bytes {
            let _ = writeln!(
                out,
                "# HELP trubka_relay_store_bytes Size of the event store on disk.\n# TYPE trubka_relay_store_bytes gauge\ntrubka_relay_store_bytes {bytes}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_every_series() {
        let metrics = Metrics::default();
        metrics.received();
        metrics.stored(false, Duration::from_millis(3));
        metrics.stored(true, Duration::from_millis(30));
        metrics.rejected(RejectReason::TooLarge);
        metrics.client_connected(1);
        metrics.event_skipped();
        let text = metrics.render(Some(4096));
        assert!(text.contains("trubka_relay_events_received_total 1\n"));
        assert!(text.contains("trubka_relay_events_stored_total 1\n"));
        assert!(text.contains("trubka_relay_events_duplicate_total 1\n"));
        assert!(text.contains("trubka_relay_events_skipped_total 1\n"));
        assert!(text.contains("trubka_relay_rejected_total{reason=\"too_large\"} 1\n"));
        assert!(text.contains("trubka_relay_rejected_total{reason=\"not_json\"} 0\n"));
        assert!(text.contains("trubka_relay_clients_connected 1\n"));
        assert!(text.contains("trubka_relay_commit_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("trubka_relay_commit_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("trubka_relay_commit_seconds_count 2\n"));
        assert!(text.contains("trubka_relay_store_bytes 4096\n"));
    }
}

/// Notifications counted per minute over the last 16 minutes (a ring by minute number).
#[derive(Debug, Default)]
struct MinuteCounts {
    slots: [(AtomicI64, AtomicU64); 16],
}

impl MinuteCounts {
    fn count(&self, minute: i64) {
        let (at, count) = &self.slots[minute.rem_euclid(16) as usize];
        if at.swap(minute, Ordering::Relaxed) != minute {
            count.store(0, Ordering::Relaxed);
        }
        count.fetch_add(1, Ordering::Relaxed);
    }

    /// The last full minute's count and the mean of the 15 before now.
    fn rates(&self, now: i64) -> (u64, f64) {
        let of = |minute: i64| {
            let (at, count) = &self.slots[minute.rem_euclid(16) as usize];
            if at.load(Ordering::Relaxed) == minute {
                count.load(Ordering::Relaxed)
            } else {
                0
            }
        };
        let last = of(now) + of(now - 1);
        let fifteen: u64 = (1..=15).map(|back| of(now - back)).sum();
        (last, fifteen as f64 / 15.0)
    }
}
