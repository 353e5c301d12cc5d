//! The live event pipeline: relay link → call log → domain events.
//!
//! Events are applied to the call log *before* anything is announced, so what the UI hears about
//! is always already on disk, and a crash between the two loses nothing (the link resumes from
//! the log's cursor and applying again changes nothing). Events are applied in batches of
//! whatever has queued up, which keeps a burst cheap. If the log cannot be written, the batch is
//! retried until it can; the link meanwhile waits (its channel is bounded), so nothing is skipped.
//!
//! Late events raise nothing. After each (re)connection the relay streams its backlog — what
//! happened while this app was away (asleep, off, offline) — and then marks its end
//! ([`LinkEvent::CaughtUp`]). Everything before the mark is announced with `late: true`: it
//! updates the call log and the live calls like any event, but the faces pop up nothing and
//! notify nothing for it, and a parked call first seen in it is not decided on the spot. At the
//! mark the pipeline announces [`DomainEvent::CaughtUp`] with the calls still live, so that one
//! that is still ringing gets its popup then (a short network drop must not eat it), and it
//! settles the late parked calls: one still parked within its deadline (by the relay's clock) is
//! decided with the time left; the others are journalled as missed while offline, with no call
//! to the PBX (the PBX has handed them to the cabinet's routing already).

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use call_log::{CallLog, EventBody, LoggedEvent};
use mtt_api::Notification;
use mtt_api::notification::PbxEventKind;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;

pub use crate::domain_event::{DomainEvent, LinkHealth};
use crate::error::ErrorCode;
use crate::link::{CaughtUp, LinkEvent, LinkStatus, Resync};
use crate::live::{CallChange, LiveCalls, Me};
use crate::routing::{ParkedCall, ParkingHook};
use crate::team::TeamRoster;

/// A lag this long (or a return below it) is announced.
const LAG_NOTICE: chrono::Duration = chrono::Duration::seconds(2);

/// The most events applied in one transaction.
const MAX_BATCH: usize = 512;

/// The pipeline's shared pieces.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The call log events are applied to.
    pub log: CallLog,
    /// The live calls, updated after each apply.
    pub live: Arc<Mutex<LiveCalls>>,
    /// Whose calls are mine.
    pub me: Arc<RwLock<Me>>,
    /// Where domain events go.
    pub out: broadcast::Sender<DomainEvent>,
    /// Decides parked calls, in the one app marked as the account's router; swapped while
    /// running when the operator changes that.
    parking: Arc<RwLock<Option<ParkingHook>>>,
    /// Parked calls decided lately, by caller and external number.
    recent_parked: Arc<Mutex<RecentParked>>,
    /// Whether the last lag announced was a lag.
    behind: Arc<std::sync::atomic::AtomicBool>,
    /// Where the team phonebook's announced versions go (team mode), for its sync.
    phonebook: Option<watch::Sender<i64>>,
    /// The colleagues' presence and availability (team mode), fed the relay's own events.
    roster: Arc<TeamRoster>,
    /// This app's seat (team mode): colleagues' wrap-ups from the stream are kept, its own
    /// left aside.
    team_seat: Option<i64>,
}

/// Where the link's current connection stands: still sending its backlog, or live.
#[derive(Debug)]
struct Backlog {
    /// Whether events arriving now are late: from a connection's start to the relay's mark.
    late: bool,
    /// Call notifications (and colleagues' wrap-ups) announced late since the last mark.
    late_events: u64,
    /// Parked calls first seen late, settled at the mark.
    parked: Vec<ParkedCall>,
}

impl Default for Backlog {
    fn default() -> Self {
        // Nothing arrives before the link connects, which starts a backlog anyway.
        Backlog {
            late: true,
            late_events: 0,
            parked: Vec::new(),
        }
    }
}

/// When each (caller, external number) pair was last handed to the router.
type RecentParked = std::collections::HashMap<(String, String), chrono::DateTime<chrono::Utc>>;

/// A parked call's later legs (after the decision, or after the fallback) carry the same caller and
/// external number; within this window they are not parked calls of their own.
const PARKED_CALL_WINDOW: chrono::Duration = chrono::Duration::seconds(30);

impl Pipeline {
    /// A pipeline applying to `log` and announcing on `out`.
    pub fn new(
        log: CallLog,
        live: Arc<Mutex<LiveCalls>>,
        me: Arc<RwLock<Me>>,
        out: broadcast::Sender<DomainEvent>,
    ) -> Self {
        Pipeline {
            log,
            live,
            me,
            out,
            parking: Arc::default(),
            recent_parked: Arc::default(),
            behind: Arc::default(),
            phonebook: None,
            roster: Arc::default(),
            team_seat: None,
        }
    }

