//! The live link to the relay: a Server-Sent Events stream of the PBX's notifications.
//!
//! The link resumes exactly where the call log stopped (`Last-Event-ID`), reconnects with
//! jittered exponential backoff, and treats silence as death: the relay sends a heartbeat every
//! 15 seconds, so 45 seconds without a byte means the connection is gone even if the socket has
//! not noticed. It also reconnects when the machine wakes from sleep, which it detects as the
//! wall clock jumping ahead of the monotonic clock. A `resync` from the relay (the resume point
//! is older than the relay keeps, or unknown to it) is passed on so the consumer can move its
//! cursor. The link never applies anything itself: it hands events, in order, to a channel.
//!
//! After each (re)connection the relay first sends the backlog (what happened while this app was
//! away: asleep, off, offline) and then marks its end with a `caught-up` event; the link passes
//! the mark on as [`LinkEvent::CaughtUp`], so that the consumer can tell late events from live
//! ones without comparing the desktop's clock with the relay's. A relay says that it sends the
//! mark with the response header `Trubka-Stream: caught-up`. An older relay, without it, never
//! marks anything: the link then reports "caught up" as soon as it connects, which makes
//! everything it streams live, as it was before relays marked their backlog.

use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use rand::Rng;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::secrets::RelayKey;

/// Timings of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// Silence after which the connection is presumed dead (three missed heartbeats).
    pub heartbeat_timeout: Duration,
    /// The first reconnect delay; it doubles up to `max_backoff`, with jitter.
    pub min_backoff: Duration,
    /// The longest reconnect delay.
    pub max_backoff: Duration,
    /// How long connecting may take.
    pub connect_timeout: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            heartbeat_timeout: Duration::from_secs(45),
            min_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// One notification as the relay numbered it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayEvent {
    /// The relay's id: the resume point.
    pub id: i64,
    /// When the relay committed it.
    pub received_at: DateTime<Utc>,
    /// The notification's `event` (`callNotifications`, …) or `unknown`.
    pub kind: String,
    /// The notification exactly as the PBX sent it.
    pub body: Value,
}

/// The relay's notice that the stream does not continue from where the client asked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resync {
    /// `pruned` (the resume point is older than retention) or `unknown` (ahead of the relay).
    pub reason: String,
    /// The resume point the client asked for.
    pub requested: i64,
    /// Where the stream continues from instead.
    pub resume_after: i64,
    /// The newest id the relay has.
    pub last_id: i64,
}

/// The relay's mark that the backlog is over: what this connection streamed before it happened
/// while the app was away; what follows is live.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaughtUp {
    /// The id of the backlog's last event (the resume point when the backlog was empty).
    pub last_id: i64,
    /// The relay's clock when the backlog ended, to measure how old a late event is by the
    /// relay's clock alone. `None` when the relay did not mark its backlog (an older relay, or a
    /// mark that could not be read): then nothing before it counts as late.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
}

/// The response header a relay names its stream's features in.
const STREAM_FEATURES: &str = "trubka-stream";
/// The feature (and the event's name) of the end-of-backlog mark.
const CAUGHT_UP: &str = "caught-up";
/// The event that opens a stream with the relay store's epoch. The link resumes by a bare id
/// (which the relay still accepts); a store replaced under it is found by the relay's resync
/// for an id beyond its newest, so the epoch is only noted.
const EPOCH: &str = "epoch";

/// Whether the relay's answer says that it marks the end of the backlog.
fn marks_backlog(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get_all(STREAM_FEATURES)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|feature| feature.trim().eq_ignore_ascii_case(CAUGHT_UP))
}

/// The link's health, for the UI and the tray.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStatus {
    /// Streaming.
    Connected,
    /// Lost; trying again after `retry_in`.
    Reconnecting {
        /// Which attempt comes next.
        attempt: u32,
        /// How long until it.
        retry_in: Duration,
        /// What went wrong, in words.
        reason: String,
    },
    /// The relay refused this app (its key is wrong or revoked); it keeps trying, slowly.
    Refused {
        /// What the relay said.
        reason: String,
    },
}

/// What the link hands on.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkEvent {
    /// A notification, in id order.
    Event(RelayEvent),
    /// The stream restarts after `resume_after`.
    Resync(Resync),
    /// The backlog is over: the events before this (since the last `Connected`) were late.
    CaughtUp(CaughtUp),
    /// The link's health changed.
    Status(LinkStatus),
}

