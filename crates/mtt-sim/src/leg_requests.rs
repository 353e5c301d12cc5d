//! The log of terminateCall and transferCall requests the control API shows.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// How many terminateCall and transferCall requests the log keeps.
const LEG_REQUESTS_KEPT: usize = 10_000;

/// One terminateCall or transferCall request, as the control API shows it: tests check that a
/// call got exactly one decision, and benchmarks time a decision's arrival here.
#[derive(Debug, Clone, Serialize)]
pub struct LegRequest {
    /// Its number in the log, from 1.
    pub seq: u64,
    /// `terminateCall` or `transferCall`.
    pub method: &'static str,
    /// When the request reached the simulator (wall-clock UTC, before any injected latency).
    pub received_at: DateTime<Utc>,
    /// The leg named, when the body named one.
    pub leg_id: Option<String>,
    /// transferCall's `calleeId`.
    pub callee_id: Option<String>,
    /// The answer's HTTP status.
    pub status: u16,
}

/// The latest terminateCall and transferCall requests.
#[derive(Debug, Default)]
pub(crate) struct LegRequestLog {
    next: u64,
    kept: VecDeque<LegRequest>,
}

impl LegRequestLog {
    /// Requests after `since` (a `seq`), oldest first, of one method if given.
    pub(crate) fn since(&self, since: u64, method: Option<&str>) -> Vec<LegRequest> {
        self.kept
            .iter()
            .filter(|r| r.seq > since && method.is_none_or(|m| m == r.method))
            .cloned()
            .collect()
    }

    /// Adds a request under the next number, forgetting the oldest when the log is full.
    pub(crate) fn note(
        &mut self,
        method: &'static str,
        received_at: DateTime<Utc>,
        leg_id: Option<String>,
        callee_id: Option<String>,
        status: u16,
    ) {
        self.next += 1;
        let request = LegRequest {
            seq: self.next,
            method,
            received_at,
            leg_id,
            callee_id,
            status,
        };
        if self.kept.len() >= LEG_REQUESTS_KEPT {
            self.kept.pop_front();
        }
        self.kept.push_back(request);
    }
}
