//! The live link to the relay: a Server-Sent Events stream of the PBX's notifications.
//!
//! The link resumes exactly where the call log stopped (`Last-Event-ID`: the bare id at first,
//! `<epoch>:<id>` once the relay has named its store's epoch, so that a store restored or
//! replaced between two connections is resynced rather than resumed after ids that now name
//! other events). It reconnects after the delay the relay asks for with `retry:` (kept within
//! the link's own bounds), doubling it while the relay stays away, with jitter that only ever
//! adds to it, and treats silence as death: the relay sends a heartbeat every
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
use futures::StreamExt;
use rand::Rng;
use serde::Deserialize;
use serde_json::Value;
use sse_stream::{Sse, SseByteStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::secrets::RelayKey;

/// Timings of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// Silence after which the connection is presumed dead (three missed heartbeats).
    pub heartbeat_timeout: Duration,
    /// The first reconnect delay when the relay asks for none, and the least the link waits
    /// whatever it asks; it doubles up to `max_backoff`, and jitter adds up to a quarter.
    pub min_backoff: Duration,
    /// The longest reconnect delay before jitter, and the most the relay's `retry:` may ask.
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
/// The event that opens a stream with the relay store's epoch. The link's first connection
/// resumes by the call log's bare id (which the relay takes as its current epoch's); later ones
/// by `<epoch>:<id>`, so a store replaced in between is resynced.
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
    /// A team server revoked this seat (`seat_revoked`, `credential_revoked`): the link has
    /// stopped for good, since no later attempt can succeed.
    Revoked {
        /// What the server said.
        reason: String,
        /// The admin revoked the seat with `--delete-local-data`: delete the team's history
        /// and contacts from this computer.
        delete_local_data: bool,
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
    Revoked(String, bool),
}

/// What the link carries from one connection to the next.
#[derive(Debug, Default)]
struct Progress {
    /// The last id handed on (or the call log's cursor): where the next connection resumes.
    after: Option<i64>,
    /// The relay store's epoch, once a stream has named it.
    epoch: Option<String>,
    /// Failed attempts since the last successful connection.
    attempt: u32,
    /// The reconnect delay the relay asked for with `retry:`, last heard.
    server_retry: Option<Duration>,
    /// Whether the warning about a relay that does not mark its backlog was logged.
    told_unmarked: bool,
}

impl Progress {
    /// The `Last-Event-ID` to resume after, if any.
    fn resume_point(&self) -> Option<String> {
        let after = self.after?;
        Some(match &self.epoch {
            Some(epoch) => format!("{epoch}:{after}"),
            None => after.to_string(),
        })
    }
}

/// How long to wait before reconnection attempt `attempt` (1 for the first after a loss).
///
/// The base is the relay's `retry:` when it sent one (bounded to `min_backoff..=max_backoff`,
/// so a relay can neither make the app hammer it nor leave it away for long), else
/// `min_backoff`; it doubles with each failed attempt up to `max_backoff` (or the base, if
/// larger). `jitter` (0 to 1) adds up to a quarter: apps that lost the relay at the same
/// moment come back spread out, and none sooner than the relay asked.
fn reconnect_delay(
    config: &LinkConfig,
    attempt: u32,
    server_retry: Option<Duration>,
    jitter: f64,
) -> Duration {
    let floor = config.min_backoff;
    let ceiling = config.max_backoff.max(floor);
    let base = server_retry.map_or(floor, |asked| asked.max(floor).min(ceiling));
    let exponential = base
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(16)))
        .min(ceiling);
    exponential.saturating_add(exponential.mul_f64(jitter.clamp(0.0, 1.0) / 4.0))
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
            // The team relay's admin console shows each seat's app version from this.
            .user_agent(concat!("Trubka/", env!("CARGO_PKG_VERSION")))
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
        after: Option<i64>,
        events: mpsc::Sender<LinkEvent>,
        cancel: CancellationToken,
    ) {
        let mut progress = Progress {
            after,
            ..Progress::default()
        };
        loop {
            let ended = self.connect_once(&mut progress, &events, &cancel).await;
            let (reason, refused) = match ended {
                Ended::Cancelled | Ended::ConsumerGone => return,
                Ended::Revoked(reason, delete_local_data) => {
                    tracing::warn!(%reason, "the team server revoked this seat; the link stops");
                    let _ = events
                        .send(LinkEvent::Status(LinkStatus::Revoked {
                            reason,
                            delete_local_data,
                        }))
                        .await;
                    return;
                }
                Ended::Lost(reason) => (reason, false),
                Ended::Refused(reason) => (reason, true),
            };
            progress.attempt = progress.attempt.saturating_add(1);
            let retry_in = if refused {
                self.config.max_backoff
            } else {
                reconnect_delay(
                    &self.config,
                    progress.attempt,
                    progress.server_retry,
                    rand::rng().random_range(0.0..=1.0),
                )
            };
            let status = if refused {
                LinkStatus::Refused { reason }
            } else {
                LinkStatus::Reconnecting {
                    attempt: progress.attempt,
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

    async fn connect_once(
        &self,
        progress: &mut Progress,
        events: &mpsc::Sender<LinkEvent>,
        cancel: &CancellationToken,
    ) -> Ended {
        let mut request = self
            .http
            .get(self.stream_url.clone())
            .bearer_auth(self.key.expose())
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(resume_point) = progress.resume_point() {
            request = request.header("Last-Event-ID", resume_point);
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
            // A team server says why: a revoked seat stops the link, anything else is retried.
            let body = tokio::time::timeout(self.config.connect_timeout, response.bytes()).await;
            if let Ok(Ok(body)) = body
                && let Ok(error) = serde_json::from_slice::<team_api::ErrorBody>(&body)
                && matches!(
                    error.code,
                    team_api::TeamErrorCode::SeatRevoked
                        | team_api::TeamErrorCode::CredentialRevoked
                )
            {
                return Ended::Revoked(error.message, error.delete_local_data);
            }
            return Ended::Refused(format!("the relay refused this app's key (HTTP {status})"));
        }
        if status == reqwest::StatusCode::BAD_REQUEST && progress.epoch.take().is_some() {
            // A relay from before store epochs reads only bare ids (one put back in place of
            // a newer one, say): resume by the id alone from now on.
            return Ended::Lost(
                "the relay did not take the resume point with its store's epoch; \
                 resuming by the event id alone"
                    .into(),
            );
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
        progress.attempt = 0;
        if !marks_backlog(response.headers()) {
            // An older relay: it never says where its backlog ends, so everything it sends is
            // taken as live, as it was before (a time-based guess would silence real calls on a
            // desktop whose clock runs ahead).
            if !progress.told_unmarked {
                tracing::warn!(
                    "the relay does not mark the end of its backlog (update it): calls that \
                     happened while this app was away are announced as if they were live"
                );
                progress.told_unmarked = true;
            }
            let now = LinkEvent::CaughtUp(CaughtUp {
                last_id: progress.after.unwrap_or(0),
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
        let mut stream = std::pin::pin!(SseByteStream::new(bytes));
        let mut watchdog = Watchdog::new(self.config.heartbeat_timeout);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Ended::Cancelled,
                _ = alive_rx.changed() => watchdog.heard(),
                reason = watchdog.expired() => return Ended::Lost(reason),
                next = stream.next() => {
                    watchdog.heard();
                    let block = match next {
                        None => return Ended::Lost("the relay closed the stream".into()),
                        Some(Err(e)) => return Ended::Lost(format!("the stream broke: {e}")),
                        Some(Ok(block)) => block,
                    };
                    if let Some(ended) = hand_on(block, progress, events).await {
                        return ended;
                    }
                }
            }
        }
    }
}

/// The relay's `event: epoch` data.
#[derive(Deserialize)]
struct EpochNotice {
    epoch: String,
}

/// Whether `epoch` may go into a `Last-Event-ID` header as the relay writes epochs (hex).
fn is_epoch(epoch: &str) -> bool {
    (1..=32).contains(&epoch.len()) && epoch.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Takes one block of the stream: notes its `retry:`, and hands on what its data says.
/// `Some` when the connection is to end.
async fn hand_on(
    block: Sse,
    progress: &mut Progress,
    events: &mpsc::Sender<LinkEvent>,
) -> Option<Ended> {
    // `retry:` counts even in a block without data (the relay sends it alone, first).
    if let Some(ms) = block.retry {
        progress.server_retry = Some(Duration::from_millis(ms));
    }
    // As in a browser's EventSource, a block without data dispatches nothing.
    let data = block.data?;
    let sent = match block.event.as_deref().unwrap_or("message") {
        "resync" => match serde_json::from_str::<Resync>(&data) {
            Ok(resync) => {
                tracing::warn!(?resync, "the relay cannot resume where asked");
                progress.after = Some(resync.resume_after);
                events.send(LinkEvent::Resync(resync)).await
            }
            Err(e) => {
                tracing::warn!(error = %e, "unreadable resync notice ignored");
                Ok(())
            }
        },
        EPOCH => {
            match serde_json::from_str::<EpochNotice>(&data) {
                Ok(notice) if is_epoch(&notice.epoch) => {
                    tracing::debug!(epoch = %notice.epoch, "the relay's store epoch");
                    progress.epoch = Some(notice.epoch);
                }
                // Resuming by the bare id still works; only a replaced store goes unnoticed
                // until the relay resyncs an id beyond its newest.
                _ => tracing::warn!(%data, "unreadable store epoch ignored"),
            }
            Ok(())
        }
        CAUGHT_UP => {
            // An unreadable mark still ends the backlog; only its time is lost.
            let caught_up = serde_json::from_str::<CaughtUp>(&data).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "unreadable end-of-backlog mark");
                CaughtUp {
                    last_id: progress.after.unwrap_or(0),
                    at: None,
                }
            });
            events.send(LinkEvent::CaughtUp(caught_up)).await
        }
        _ => match serde_json::from_str::<RelayEvent>(&data) {
            // Already handed on before a reconnect; the relay resends nothing after
            // Last-Event-ID, so this is belt and braces.
            Ok(relay_event) if progress.after.is_some_and(|a| relay_event.id <= a) => Ok(()),
            Ok(relay_event) => {
                progress.after = Some(relay_event.id);
                events.send(LinkEvent::Event(relay_event)).await
            }
            Err(e) => {
                let id = block.id.as_deref().unwrap_or("");
                tracing::warn!(error = %e, id, "unreadable stream event skipped");
                Ok(())
            }
        },
    };
    sent.err().map(|_| Ended::ConsumerGone)
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

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_relays_retry_is_the_base_of_the_reconnect_delay_within_the_links_bounds() {
        let config = LinkConfig::default();
        let asked =
            |retry: Option<Duration>, attempt| reconnect_delay(&config, attempt, retry, 0.0);
        assert_eq!(asked(Some(3000 * MS), 1), 3000 * MS);
        assert_eq!(asked(Some(3000 * MS), 2), 6000 * MS);
        assert_eq!(asked(Some(3000 * MS), 9), config.max_backoff);
        assert_eq!(asked(None, 1), config.min_backoff);
        // A relay can neither make the app hammer it nor send it away for an hour.
        assert_eq!(asked(Some(MS), 1), config.min_backoff);
        assert_eq!(asked(Some(Duration::ZERO), 1), config.min_backoff);
        assert_eq!(
            asked(Some(Duration::from_secs(3600)), 1),
            config.max_backoff
        );
        assert_eq!(asked(Some(Duration::MAX), u32::MAX), config.max_backoff);
    }

    #[test]
    fn jitter_only_adds_up_to_a_quarter() {
        let config = LinkConfig::default();
        let retry = Some(Duration::from_secs(4));
        assert_eq!(
            reconnect_delay(&config, 1, retry, 0.0),
            Duration::from_secs(4)
        );
        assert_eq!(
            reconnect_delay(&config, 1, retry, 1.0),
            Duration::from_secs(5)
        );
        assert_eq!(
            reconnect_delay(&config, 1, retry, 7.0),
            Duration::from_secs(5)
        );
        assert_eq!(
            reconnect_delay(&config, 1, retry, -1.0),
            Duration::from_secs(4)
        );
    }

    #[test]
    fn bounds_set_the_wrong_way_round_do_not_panic() {
        let config = LinkConfig {
            min_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(1),
            ..LinkConfig::default()
        };
        let delay = reconnect_delay(&config, 3, Some(Duration::from_secs(2)), 0.0);
        assert_eq!(delay, Duration::from_secs(5));
    }

    #[test]
    fn a_resume_point_carries_the_epoch_once_the_relay_named_it() {
        let mut progress = Progress::default();
        assert_eq!(progress.resume_point(), None);
        progress.after = Some(42);
        assert_eq!(progress.resume_point().as_deref(), Some("42"));
        progress.epoch = Some("00000000000000ab".into());
        assert_eq!(
            progress.resume_point().as_deref(),
            Some("00000000000000ab:42")
        );
        assert!(is_epoch("00000000000000ab"));
        assert!(!is_epoch(""));
        assert!(!is_epoch("ab\r\nx-evil: 1"));
    }
}
