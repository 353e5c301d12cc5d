//! Delivery of notifications to `<webhook base>/events`, in order per call, with a log.
//!
//! Notifications are spread over a few lanes; every notification of one call goes to the same
//! lane, and a lane sends one request at a time, so a receiver sees each call's events in the
//! order the PBX produced them while unrelated calls still flow in parallel. A failed delivery
//! is logged and, unless retry is configured, dropped — MTT's own retry behaviour is unknown.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::{RetryPolicy, WebhookConfig};
use crate::error::SimError;
use crate::sync::lock;

/// One entry of the delivery log.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRecord {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When the last attempt finished (UTC, RFC 3339).
    pub time: String,
    /// `callNotifications` or `vpbxNotifications`.
    pub event: &'static str,
    /// The leg's `call.id`, for call notifications.
    pub call_id: Option<String>,
    /// The leg state or the PBX `eventType`.
    pub state: String,
    /// Where it was sent.
    pub url: String,
    /// HTTP status of the last attempt, if one came back.
    pub status: Option<u16>,
    /// Transport error of the last attempt, if any.
    pub error: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// Duration of the last attempt in milliseconds.
    pub latency_ms: f64,
    /// The notification exactly as sent.
    pub body: Box<RawValue>,
}

/// Totals since start.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct DeliveryStats {
    /// Notifications produced.
    pub queued: u64,
    /// Delivered with a 2xx answer.
    pub delivered: u64,
    /// Given up on.
    pub failed: u64,
}

/// A notification waiting for its lane.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) event: &'static str,
    pub(crate) call_id: Option<String>,
    pub(crate) state: String,
    pub(crate) body: Bytes,
}

#[derive(Debug)]
struct Counters {
    queued: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    seq: AtomicU64,
}

/// The lanes, the target URL and the log.
#[derive(Debug)]
pub(crate) struct WebhookSender {
    lanes: Vec<mpsc::UnboundedSender<Outgoing>>,
    target: Arc<Mutex<String>>,
    retry: Arc<Mutex<Option<RetryPolicy>>>,
    log: Arc<Mutex<VecDeque<DeliveryRecord>>>,
    counters: Arc<Counters>,
}

impl WebhookSender {
    /// Starts the lanes. `base` is the webhook base URL (the redirect URI or an override).
    pub(crate) fn start(
        config: &WebhookConfig,
        base: &str,
        shutdown: &CancellationToken,
    ) -> Result<Self, SimError> {
        let client = client(config)?;
        let target = Arc::new(Mutex::new(events_url(base)));
        let retry = Arc::new(Mutex::new(config.retry));
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let counters = Arc::new(Counters {
            queued: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            seq: AtomicU64::new(0),
        });
        let capacity = config.log_capacity.max(1);
        let mut lanes = Vec::new();
        for _ in 0..config.lanes.max(1) {
            let (tx, rx) = mpsc::unbounded_channel();
            let lane = Lane {
                rx,
                client: client.clone(),
                target: Arc::clone(&target),
                retry: Arc::clone(&retry),
                log: Arc::clone(&log),
                counters: Arc::clone(&counters),
                capacity,
            };
            tokio::spawn(lane.run(shutdown.clone()));
            lanes.push(tx);
        }
        Ok(Self {
            lanes,
            target,
            retry,
            log,
            counters,
        })
    }

