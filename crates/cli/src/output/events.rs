//! `events` and `demo`: one JSON object per line, one per thing the core announces, told apart
//! by `kind`. camelCase, except an incoming call's `summary`, which is snake_case like the
//! history it comes from.

use chrono::{DateTime, Utc};
use companion::{DomainEvent, ErrorCode};
use serde::Serialize;

use super::contacts::Contact;
use super::history::{FollowUp, WrapUp, direction_word};
use super::routing::RoutingResult;

/// One announcement.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Event {
    /// A call started ringing (or, for click-to-call, the operator's phone did).
    #[serde(rename_all = "camelCase")]
    CallStarted {
        /// The call.
        call: LiveCall,
        /// What the history knows about the number; `null` when there is no number (boxed:
        /// it is much the largest part).
        summary: Option<Box<ScreenPop>>,
        /// It happened while the app was away (the relay's backlog).
        late: bool,
    },
    /// A live call changed.
    #[serde(rename_all = "camelCase")]
    CallUpdated {
        /// The call.
        call: LiveCall,
        /// It happened while the app was away.
        late: bool,
    },
    /// A call ended.
    #[serde(rename_all = "camelCase")]
    CallEnded {
        /// The call as it ended.
        call: LiveCall,
        /// An incoming call nobody answered.
        missed: bool,
        /// It happened while the app was away.
        late: bool,
    },
    /// The relay has sent what happened while the app was away; what follows is live.
    #[serde(rename_all = "camelCase")]
    CaughtUp {
        /// The relay's id of the last event it sent before.
        last_id: i64,
        /// How many call notifications came late before it.
        late_events: u64,
        /// The calls live now.
        live: Vec<LiveCall>,
    },
    /// A recording is ready.
    #[serde(rename_all = "camelCase")]
    CallRecorded {
        /// The leg.
        leg: String,
        /// The mp3's address.
        url: String,
    },
    /// The account's numbers or workplaces changed.
    #[serde(rename_all = "camelCase")]
    DirectoryChanged {
        /// What changed.
        what: String,
    },
    /// The relay link's health.
    #[serde(rename_all = "camelCase")]
    Link {
        /// `connected`, `reconnecting`, `offline` or `refused`.
        state: String,
        /// Why it is not connected.
        reason: Option<String>,
        /// Seconds until the next attempt.
        retry_in_secs: Option<f64>,
        /// How far behind the PBX the app is, when connected.
        lag_ms: Option<u64>,
    },
    /// The relay could not resume where asked; events before `resumeAfter` are not coming.
    #[serde(rename_all = "camelCase")]
    Resynced {
        /// Why.
        reason: String,
        /// Where the stream continues.
        resume_after: i64,
    },
    /// The sign-in state changed, or will lapse soon.
    #[serde(rename_all = "camelCase")]
    Session {
        /// Whether API calls can be made.
        signed_in: bool,
        /// When the access token expires.
        access_expires_at: Option<DateTime<Utc>>,
        /// When the sign-in lapses for good.
        refresh_expires_at: Option<DateTime<Utc>>,
        /// The sign-in lapses within 12 hours.
        renew_soon: bool,
    },
    /// A parked call was decided.
    #[serde(rename_all = "camelCase")]
    Routed {
        /// What was decided and how it went.
        outcome: Routed,
    },
    /// The team's server revoked this seat; with `deleteLocalData` its admin asked for the
    /// team's history and contacts to be deleted from this computer (a `trouble` event says
    /// how many were).
    #[serde(rename_all = "camelCase")]
    SeatRevoked {
        /// What the server said.
        reason: String,
        /// Revoked with `--delete-local-data`.
        delete_local_data: bool,
    },
    /// A call of mine ended and the settings want a wrap-up (`trubka note`, `trubka tag`).
    #[serde(rename_all = "camelCase")]
    WrapUpOffered {
        /// The call as it ended.
        call: LiveCall,
        /// What was saved for it already (snake_case, as `trubka note` prints it), or `null`.
        saved: Option<WrapUp>,
    },
    /// A colleague's wrap-up of their call reached this app (team mode, a supervisor's or an
    /// admin's) and is now that call's in the history.
    #[serde(rename_all = "camelCase")]
    ColleagueWrapUp {
        /// The leg.
        leg: String,
        /// Who wrote it (the colleague's seat name).
        author: String,
        /// The note.
        note: String,
        /// The tags.
        tags: Vec<String>,
        /// It came in the backlog, while the app was away.
        late: bool,
    },
    /// A follow-up a wrap-up asked for is due: call the number back. snake_case inside.
    #[serde(rename_all = "camelCase")]
    FollowUpDue {
        /// The follow-up.
        follow_up: FollowUp,
    },
    /// A colleague's presence or availability changed (team mode).
    #[serde(rename_all = "camelCase")]
    Colleague {
        /// The colleague's seat number.
        seat: i64,
        /// The seat's name.
        name: String,
        /// Their workplace (SIP ID).
        workplace: String,
        /// `free`, `ringing` or `talking`.
        presence: companion::team::Presence,
        /// `available`, `break`, `away` or `offline`.
        availability: companion::team::Availability,
    },
    /// The colleagues were read again from the team's server (after each catch-up).
    ColleaguesReloaded,
    /// A team phonebook sync changed the local copy (team mode).
    #[serde(rename_all = "camelCase")]
    TeamPhonebookChanged {
        /// The phonebook's version the copy now holds.
        version: i64,
    },
    /// Something failed that the operator should know about.
    #[serde(rename_all = "camelCase")]
    Trouble {
        /// The error code (`call_log`, `unreachable`, …).
        code: ErrorCode,
        /// What happened.
        message: String,
    },
}