/// Why one connection ended.
enum Ended {
    Cancelled,
    ConsumerGone,
    Lost(String),
    Refused(String),
}

/// A link to one relay.
#[derive(Debug, Clone)]
pub struct RelayLink {
    stream_url: Url,
    key: RelayKey,
    http: reqwest::Client,
    config: LinkConfig,
}

impl RelayLink {
    /// A link to the relay's stream address, authenticated by `key`.
    pub fn new(stream_url: Url, key: RelayKey, config: LinkConfig) -> Result<Self, reqwest::Error> {
        // No overall request timeout: the stream is meant to stay open. Silence is caught by the
        // heartbeat watchdog instead.
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none());
        // The system's proxy, except to a relay on this machine (demo mode): a proxy cannot
        // reach it.
        if mtt_api::is_on_this_machine(&stream_url) {
            builder = builder.no_proxy();
        }
        let http = builder.build()?;
        Ok(RelayLink {
            stream_url,
            key,
            http,
            config,
        })
    }

    /// Streams until `cancel` fires or the receiver is dropped, resuming after `after` (the
    /// call log's cursor; `None` streams everything the relay keeps).
    pub async fn run(
        self,
        mut after: Option<i64>,
        events: mpsc::Sender<LinkEvent>,
        cancel: CancellationToken,
    ) {
        let mut attempt: u32 = 0;
        let mut told_unmarked = false;
        loop {
            let ended = self
                .connect_once(
                    &mut after,
                    &events,
                    &cancel,
                    &mut attempt,
                    &mut told_unmarked,
                )
                .await;
            let (reason, refused) = match ended {
                Ended::Cancelled | Ended::ConsumerGone => return,
                Ended::Lost(reason) => (reason, false),
                Ended::Refused(reason) => (reason, true),
            };
            attempt = attempt.saturating_add(1);
            let retry_in = if refused {
                self.config.max_backoff
            } else {
                self.backoff(attempt)
            };
            let status = if refused {
                LinkStatus::Refused { reason }
            } else {
                LinkStatus::Reconnecting {
                    attempt,
                    retry_in,
                    reason,
                }
            };
            tracing::info!(?status, "relay link down");
            if events.send(LinkEvent::Status(status)).await.is_err() {
                return;
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(retry_in) => {}
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self
            .config
            .min_backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)));
        let capped = exponential.min(self.config.max_backoff);
        // Full jitter between half and all of the delay, so many apps that lost the relay at
        // the same moment do not come back at the same moment.
        capped.mul_f64(rand::rng().random_range(0.5..=1.0))
    }

    async fn connect_once(
        &self,
        after: &mut Option<i64>,
        events: &mpsc::Sender<LinkEvent>,
        cancel: &CancellationToken,
        attempt: &mut u32,
        told_unmarked: &mut bool,
    ) -> Ended {
        let mut request = self
            .http
            .get(self.stream_url.clone())
            .bearer_auth(self.key.expose())
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(id) = after {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = tokio::select! {
            _ = cancel.cancelled() => return Ended::Cancelled,
            r = request.send() => r,
        };
        let response = match response {
            Ok(r) => r,
            Err(e) => return Ended::Lost(describe(&e)),
        };
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Ended::Refused(format!("the relay refused this app's key (HTTP {status})"));
        }
        if !status.is_success() {
            return Ended::Lost(format!("the relay answered HTTP {status}"));
        }
        if events
            .send(LinkEvent::Status(LinkStatus::Connected))
            .await
            .is_err()
        {
            return Ended::ConsumerGone;
        }
        *attempt = 0;
        if !marks_backlog(response.headers()) {
            // An older relay: it never says where its backlog ends, so everything it sends is
            // taken as live, as it was before (a time-based guess would silence real calls on a
            // desktop whose clock runs ahead).
            if !*told_unmarked {
                tracing::warn!(
                    "the relay does not mark the end of its backlog (update it): calls that \
                     happened while this app was away are announced as if they were live"
                );
                *told_unmarked = true;
            }
            let now = LinkEvent::CaughtUp(CaughtUp {
                last_id: after.unwrap_or(0),
                at: None,
            });
            if events.send(now).await.is_err() {
                return Ended::ConsumerGone;
            }
        }

        // Liveness is judged on raw bytes, heartbeat comments included, which the SSE parser
        // swallows; so the byte stream is watched before it is parsed.
        let (alive_tx, mut alive_rx) = tokio::sync::watch::channel(());
        let bytes = response.bytes_stream().inspect(move |_| {
            let _ = alive_tx.send(());
        });
        let mut stream = bytes.eventsource();
        let mut watchdog = Watchdog::new(self.config.heartbeat_timeout);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Ended::Cancelled,
                _ = alive_rx.changed() => watchdog.heard(),
                reason = watchdog.expired() => return Ended::Lost(reason),
                next = stream.next() => {
                    watchdog.heard();
                    let event = match next {
                        None => return Ended::Lost("the relay closed the stream".into()),
                        Some(Err(e)) => return Ended::Lost(format!("the stream broke: {e}")),
                        Some(Ok(event)) => event,
                    };
                    match event.event.as_str() {
                        "resync" => match serde_json::from_str::<Resync>(&event.data) {
                            Ok(resync) => {
                                tracing::warn!(?resync, "the relay cannot resume where asked");
                                *after = Some(resync.resume_after);
                                if events.send(LinkEvent::Resync(resync)).await.is_err() {
                                    return Ended::ConsumerGone;
                                }
                            }
                            Err(e) => tracing::warn!(error = %e, "unreadable resync notice ignored"),
                        },
                        EPOCH => tracing::debug!(data = %event.data, "the relay's store epoch"),
                        CAUGHT_UP => {
                            // An unreadable mark still ends the backlog; only its time is lost.
                            let caught_up = serde_json::from_str::<CaughtUp>(&event.data)
                                .unwrap_or_else(|e| {
                                    tracing::warn!(error = %e, "unreadable end-of-backlog mark");
                                    CaughtUp {
                                        last_id: after.unwrap_or(0),
                                        at: None,
                                    }
                                });
                            if events.send(LinkEvent::CaughtUp(caught_up)).await.is_err() {
                                return Ended::ConsumerGone;
                            }
                        }
                        _ => match serde_json::from_str::<RelayEvent>(&event.data) {
                            Ok(relay_event) => {
                                if after.is_some_and(|a| relay_event.id <= a) {
                                    // Already handed on before a reconnect; the relay resends
                                    // nothing after Last-Event-ID, so this is belt and braces.
                                    continue;
                                }
                                *after = Some(relay_event.id);
                                if events.send(LinkEvent::Event(relay_event)).await.is_err() {
                                    return Ended::ConsumerGone;
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, id = %event.id, "unreadable stream event skipped");
                            }
                        },
                    }
                }
            }
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "the relay cannot be reached".into()
    } else if e.is_timeout() {
        "the relay did not answer in time".into()
    } else {
        format!("the connection to the relay failed: {e}")
    }
}

