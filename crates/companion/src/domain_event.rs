//! What the core tells its faces (the window, the CLI): the domain events the pipeline and the
//! core announce, and the link's latest state for a face that asks rather than listens.

use call_log::{FollowUp, ScreenPop, WrapUp};
use serde::Serialize;

use crate::error::ErrorCode;
use crate::link::LinkStatus;
use crate::live::LiveCall;
use crate::routing::RoutingOutcome;
use crate::team::TeamColleague;

/// After this many failed reconnects in a row the link reads as offline rather than reconnecting.
const OFFLINE_AFTER_ATTEMPTS: u32 = 3;

/// What the core tells its faces (the window, the CLI).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DomainEvent {
    /// A call started ringing, with what the log knows about the number.
    #[serde(rename_all = "camelCase")]
    CallStarted {
        /// The call.
        call: LiveCall,
        /// Who this number is and how earlier calls went (boxed: it is much the largest part).
        summary: Option<Box<ScreenPop>>,
        /// It happened while this app was away (the relay's backlog): nothing pops up for it
        /// now; if it still rings at [`DomainEvent::CaughtUp`], it pops up then.
        late: bool,
    },
    /// A live call changed.
    #[serde(rename_all = "camelCase")]
    CallUpdated {
        /// The call.
        call: LiveCall,
        /// It happened while this app was away: it raises nothing.
        late: bool,
    },
    /// A call ended.
    #[serde(rename_all = "camelCase")]
    CallEnded {
        /// The call.
        call: LiveCall,
        /// An incoming call nobody answered.
        missed: bool,
        /// It happened while this app was away: no missed-call notification.
        late: bool,
    },
    /// A recording is ready.
    #[serde(rename_all = "camelCase")]
    CallRecorded {
        /// The leg.
        leg: String,
        /// The mp3's address.
        url: String,
    },
    /// The account's numbers or workplaces changed; the directory is being re-read.
    #[serde(rename_all = "camelCase")]
    DirectoryChanged {
        /// What changed.
        what: String,
    },
    /// The relay link's health.
    #[serde(rename_all = "camelCase")]
    Link {
        /// `connected`, `reconnecting` (the first few attempts), `offline` (still failing after
        /// them) or `refused` (the relay does not accept this app's key).
        state: String,
        /// Why it is not connected.
        reason: Option<String>,
        /// Seconds until the next attempt.
        retry_in_secs: Option<f64>,
        /// How far behind the PBX the app is: from the relay's receipt of the newest event
        /// applied to its announcement, when connected.
        lag_ms: Option<u64>,
    },
    /// The relay has sent everything that happened while this app was away (the backlog); from
    /// here on events are live. Comes once per connection to the relay.
    #[serde(rename_all = "camelCase")]
    CaughtUp {
        /// The relay's id of the backlog's last event.
        last_id: i64,
        /// How many call notifications (and colleagues' wrap-ups) were announced late before it.
        late_events: u64,
        /// The calls live now: one still ringing gets its popup now, as if it had just started.
        live: Vec<LiveCall>,
    },
    /// The relay could not resume where asked; events before `resume_after` are not coming.
    #[serde(rename_all = "camelCase")]
    Resynced {
        /// Why.
        reason: String,
        /// Where the stream continues.
        resume_after: i64,
    },
    /// The sign-in state: after sign-in and sign-out, when MTT stops accepting the sign-in, and
    /// when it will lapse soon.
    #[serde(rename_all = "camelCase")]
    Session {
        /// Whether API calls can be made.
        signed_in: bool,
        /// When the access token expires (it is renewed by itself).
        access_expires_at: Option<chrono::DateTime<chrono::Utc>>,
        /// When the sign-in lapses for good.
        refresh_expires_at: Option<chrono::DateTime<chrono::Utc>>,
        /// The sign-in lapses within 12 hours: sign in again soon.
        renew_soon: bool,
    },
    /// A parked call was decided.
    #[serde(rename_all = "camelCase")]
    Routed {
        /// What was decided and how it went.
        outcome: RoutingOutcome,
    },
    /// The team's server revoked this seat (the link has also said `revoked`); the admin may
    /// have asked for the team's history and contacts to be deleted from this computer.
    #[serde(rename_all = "camelCase")]
    SeatRevoked {
        /// What the server said.
        reason: String,
        /// Revoked with `--delete-local-data`.
        delete_local_data: bool,
    },
    /// A call of mine ended and the settings want a wrap-up for it (note, tags, follow-up).
    #[serde(rename_all = "camelCase")]
    WrapUpOffered {
        /// The call that ended.
        call: LiveCall,
        /// What was saved for it already (from another face), if anything.
        saved: Option<WrapUp>,
    },
    /// A colleague's wrap-up of their call reached this app (team mode, a supervisor's or an
    /// admin's) and is now that call's in the history.
    #[serde(rename_all = "camelCase")]
    ColleagueWrapUp {
        /// The leg.
        leg: String,
        /// Who wrote it: the colleague's seat name.
        author: String,
        /// The note.
        note: String,
        /// The tags.
        tags: Vec<String>,
        /// It came in the backlog (while this app was away): the history is re-read once at
        /// [`DomainEvent::CaughtUp`] instead.
        late: bool,
    },
    /// A follow-up a wrap-up asked for is due: call the number back.
    #[serde(rename_all = "camelCase")]
    FollowUpDue {
        /// The follow-up.
        follow_up: FollowUp,
    },
    /// A colleague's presence or availability changed (team mode).
    Colleague {
        /// The colleague as they now stand.
        colleague: TeamColleague,
    },
    /// The colleagues were read again from the team's server: re-read them all.
    ColleaguesReloaded,
    /// A sync of the team phonebook changed the call log's copy (an edit elsewhere, or a
    /// catch-up): a screen listing contacts reads them again. Once per sync that applied
    /// anything.
    #[serde(rename_all = "camelCase")]
    TeamPhonebookChanged {
        /// The phonebook's version the copy now holds.
        version: i64,
    },
    /// Something failed that the operator should know about.
    #[serde(rename_all = "camelCase")]
    Trouble {
        /// A stable code.
        code: ErrorCode,
        /// What happened.
        message: String,
    },
}

impl DomainEvent {
    pub(crate) fn link(status: &LinkStatus) -> Self {
        match status {
            LinkStatus::Connected => DomainEvent::Link {
                state: "connected".into(),
                reason: None,
                retry_in_secs: None,
                lag_ms: None,
            },
            LinkStatus::Reconnecting {
                attempt,
                retry_in,
                reason,
            } => DomainEvent::Link {
                state: if *attempt > OFFLINE_AFTER_ATTEMPTS {
                    "offline".into()
                } else {
                    "reconnecting".into()
                },
                reason: Some(reason.clone()),
                retry_in_secs: Some(retry_in.as_secs_f64()),
                lag_ms: None,
            },
            LinkStatus::Refused { reason } => DomainEvent::Link {
                state: "refused".into(),
                reason: Some(reason.clone()),
                retry_in_secs: None,
                lag_ms: None,
            },
            LinkStatus::Revoked { reason, .. } => DomainEvent::Link {
                state: "revoked".into(),
                reason: Some(reason.clone()),
                retry_in_secs: None,
                lag_ms: None,
            },
        }
    }
}

/// The relay link's latest state, for a face that asks rather than listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkHealth {
    /// `connected`, `reconnecting`, `offline` or `refused`.
    pub state: String,
    /// Why it is not connected, or that it is catching up.
    pub reason: Option<String>,
}