impl From<&DomainEvent> for Event {
    fn from(e: &DomainEvent) -> Self {
        match e {
            DomainEvent::CallStarted {
                call,
                summary,
                late,
            } => Event::CallStarted {
                call: LiveCall::from(call),
                summary: summary.as_deref().map(|s| Box::new(ScreenPop::from(s))),
                late: *late,
            },
            DomainEvent::CallUpdated { call, late } => Event::CallUpdated {
                call: LiveCall::from(call),
                late: *late,
            },
            DomainEvent::CallEnded { call, missed, late } => Event::CallEnded {
                call: LiveCall::from(call),
                missed: *missed,
                late: *late,
            },
            DomainEvent::CaughtUp {
                last_id,
                late_events,
                live,
            } => Event::CaughtUp {
                last_id: *last_id,
                late_events: *late_events,
                live: live.iter().map(LiveCall::from).collect(),
            },
            DomainEvent::CallRecorded { leg, url } => Event::CallRecorded {
                leg: leg.clone(),
                url: url.clone(),
            },
            DomainEvent::DirectoryChanged { what } => {
                Event::DirectoryChanged { what: what.clone() }
            }
            DomainEvent::Link {
                state,
                reason,
                retry_in_secs,
                lag_ms,
            } => Event::Link {
                state: state.clone(),
                reason: reason.clone(),
                retry_in_secs: *retry_in_secs,
                lag_ms: *lag_ms,
            },
            DomainEvent::Resynced {
                reason,
                resume_after,
            } => Event::Resynced {
                reason: reason.clone(),
                resume_after: *resume_after,
            },
            DomainEvent::Session {
                signed_in,
                access_expires_at,
                refresh_expires_at,
                renew_soon,
            } => Event::Session {
                signed_in: *signed_in,
                access_expires_at: *access_expires_at,
                refresh_expires_at: *refresh_expires_at,
                renew_soon: *renew_soon,
            },
            DomainEvent::Routed { outcome } => Event::Routed {
                outcome: Routed::from(outcome),
            },
            DomainEvent::SeatRevoked {
                reason,
                delete_local_data,
            } => Event::SeatRevoked {
                reason: reason.clone(),
                delete_local_data: *delete_local_data,
            },
            DomainEvent::WrapUpOffered { call, saved } => Event::WrapUpOffered {
                call: LiveCall::from(call),
                saved: saved.as_ref().map(WrapUp::from),
            },
            DomainEvent::ColleagueWrapUp {
                leg,
                author,
                note,
                tags,
                late,
            } => Event::ColleagueWrapUp {
                leg: leg.clone(),
                author: author.clone(),
                note: note.clone(),
                tags: tags.clone(),
                late: *late,
            },
            DomainEvent::FollowUpDue { follow_up } => Event::FollowUpDue {
                follow_up: FollowUp::from(follow_up),
            },
            DomainEvent::Colleague { colleague } => Event::Colleague {
                seat: colleague.seat,
                name: colleague.name.clone(),
                workplace: colleague.workplace.clone(),
                presence: colleague.presence,
                availability: colleague.availability,
            },
            DomainEvent::ColleaguesReloaded => Event::ColleaguesReloaded,
            DomainEvent::TeamPhonebookChanged { version } => {
                Event::TeamPhonebookChanged { version: *version }
            }
            DomainEvent::Trouble { code, message } => Event::Trouble {
                code: *code,
                message: message.clone(),
            },
        }
    }
}