/// Notices silence, and sleep: on Linux the monotonic clock stops while the machine is
/// suspended but the wall clock does not, so a wall clock far ahead of the monotonic one means
/// the machine slept and the connection is probably dead.
struct Watchdog {
    timeout: Duration,
    last_heard: Instant,
    wall_at_last_heard: SystemTime,
}

/// How often the watchdog checks for silence and sleep.
const WATCHDOG_TICK: Duration = Duration::from_secs(1);
/// A wall-clock jump this far past the monotonic clock counts as a wake from sleep.
const SLEEP_JUMP: Duration = Duration::from_secs(10);

impl Watchdog {
    fn new(timeout: Duration) -> Self {
        Watchdog {
            timeout,
            last_heard: Instant::now(),
            wall_at_last_heard: SystemTime::now(),
        }
    }

    fn heard(&mut self) {
        self.last_heard = Instant::now();
        self.wall_at_last_heard = SystemTime::now();
    }

    async fn expired(&self) -> String {
        loop {
            tokio::time::sleep(WATCHDOG_TICK.min(self.timeout)).await;
            let silent = self.last_heard.elapsed();
            if silent >= self.timeout {
                return format!("no heartbeat from the relay for {} s", silent.as_secs());
            }
            let wall = SystemTime::now()
                .duration_since(self.wall_at_last_heard)
                .unwrap_or_default();
            if wall > silent + SLEEP_JUMP {
                return "the computer woke from sleep".into();
            }
        }
    }
}