    /// Queues a notification on the lane of `lane_key` (a call's key).
    pub(crate) fn send(&self, lane_key: u64, outgoing: Outgoing) {
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        let index = usize::try_from(lane_key).unwrap_or(0) % self.lanes.len().max(1);
        if let Some(lane) = self.lanes.get(index)
            && lane.send(outgoing).is_err()
        {
            // The lane has stopped because the simulator is shutting down.
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Changes where notifications go.
    pub(crate) fn set_base(&self, base: &str) {
        *lock(&self.target) = events_url(base);
    }

    /// The URL notifications are POSTed to.
    pub(crate) fn target(&self) -> String {
        lock(&self.target).clone()
    }

    /// Changes the retry policy.
    pub(crate) fn set_retry(&self, retry: Option<RetryPolicy>) {
        *lock(&self.retry) = retry;
    }

    /// Log entries after `since`, at most `limit`.
    pub(crate) fn log_since(&self, since: u64, limit: usize) -> Vec<DeliveryRecord> {
        lock(&self.log)
            .iter()
            .filter(|r| r.seq > since)
            .take(limit)
            .cloned()
            .collect()
    }

    /// Totals.
    pub(crate) fn stats(&self) -> DeliveryStats {
        DeliveryStats {
            queued: self.counters.queued.load(Ordering::Relaxed),
            delivered: self.counters.delivered.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
        }
    }
}

/// `<base>/events`, tolerating a trailing slash on the base.
pub(crate) fn events_url(base: &str) -> String {
    format!("{}/events", base.trim_end_matches('/'))
}

struct Lane {
    rx: mpsc::UnboundedReceiver<Outgoing>,
    client: reqwest::Client,
    target: Arc<Mutex<String>>,
    retry: Arc<Mutex<Option<RetryPolicy>>>,
    log: Arc<Mutex<VecDeque<DeliveryRecord>>>,
    counters: Arc<Counters>,
    capacity: usize,
}

impl Lane {
    async fn run(mut self, shutdown: CancellationToken) {
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => return,
                next = self.rx.recv() => next,
            };
            let Some(outgoing) = next else { return };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.deliver(outgoing) => {}
            }
        }
    }

    async fn deliver(&self, outgoing: Outgoing) {
        let url = lock(&self.target).clone();
        let retry = *lock(&self.retry);
        let max_attempts = retry.map_or(1, |r| r.max_attempts.max(1));
        let mut backoff = Duration::from_millis(retry.map_or(0, |r| r.initial_backoff_ms));
        let mut attempts = 0;
        let (status, error, latency) = loop {
            attempts += 1;
            let started = Instant::now();
            let result = self
                .client
                .post(&url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(outgoing.body.clone())
                .send()
                .await;
            let latency = started.elapsed();
            let (status, error) = match result {
                Ok(response) => {
                    let status = response.status();
                    // Drain the body so the connection can be reused.
                    let _ = response.bytes().await;
                    (Some(status.as_u16()), None)
                }
                Err(e) => (None, Some(e.to_string())),
            };
            let ok = status.is_some_and(|s| (200..300).contains(&s));
            if ok || attempts >= max_attempts {
                break (status, error, latency);
            }
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        };
        if status.is_some_and(|s| (200..300).contains(&s)) {
            self.counters.delivered.fetch_add(1, Ordering::Relaxed);
        } else {
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(url, ?status, ?error, "webhook delivery failed");
        }
        let body = std::str::from_utf8(&outgoing.body)
            .ok()
            .and_then(|s| RawValue::from_string(s.to_owned()).ok())
            .or_else(|| RawValue::from_string("null".to_owned()).ok());
        let Some(body) = body else { return };
        let mut record = DeliveryRecord {
            seq: 0,
            time: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            event: outgoing.event,
            call_id: outgoing.call_id,
            state: outgoing.state,
            url,
            status,
            error,
            attempts,
            latency_ms: latency.as_secs_f64() * 1000.0,
            body,
        };
        let mut log = lock(&self.log);
        // Numbered under the lock so the log's order and its numbers agree across lanes.
        record.seq = self.counters.seq.fetch_add(1, Ordering::Relaxed) + 1;
        if log.len() >= self.capacity {
            log.pop_front();
        }
        log.push_back(record);
    }
}

/// The client that sends the webhooks. It asks no proxy, whatever the system's settings: the
/// simulator plays MTT's servers and talks to the relay or a test's server directly.
pub(crate) fn client(config: &WebhookConfig) -> Result<reqwest::Client, SimError> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(config.timeout_ms))
        .pool_max_idle_per_host(config.lanes.max(1) * 2)
        .build()
        .map_err(|e| SimError::WebhookClient(e.to_string()))
}

#[cfg(test)]
mod proxy_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_events_path_is_appended_once() {
        assert_eq!(events_url("https://a.b"), "https://a.b/events");
        assert_eq!(events_url("https://a.b/hook/"), "https://a.b/hook/events");
    }
}