/// One live call leg.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveCall {
    /// The leg id (what `hangup` and `transfer` take).
    pub leg: String,
    /// The latest tag seen.
    pub tag: Option<String>,
    /// The latest transport id seen.
    pub transport_id: Option<String>,
    /// Which way it goes.
    pub direction: CallDirection,
    /// Where it stands.
    pub phase: CallPhase,
    /// The other side's number.
    pub remote_number: Option<String>,
    /// The other side's name as the PBX gave it.
    pub remote_name: Option<String>,
    /// The workplaces (and terminals) the leg has involved, sorted.
    pub workplaces: Vec<String>,
    /// Who answered, when someone did.
    pub answered_by: Option<String>,
    /// Whether the leg involves my workplace.
    pub mine: bool,
    /// Whose call it is when it is not mine (a supervisor in team mode sees the team's).
    pub whose: Option<Whose>,
    /// When the relay first saw the leg.
    pub started_at: DateTime<Utc>,
    /// When it was answered.
    pub connected_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// How long it lasted, in seconds.
    pub duration_secs: Option<u64>,
    /// Why it ended.
    pub end_reason: Option<String>,
}

impl From<&companion::LiveCall> for LiveCall {
    fn from(c: &companion::LiveCall) -> Self {
        LiveCall {
            leg: c.leg.clone(),
            tag: c.tag.clone(),
            transport_id: c.transport_id.clone(),
            direction: CallDirection::from(c.direction),
            phase: CallPhase::from(c.phase),
            remote_number: c.remote_number.clone(),
            remote_name: c.remote_name.clone(),
            workplaces: c.workplaces.iter().cloned().collect(),
            answered_by: c.answered_by.clone(),
            mine: c.mine,
            whose: c.whose.as_ref().map(|w| Whose {
                workplace: w.workplace.clone(),
                name: w.name.clone(),
            }),
            started_at: c.started_at,
            connected_at: c.connected_at,
            ended_at: c.ended_at,
            duration_secs: c.duration_secs,
            end_reason: c.end_reason.clone(),
        }
    }
}

/// A colleague's workplace that a call not mine involves.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Whose {
    /// The workplace's SIP ID.
    pub workplace: String,
    /// Its name in the directory, when the directory has one.
    pub name: Option<String>,
}

/// Which way a live call goes.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CallDirection {
    /// From outside to the account.
    Incoming,
    /// From the account outwards (click-to-call included).
    Outgoing,
    /// The PBX did not say.
    Unknown,
}

impl From<companion::CallDirection> for CallDirection {
    fn from(d: companion::CallDirection) -> Self {
        match d {
            companion::CallDirection::Incoming => CallDirection::Incoming,
            companion::CallDirection::Outgoing => CallDirection::Outgoing,
            companion::CallDirection::Unknown => CallDirection::Unknown,
        }
    }
}

/// Where a live call stands.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CallPhase {
    /// Click-to-call: the operator's own phone is ringing.
    PickUp,
    /// Click-to-call: the operator picked up and the number is being called.
    Calling,
    /// An incoming call is ringing.
    Ringing,
    /// The parties are talking.
    Connected,
    /// The leg has ended.
    Ended,
}

impl From<companion::CallPhase> for CallPhase {
    fn from(p: companion::CallPhase) -> Self {
        match p {
            companion::CallPhase::PickUp => CallPhase::PickUp,
            companion::CallPhase::Calling => CallPhase::Calling,
            companion::CallPhase::Ringing => CallPhase::Ringing,
            companion::CallPhase::Connected => CallPhase::Connected,
            companion::CallPhase::Ended => CallPhase::Ended,
        }
    }
}

