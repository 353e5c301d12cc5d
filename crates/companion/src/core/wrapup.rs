//! After-call wrap-ups in the core: offering one when a call of mine ends, saving it, and
//! raising a follow-up's notification when it falls due.
//!
//! The offer follows the core's own domain events (a `CallEnded` that is mine and not late), so
//! the pipeline stays as it is and the offer always comes after the call's end. Follow-ups are
//! checked every `FollowUpSchedule::every`; each one due and not yet notified is announced once
//! (`DomainEvent::FollowUpDue`) and marked in the call log, so a restart does not raise it again.
//!
//! In team mode a wrap-up is marked unsent in the call log before it goes to the team's server
//! and the mark is cleared once the server has that save; at each check, and when the link to
//! the relay catches up, the marked ones are sent again (the server keeps one wrap-up per seat
//! and leg, so sending one twice is harmless). One sending at a time, so an older save sent
//! again never lands after a newer one.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use call_log::{CallLog, FollowUp, UnsentWrapUp, WrapUp, WrapUpEdit};
use chrono::{DateTime, Utc};
use team_api::wrapup::WrapUpRequest;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::Companion;
use crate::error::CompanionError;
use crate::pipeline::DomainEvent;
use crate::settings::Settings;
use crate::team::TeamClient;
use crate::wrapup::{WrapUpTagChoices, offers_wrapup};

/// How many ended calls' numbers are remembered for the wrap-ups saved after them.
const REMEMBERED_CALLS: usize = 64;
/// The most open follow-ups read at once.
const FOLLOW_UPS_READ: usize = 500;
/// The most unsent team wrap-ups sent again in one go (the rest at the next check).
const UNSENT_READ: usize = 100;

/// Held while wrap-ups go to the team's server: one sending at a time (an async lock, as it is
/// held across the request).
#[derive(Debug, Default)]
pub(super) struct TeamWrapUpSending(tokio::sync::Mutex<()>);

/// Whether a failed sending is worth trying again later: the server could not be reached or
/// could not keep it now. Anything else (a refusal of its content, a revoked seat) would fail
/// the same way every time; the wrap-up stays on this computer only.
fn worth_sending_again(error: &CompanionError) -> bool {
    match error {
        CompanionError::RelayUnreachable(_) => true,
        CompanionError::TeamRefused { code, .. } => {
            code == "unavailable" || code.starts_with("http_5")
        }
        _ => false,
    }
}

/// The request that sends a wrap-up to the team's server.
fn team_request(wrapup: &WrapUp, number: String, answered: bool) -> WrapUpRequest {
    WrapUpRequest {
        leg_id: wrapup.leg.clone(),
        number,
        note: wrapup.note.clone(),
        tags: wrapup.tags.clone(),
        answered,
    }
}

/// Sends the wrap-ups marked unsent, oldest first, clearing each mark as the server takes it;
/// stops at the first that is worth sending again later. Returns how many the server took.
async fn send_unsent(log: &CallLog, client: &TeamClient, sending: &TeamWrapUpSending) -> usize {
    let _one_at_a_time = sending.0.lock().await;
    let unsent = match log.wrapups_team_unsent(UNSENT_READ).await {
        Ok(unsent) => unsent,
        Err(e) => {
            tracing::warn!(error = %e, "reading the wrap-ups the team's server missed");
            return 0;
        }
    };
    let mut sent = 0;
    for UnsentWrapUp {
        wrapup,
        number,
        answered,
    } in unsent
    {
        let outcome = match number {
            Some(number) => client
                .save_wrapup(&team_request(&wrapup, number, answered))
                .await
                .map(|_| ()),
            None => Err(CompanionError::InvalidInput(
                "the wrap-up's call has no number".into(),
            )),
        };
        match outcome {
            Ok(()) => sent += 1,
            Err(e) if worth_sending_again(&e) => {
                tracing::info!(error = %e, "the team's server still misses wrap-ups");
                return sent;
            }
            Err(e) => {
                tracing::warn!(leg = %wrapup.leg, error = %e, "a wrap-up stays on this computer only");
            }
        }
        if let Err(e) = log
            .mark_wrapup_team_sent(&wrapup.leg, wrapup.saved_at)
            .await
        {
            tracing::warn!(error = %e, "marking a wrap-up sent to the team");
            return sent;
        }
    }
    if sent > 0 {
        tracing::info!(sent, "wrap-ups the team's server missed were sent");
    }
    sent
}

/// How often follow-ups are checked.
#[derive(Debug, Clone, Copy)]
pub struct FollowUpSchedule {
    /// The wait between two checks.
    pub every: Duration,
}

