//! The team's wrap-ups through the seat API (`team_api::wrapup`): a seat's note and tags go to
//! the relay, the team's tags come from it, and what the team wrote about a number is read
//! for its popup. A supervisor's (or admin's) stream also carries each colleague's save
//! (`wrapup` events), kept in the call log as that leg's wrap-up so History shows it.

use call_log::{CallLog, ColleagueWrapUp};
use team_api::wrapup::{TeamTags, TeamWrapUps, WrapUpEvent, WrapUpRequest, WrapUpSaved};

use super::TeamClient;
use crate::error::CompanionError;

impl TeamClient {
    /// Sends the seat's wrap-up of a call to the team's server.
    pub async fn save_wrapup(
        &self,
        request: &WrapUpRequest,
    ) -> Result<WrapUpSaved, CompanionError> {
        self.put("team/wrapups", request).await
    }

    /// The team's tags, and whether an answered call must carry one.
    pub async fn team_tags(&self) -> Result<TeamTags, CompanionError> {
        self.get("team/tags").await
    }

    /// What the team wrote lately about `number` (a matching key), newest first.
    pub async fn wrapups_for(&self, number: &str) -> Result<TeamWrapUps, CompanionError> {
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        self.get(&format!("team/wrapups?number={digits}")).await
    }
}

/// Keeps a colleague's wrap-up from the stream (a `wrapup` event's body) in the call log, unless
/// it is this seat's own (`own_seat`: the app has its own save, with its follow-up) or the log
/// holds a save as new or newer. Answers the event when it was kept, to announce; a body that
/// does not read or that the log refuses is logged and left aside (its raw event stays).
pub async fn keep_colleague_wrapup(
    log: &CallLog,
    body: serde_json::Value,
    own_seat: i64,
) -> Option<WrapUpEvent> {
    let event: WrapUpEvent = match serde_json::from_value(body) {
        Ok(event) => event,
        Err(e) => {
            tracing::warn!(error = %e, "a colleague's wrap-up from the team's server does not read");
            return None;
        }
    };
    if event.seat_id == own_seat {
        return None;
    }
    let wrapup = ColleagueWrapUp {
        leg: event.leg_id.clone(),
        number: Some(event.number.clone()).filter(|n| !n.is_empty()),
        note: event.note.clone(),
        tags: event.tags.clone(),
        saved_at: event.saved_at,
    };
    match log.keep_colleague_wrapup(wrapup).await {
        Ok(true) => Some(event),
        Ok(false) => None,
        Err(e) => {
            tracing::warn!(error = %e, leg = %event.leg_id, "a colleague's wrap-up could not be kept");
            None
        }
    }
}