/// What the history knows about a calling number. snake_case.
#[derive(Debug, Serialize)]
pub struct ScreenPop {
    /// The number as the PBX gave it.
    pub number: String,
    /// Its matching key.
    pub key: Option<String>,
    /// The phonebook entry, if any.
    pub contact: Option<Contact>,
    /// Calls with this number before this one.
    pub earlier_calls: i64,
    /// The last of them.
    pub last_call: Option<LastCall>,
    /// The workplace that last talked to this number.
    pub last_operator: Option<String>,
    /// The latest wrap-up with a note or tags about this number.
    pub last_wrapup: Option<WrapUp>,
}

impl From<&call_log::ScreenPop> for ScreenPop {
    fn from(s: &call_log::ScreenPop) -> Self {
        ScreenPop {
            number: s.number.clone(),
            key: s.key.clone(),
            contact: s.contact.as_ref().map(Contact::from),
            earlier_calls: s.earlier_calls,
            last_call: s.last_call.as_ref().map(|l| LastCall {
                at: l.at,
                direction: l.direction.as_ref().map(direction_word),
                outcome: CallOutcome::from(l.outcome),
                duration_secs: l.duration_secs,
            }),
            last_operator: s.last_operator.clone(),
            last_wrapup: s.last_wrapup.as_ref().map(WrapUp::from),
        }
    }
}

/// The last call with a number. snake_case.
#[derive(Debug, Serialize)]
pub struct LastCall {
    /// When it started.
    pub at: DateTime<Utc>,
    /// `incoming`, `outgoing`, another word the PBX used, or `null`.
    pub direction: Option<String>,
    /// How it went.
    pub outcome: CallOutcome,
    /// Its talk duration in seconds.
    pub duration_secs: Option<i64>,
}

/// How a call went, in a word.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Someone answered.
    Answered,
    /// An incoming call nobody answered.
    Missed,
    /// The routing handed it on.
    Routed,
    /// An outgoing call the other side did not answer.
    NotAnswered,
    /// Still ringing or talking.
    InProgress,
}

impl From<call_log::CallOutcome> for CallOutcome {
    fn from(o: call_log::CallOutcome) -> Self {
        match o {
            call_log::CallOutcome::Answered => CallOutcome::Answered,
            call_log::CallOutcome::Missed => CallOutcome::Missed,
            call_log::CallOutcome::Routed => CallOutcome::Routed,
            call_log::CallOutcome::NotAnswered => CallOutcome::NotAnswered,
            call_log::CallOutcome::InProgress => CallOutcome::InProgress,
        }
    }
}

/// What happened to a parked call.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Routed {
    /// The parking leg.
    pub leg: String,
    /// Who called.
    pub caller_number: Option<String>,
    /// The parked external number called.
    pub external_number: String,
    /// What was decided.
    pub choice: RoutingChoice,
    /// How it ended.
    pub result: RoutingResult,
    /// Whether the decision reached the PBX within the deadline.
    pub in_time: bool,
    /// Milliseconds from the leg's arrival at the relay to the API's answer.
    pub elapsed_ms: u64,
    /// The deadline it had.
    pub deadline_ms: u64,
    /// The API's refusal, if it refused.
    pub error: Option<String>,
    /// Why it went this way, in words.
    pub detail: Option<String>,
    /// When the decision was carried out.
    pub decided_at: DateTime<Utc>,
}

impl From<&companion::RoutingOutcome> for Routed {
    fn from(o: &companion::RoutingOutcome) -> Self {
        Routed {
            leg: o.leg.clone(),
            caller_number: o.caller_number.clone(),
            external_number: o.external_number.clone(),
            choice: match &o.choice {
                companion::RoutingChoice::Transfer { to, rule } => RoutingChoice::Transfer {
                    to: to.clone(),
                    rule: rule.clone(),
                },
                companion::RoutingChoice::Release { rule } => {
                    RoutingChoice::Release { rule: rule.clone() }
                }
            },
            result: RoutingResult::from(o.result),
            in_time: o.in_time,
            elapsed_ms: o.elapsed_ms,
            deadline_ms: o.deadline_ms,
            error: o.error.clone(),
            detail: o.detail.clone(),
            decided_at: o.decided_at,
        }
    }
}

/// What the routing chose, by its `action`.
#[derive(Debug, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum RoutingChoice {
    /// Transfer the call.
    #[serde(rename_all = "camelCase")]
    Transfer {
        /// Where to.
        to: String,
        /// Which rule chose it.
        rule: String,
    },
    /// Release the call to the cabinet's routing.
    #[serde(rename_all = "camelCase")]
    Release {
        /// Which rule chose it.
        rule: String,
    },
}