impl Default for FollowUpSchedule {
    fn default() -> Self {
        FollowUpSchedule {
            every: Duration::from_secs(20),
        }
    }
}

/// The numbers of my calls that ended lately, by leg, and whether each was answered: a
/// wrap-up saved for one carries its number, so its follow-up and the next popup find it before
/// the leg's row exists (and the team's server is told whether the call was answered).
#[derive(Debug, Default)]
pub(super) struct EndedNumbers(Mutex<VecDeque<(String, String, bool)>>);

impl EndedNumbers {
    fn remember(&self, leg: &str, number: &str, answered: bool) {
        let mut calls = self.0.lock().unwrap_or_else(|p| p.into_inner());
        calls.retain(|(l, _, _)| l != leg);
        calls.push_back((leg.to_owned(), number.to_owned(), answered));
        while calls.len() > REMEMBERED_CALLS {
            calls.pop_front();
        }
    }

    fn call(&self, leg: &str) -> Option<(String, bool)> {
        let calls = self.0.lock().unwrap_or_else(|p| p.into_inner());
        calls
            .iter()
            .find(|(l, _, _)| l == leg)
            .map(|(_, number, answered)| (number.clone(), *answered))
    }
}

/// What the wrap-up task needs from the core.
pub(super) struct WrapUpTask {
    pub log: CallLog,
    pub settings: Arc<RwLock<Settings>>,
    pub events: broadcast::Sender<DomainEvent>,
    pub ended: Arc<EndedNumbers>,
    /// The seat's client of its team server, once the core has read it (team mode only).
    pub team_client: Arc<RwLock<Option<TeamClient>>>,
    pub team_wrapups: Arc<TeamWrapUpSending>,
    pub schedule: FollowUpSchedule,
    pub cancel: CancellationToken,
}