    /// Team mode, as seat `seat`: keeps the colleagues' wrap-ups the stream brings (a
    /// supervisor's or admin's stream carries them) in the call log.
    pub fn with_team_seat(mut self, seat: i64) -> Self {
        self.team_seat = Some(seat);
        self
    }

    /// Passes each `phonebook` event's version to `versions` (team mode), whose sync fetches
    /// the changes; the event itself is kept in the log like any other.
    pub fn with_phonebook(mut self, versions: watch::Sender<i64>) -> Self {
        self.phonebook = Some(versions);
        self
    }

    /// Feeds the stream's `presence` and `availability` events to `roster`.
    pub fn with_roster(mut self, roster: Arc<TeamRoster>) -> Self {
        self.roster = roster;
        self
    }

    /// Decides parked calls through whatever hook `parking` holds at the time (set only in
    /// the app marked as the router).
    pub fn with_parking(mut self, parking: Arc<RwLock<Option<ParkingHook>>>) -> Self {
        self.parking = parking;
        self
    }

    /// Runs until `cancel` fires or the link's channel closes.
    pub async fn run(self, mut events: mpsc::Receiver<LinkEvent>, cancel: CancellationToken) {
        let mut backlog = Backlog::default();
        loop {
            let first = tokio::select! {
                _ = cancel.cancelled() => return,
                e = events.recv() => match e { Some(e) => e, None => return },
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match events.try_recv() {
                    Ok(e) => batch.push(e),
                    Err(_) => break,
                }
            }
            if !self.apply_with_retry(&batch, &cancel).await {
                return;
            }
            let newest = batch
                .iter()
                .filter_map(|e| match e {
                    LinkEvent::Event(r) => Some(r.received_at),
                    _ => None,
                })
                .max();
            self.announce(batch, &mut backlog).await;
            if let Some(newest) = newest {
                self.note_lag(chrono::Utc::now() - newest);
            }
        }
    }

    /// Applies the batch's notifications in order, retrying until the log accepts them; false
    /// if cancelled first. A `resync` from a relay whose store was replaced (reason `unknown`)
    /// rebases the log between the events before it and those after, so the new relay's ids,
    /// which start again, are not taken for replays.
    async fn apply_with_retry(&self, batch: &[LinkEvent], cancel: &CancellationToken) -> bool {
        let mut pending: Vec<LoggedEvent> = Vec::new();
        for item in batch {
            match item {
                LinkEvent::Event(r) => pending.push(LoggedEvent {
                    relay_id: r.id,
                    received_at: r.received_at,
                    body: match Notification::from_value(r.body.clone()) {
                        Ok(n) => EventBody::Notification(n),
                        Err(_) => EventBody::Raw(r.body.to_string()),
                    },
                }),
                LinkEvent::Resync(resync) if resync.reason == "unknown" => {
                    let events = std::mem::take(&mut pending);
                    if !events.is_empty()
                        && !self
                            .retrying("apply", cancel, || self.log.apply(events.clone()))
                            .await
                    {
                        return false;
                    }
                    let after = resync.resume_after;
                    if !self
                        .retrying("rebase", cancel, || self.log.rebase_relay(after))
                        .await
                    {
                        return false;
                    }
                }
                _ => {}
            }
        }
        pending.is_empty()
            || self
                .retrying("apply", cancel, || self.log.apply(pending.clone()))
                .await
    }

    /// Runs a call-log write until it succeeds, announcing the trouble meanwhile; false if
    /// cancelled first.
    async fn retrying<T, F, Fut>(&self, what: &str, cancel: &CancellationToken, mut job: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, call_log::CallLogError>>,
    {
        let mut delay = Duration::from_millis(200);
        loop {
            match job().await {
                Ok(_) => return true,
                Err(e) => {
                    tracing::error!(error = %e, what, "the call log refused a write; retrying");
                    let _ = self.out.send(DomainEvent::Trouble {
                        code: ErrorCode::CallLog,
                        message: format!("the call history cannot be written: {e}"),
                    });
                    tokio::select! {
                        _ = cancel.cancelled() => return false,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    async fn announce(&self, batch: Vec<LinkEvent>, backlog: &mut Backlog) {
        for item in batch {
            match item {
                LinkEvent::Status(status) => {
                    if status == LinkStatus::Connected {
                        // A new connection streams its backlog first.
                        backlog.late = true;
                    }
                    let _ = self.out.send(DomainEvent::link(&status));
                    if let LinkStatus::Revoked {
                        reason,
                        delete_local_data,
                    } = status
                    {
                        let _ = self.out.send(DomainEvent::SeatRevoked {
                            reason,
                            delete_local_data,
                        });
                    }
                }
                LinkEvent::CaughtUp(mark) => self.caught_up(mark, backlog),
                LinkEvent::Resync(Resync {
                    reason,
                    resume_after,
                    ..
                }) => {
                    let _ = self.out.send(DomainEvent::Resynced {
                        reason,
                        resume_after,
                    });
                }
                LinkEvent::Event(event) if event.kind == team_api::ROUTING_KIND => {
                    // The team's relay decided a parked call: journalled here for History.
                    let decided = crate::routing::journal_relay_decision(&self.log, event.body);
                    if let Some(outcome) = decided.await {
                        let _ = self.out.send(DomainEvent::Routed { outcome });
                    }
                }
                LinkEvent::Event(event) if event.kind == team_api::WRAPUP_KIND => {
                    let Some(seat) = self.team_seat else { continue };
                    let kept =
                        crate::team::wrapup::keep_colleague_wrapup(&self.log, event.body, seat);
                    if let Some(kept) = kept.await {
                        let late = backlog.late;
                        backlog.late_events += u64::from(late);
                        let _ = self.out.send(DomainEvent::ColleagueWrapUp {
                            leg: kept.leg_id,
                            author: kept.seat_name,
                            note: kept.note,
                            tags: kept.tags,
                            late,
                        });
                    }
                }
                LinkEvent::Event(event) => {
                    if event.kind == team_api::PHONEBOOK_KIND {
                        if let (Some(versions), Ok(changed)) = (
                            &self.phonebook,
                            serde_json::from_value::<team_api::PhonebookChanged>(event.body),
                        ) {
                            versions.send_replace(changed.version);
                        }
                        continue;
                    }
                    if let Some(changed) = self.roster.follow(&event.kind, &event.body) {
                        for colleague in changed {
                            let _ = self.out.send(DomainEvent::Colleague { colleague });
                        }
                        continue;
                    }
                    let Ok(notification) = Notification::from_value(event.body) else {
                        continue;
                    };
                    match notification {
                        Notification::Call(call) => {
                            let late = backlog.late;
                            backlog.late_events += u64::from(late);
                            let changes = {
                                let me = self.me.read().unwrap_or_else(|p| p.into_inner()).clone();
                                let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
                                live.apply(&call, event.received_at, &me)
                            };
                            let first_sight =
                                changes.iter().any(|c| matches!(c, CallChange::Started(_)));
                            if first_sight
                                && let Some((hook, parked)) =
                                    self.parked_call(&call, event.received_at)
                            {
                                if late {
                                    backlog.parked.push(parked);
                                } else {
                                    self.decide(hook, parked);
                                }
                            }
                            for change in changes {
                                let domain = self.domain(change, late).await;
                                let _ = self.out.send(domain);
                            }
                        }
                        Notification::Pbx(pbx) => {
                            let what = match pbx.kind {
                                PbxEventKind::NumbersChanged => "numbers".to_owned(),
                                PbxEventKind::WorkplacesChanged => "workplaces".to_owned(),
                                PbxEventKind::Other(other) => other,
                            };
                            let _ = self.out.send(DomainEvent::DirectoryChanged { what });
                        }
                        Notification::Unknown(_) => {}
                    }
                }
            }
        }
    }

    /// Announces the lag when it grows past [`LAG_NOTICE`] and when it falls back below.
    fn note_lag(&self, lag: chrono::Duration) {
        let behind = lag >= LAG_NOTICE;
        let was_behind = self
            .behind
            .swap(behind, std::sync::atomic::Ordering::SeqCst);
        if behind != was_behind {
            let _ = self.out.send(DomainEvent::Link {
                state: "connected".into(),
                reason: behind.then(|| "catching up with the PBX".to_owned()),
                retry_in_secs: None,
                lag_ms: Some(lag.num_milliseconds().max(0) as u64),
            });
        }
    }

    /// The end of the backlog: announces it with the calls still live (first, so that a popup
    /// it brings does not wait behind the journal), then settles the parked calls first seen in
    /// the backlog.
    fn caught_up(&self, mark: CaughtUp, backlog: &mut Backlog) {
        backlog.late = false;
        let live = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot();
        let late_events = std::mem::take(&mut backlog.late_events);
        if late_events > 0 {
            tracing::info!(
                late_events,
                last_id = mark.last_id,
                "caught up with the relay"
            );
        }
        let parked = std::mem::take(&mut backlog.parked);
        let still_live: std::collections::HashSet<String> =
            live.iter().map(|c| c.leg.clone()).collect();
        let _ = self.out.send(DomainEvent::CaughtUp {
            last_id: mark.last_id,
            late_events,
            live,
        });
        self.settle_late(parked, mark.at, &still_live);
    }

    /// Parked calls first seen in the backlog. One still parked and, by the relay's clock (its
    /// receipt of the leg and its mark, `caught_up_at`), within its deadline is decided with
    /// the time left; the others are journalled as missed while offline, one after the other,
    /// with no call to the PBX. Without the relay's time a call's age is unknown, and it counts
    /// as missed.
    fn settle_late(
        &self,
        parked: Vec<ParkedCall>,
        caught_up_at: Option<chrono::DateTime<chrono::Utc>>,
        still_live: &std::collections::HashSet<String>,
    ) {
        let hook = self
            .parking
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(hook) = hook else { return };
        let mut missed = Vec::new();
        for call in parked {
            let still_parked = still_live.contains(call.leg.id.as_str());
            let waited = caught_up_at.and_then(|at| (at - call.received_at).to_std().ok());
            match waited {
                Some(waited) if still_parked && waited < hook.deadline => {
                    // The hook measures its deadline from `received_at` on the desktop's clock;
                    // "now less the wait by the relay's clock" leaves the clocks' difference out.
                    let waited = chrono::Duration::from_std(waited).unwrap_or_default();
                    let call = ParkedCall {
                        received_at: chrono::Utc::now() - waited,
                        ..call
                    };
                    self.decide(hook.clone(), call);
                }
                _ => missed.push((call, waited)),
            }
        }
        if missed.is_empty() {
            return;
        }
        let out = self.out.clone();
        tokio::spawn(async move {
            tracing::info!(
                calls = missed.len(),
                "parked calls rang while this app was away; journalled, nothing sent"
            );
            for (call, waited) in missed {
                let outcome = hook.missed_while_offline(call, waited).await;
                let _ = out.send(DomainEvent::Routed { outcome });
            }
        });
    }

    /// Hands a parked call to the routing hook, without waiting for the decision.
    fn decide(&self, hook: ParkingHook, parked: ParkedCall) {
        let out = self.out.clone();
        tokio::spawn(async move {
            let outcome = hook.decide(parked).await;
            tracing::info!(?outcome, "parked call decided");
            let _ = out.send(DomainEvent::Routed { outcome });
        });
    }

    /// The parked call a leg's first notification starts, with the hook to decide it: only
    /// in the router app, for the incoming `trying` of a parked number, once per call.
    fn parked_call(
        &self,
        call: &mtt_api::CallEvent,
        received_at: chrono::DateTime<chrono::Utc>,
    ) -> Option<(ParkingHook, ParkedCall)> {
        let hook = self
            .parking
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
        if call.state != mtt_api::CallState::Trying
            || call.direction != Some(mtt_api::Direction::Incoming)
        {
            return None;
        }
        let external = call
            .callee
            .as_ref()
            .and_then(|p| p.number())
            .map(str::to_owned)?;
        if !hook.is_parked(&external) {
            return None;
        }
        let caller_number = call
            .caller
            .as_ref()
            .and_then(|p| p.number())
            .map(str::to_owned);
        {
            let mut recent = self.recent_parked.lock().unwrap_or_else(|p| p.into_inner());
            recent.retain(|_, at| received_at - *at < PARKED_CALL_WINDOW);
            let key = (caller_number.clone().unwrap_or_default(), external.clone());
            if recent.contains_key(&key) {
                return None;
            }
            recent.insert(key, received_at);
        }
        let (Some(tag), Some(transport)) = (call.tag.clone(), call.transport_id.clone()) else {
            tracing::warn!(leg = %call.leg, "a parked call without tag or transport id cannot be routed");
            return None;
        };
        let leg = mtt_api::LegRef::new(call.leg.as_str(), tag, transport).ok()?;
        let parked = ParkedCall {
            leg,
            caller_name: call
                .caller
                .as_ref()
                .and_then(|p| p.name())
                .map(str::to_owned),
            caller_number,
            external_number: external,
            received_at,
        };
        Some((hook, parked))
    }

    async fn domain(&self, change: CallChange, late: bool) -> DomainEvent {
        match change {
            CallChange::Started(call) => {
                let summary = match &call.remote_number {
                    Some(number) => match self.log.screen_pop(number, Some(&call.leg)).await {
                        Ok(s) => Some(Box::new(s)),
                        Err(e) => {
                            tracing::warn!(error = %e, "no screen-pop summary");
                            None
                        }
                    },
                    None => None,
                };
                DomainEvent::CallStarted {
                    call,
                    summary,
                    late,
                }
            }
            CallChange::Updated(call) => DomainEvent::CallUpdated { call, late },
            CallChange::Ended { call, missed } => DomainEvent::CallEnded { call, missed, late },
            CallChange::Recorded { leg, url } => DomainEvent::CallRecorded { leg, url },
        }
    }
}