impl WrapUpTask {
    /// Runs until cancelled.
    pub async fn run(self) {
        let mut heard = self.events.subscribe();
        let mut tick = tokio::time::interval(self.schedule.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                _ = tick.tick() => {
                    self.raise_due(Utc::now()).await;
                    self.send_unsent().await;
                }
                event = heard.recv() => match event {
                    Ok(DomainEvent::CaughtUp { .. }) => self.send_unsent().await,
                    Ok(DomainEvent::CallEnded { call, late, .. }) => {
                        if let Some(number) = call.remote_number.as_deref().filter(|_| call.mine) {
                            self.ended.remember(&call.leg, number, call.connected_at.is_some());
                        }
                        let offer = self
                            .settings
                            .read()
                            .unwrap_or_else(|p| p.into_inner())
                            .wrapup
                            .offer;
                        if offers_wrapup(offer, &call, late) {
                            let saved = self.log.wrapup(&call.leg).await.unwrap_or_else(|e| {
                                tracing::warn!(error = %e, "reading a saved wrap-up");
                                None
                            });
                            let _ = self.events.send(DomainEvent::WrapUpOffered { call, saved });
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the wrap-up offer fell behind the core's events");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }

    /// Team mode: sends again the wrap-ups the team's server missed.
    async fn send_unsent(&self) {
        let client = self
            .team_client
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(client) = client {
            send_unsent(&self.log, &client, &self.team_wrapups).await;
        }
    }

    /// Announces each follow-up due at `now` that was not announced before, and marks it.
    async fn raise_due(&self, now: DateTime<Utc>) {
        let open = match self.log.follow_ups(FOLLOW_UPS_READ).await {
            Ok(open) => open,
            Err(e) => {
                tracing::warn!(error = %e, "reading follow-ups");
                return;
            }
        };
        let due: Vec<FollowUp> = open
            .into_iter()
            .filter(|f| !f.notified && f.due_at <= now)
            .collect();
        if due.is_empty() {
            return;
        }
        let legs = due.iter().map(|f| f.leg.clone()).collect();
        // Marked first: a notification lost to a crash is better than one raised on every start.
        if let Err(e) = self.log.mark_follow_ups_notified(legs, now).await {
            tracing::warn!(error = %e, "marking follow-ups notified");
            return;
        }
        for follow_up in due {
            let _ = self.events.send(DomainEvent::FollowUpDue { follow_up });
        }
    }
}

impl Companion {
    /// Saves a change to a call's wrap-up (note, tags, follow-up). A call of mine that ended
    /// lately gives the wrap-up its number, so the follow-up and the next popup for the number
    /// find it even before the call's row is in the log. Bad input is refused with what was
    /// wrong, and nothing is saved.
    ///
    /// In team mode the note and tags also go to the team's server, after they are saved here
    /// (so nothing is lost when it cannot be reached: that is announced as trouble, and the
    /// wrap-up is sent when the server can be reached again). A refusal
    /// by the server (a required tag missing) is answered as the error, so the wrap-up stays
    /// open for the operator to add one.
    pub async fn save_wrapup(
        &self,
        leg: &str,
        mut edit: WrapUpEdit,
    ) -> Result<WrapUp, CompanionError> {
        let ended = self.ended.call(leg.trim());
        if edit.peer_number.is_none() {
            edit.peer_number = ended.as_ref().map(|(number, _)| number.clone());
        }
        let saved = self.log.save_wrapup(leg, edit).await?;
        if let Some(client) = self.team_client().await? {
            let row = self.log.call(&saved.leg).await?;
            let number = ended
                .as_ref()
                .map(|(number, _)| number.clone())
                .or_else(|| row.as_ref().and_then(|r| r.peer_number.clone()));
            let answered = ended.as_ref().is_some_and(|(_, answered)| *answered)
                || row.as_ref().is_some_and(|r| r.answered_at.is_some());
            let Some(number) = number else {
                tracing::warn!(leg = %saved.leg, "a wrap-up without a number stays on this computer");
                return Ok(saved);
            };
            // Marked before it is sent: a crash or a server that cannot be reached leaves the
            // mark, and it is sent again when the server can be reached.
            self.log
                .mark_wrapup_team_unsent(&saved.leg, answered)
                .await?;
            let request = team_request(&saved, number, answered);
            let result = {
                let _one_at_a_time = self.team_wrapups.0.lock().await;
                let result = self.team_checked(client.save_wrapup(&request).await).await;
                if result.is_ok() || result.as_ref().is_err_and(|e| !worth_sending_again(e)) {
                    self.log
                        .mark_wrapup_team_sent(&saved.leg, saved.saved_at)
                        .await?;
                }
                result
            };
            match result {
                Ok(_) => {
                    // The link works: anything missed earlier goes too.
                    send_unsent(&self.log, &client, &self.team_wrapups).await;
                }
                Err(e) if worth_sending_again(&e) => {
                    let _ = self.events.send(DomainEvent::Trouble {
                        code: e.code(),
                        message: format!(
                            "the note is saved on this computer; the team server did not get it yet and it is sent when the server can be reached ({e})"
                        ),
                    });
                }
                Err(refused) => return Err(refused),
            }
        }
        Ok(saved)
    }

    /// In team mode, the team's latest wrap-up with a note or tags about `number` (what a
    /// colleague, or this seat, wrote), other than the leg `except_leg` (the call ringing now):
    /// the popup shows it. `None` in personal mode, and when the server cannot say (the popup
    /// keeps what this computer knows).
    pub async fn team_wrapup_for(
        &self,
        number: &str,
        except_leg: &str,
    ) -> Result<Option<WrapUp>, CompanionError> {
        let Some(client) = self.team_client().await? else {
            return Ok(None);
        };
        let found = match self.team_checked(client.wrapups_for(number).await).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(error = %e, "the team's wrap-ups could not be read");
                return Ok(None);
            }
        };
        Ok(found
            .wrapups
            .into_iter()
            .find(|w| w.leg_id != except_leg && (!w.note.trim().is_empty() || !w.tags.is_empty()))
            .map(|w| WrapUp {
                leg: w.leg_id,
                note: w.note,
                tags: w.tags,
                follow_up_at: None,
                saved_at: w.saved_at,
            }))
    }

    /// A call's wrap-up, if one was saved.
    pub async fn wrapup(&self, leg: &str) -> Result<Option<WrapUp>, CompanionError> {
        Ok(self.log.wrapup(leg).await?)
    }

    /// Open follow-ups, soonest first.
    pub async fn follow_ups(&self, limit: usize) -> Result<Vec<FollowUp>, CompanionError> {
        Ok(self.log.follow_ups(limit).await?)
    }

    /// The tags to offer: the settings' list (in team mode the team's, with its "required"),
    /// then the other tags used on calls so far. A team server that cannot be reached leaves
    /// the settings' list, required by nobody.
    pub async fn wrapup_tags(&self) -> Result<WrapUpTagChoices, CompanionError> {
        let mut choices = WrapUpTagChoices {
            tags: self.settings().wrapup.tags,
            required: false,
        };
        if let Some(client) = self.team_client().await? {
            match self.team_checked(client.team_tags().await).await {
                Ok(team) => {
                    choices.tags = team.tags;
                    choices.required = team.required;
                }
                Err(e) => tracing::warn!(error = %e, "the team's tags could not be read"),
            }
        }
        for used in self.log.tags_in_use(200).await? {
            if !choices
                .tags
                .iter()
                .any(|t| t.to_lowercase() == used.to_lowercase())
            {
                choices.tags.push(used);
            }
        }
        Ok(choices)
    }
}
