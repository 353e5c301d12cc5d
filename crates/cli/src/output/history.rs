//! `history` and `callbacks`. snake_case.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// `history`: one call leg.
#[derive(Debug, Serialize)]
pub struct CallRow {
    /// The row id, stable for the life of the row.
    pub id: i64,
    /// The PBX's leg id (what `hangup` and `transfer` take).
    pub leg: String,
    /// `incoming`, `outgoing`, another word the PBX used, or `null` when it did not say.
    pub direction: Option<String>,
    /// The furthest state the leg reached, as the PBX names it (`trying`, `showing`,
    /// `connected`, `hiding`, `finished`, `recorded`, or another word it used).
    pub state: String,
    /// Party A's number as shown.
    pub caller_number: Option<String>,
    /// Party A's name, when the PBX gave one.
    pub caller_name: Option<String>,
    /// Party B's number as shown.
    pub callee_number: Option<String>,
    /// Party B's name, when the PBX gave one.
    pub callee_name: Option<String>,
    /// The number outside the company, as shown.
    pub peer_number: Option<String>,
    /// The same, normalised for matching.
    pub peer_key: Option<String>,
    /// The company's external number that was dialled or shown.
    pub line_number: Option<String>,
    /// The phonebook name of the peer, if the phonebook knows the number.
    pub contact_name: Option<String>,
    /// When the relay received the leg's first event.
    pub started_at: DateTime<Utc>,
    /// The PBX's `startTime`, exactly as sent.
    pub pbx_start_raw: Option<String>,
    /// The PBX's `startTime` read in the PBX's zone.
    pub pbx_start: Option<DateTime<Utc>>,
    /// When the leg was first reported connected.
    pub answered_at: Option<DateTime<Utc>>,
    /// The workplace SIP ID that answered, when the event named one.
    pub answered_by: Option<String>,
    /// When the leg was reported finished.
    pub ended_at: Option<DateTime<Utc>>,
    /// The talk duration the PBX reported, in seconds.
    pub duration_secs: Option<i64>,
    /// Why the call ended, as the PBX wrote it.
    pub end_reason: Option<String>,
    /// The end reason's code, as text.
    pub end_reason_code: Option<String>,
    /// The recording's address.
    pub recording_url: Option<String>,
    /// Where Trubka's routing transferred the leg.
    pub transfer_target: Option<String>,
    /// An incoming leg that ended unanswered and was not handed on by the routing.
    pub missed: bool,
    /// For a missed call: whether the number has since been reached by a connected call.
    pub called_back: bool,
    /// The leg's tag.
    pub tag: Option<String>,
    /// The leg's transport id.
    pub transport_id: Option<String>,
    /// The operator's wrap-up note, empty when none.
    pub note: String,
    /// The operator's wrap-up tags, in the order given.
    pub tags: Vec<String>,
    /// When the wrap-up asked to call the number back.
    pub follow_up_at: Option<DateTime<Utc>>,
}

impl From<&call_log::CallRecord> for CallRow {
    fn from(r: &call_log::CallRecord) -> Self {
        CallRow {
            id: r.id,
            leg: r.leg.clone(),
            direction: r.direction.as_ref().map(direction_word),
            state: r.state.as_wire().to_owned(),
            caller_number: r.caller_number.clone(),
            caller_name: r.caller_name.clone(),
            callee_number: r.callee_number.clone(),
            callee_name: r.callee_name.clone(),
            peer_number: r.peer_number.clone(),
            peer_key: r.peer_key.clone(),
            line_number: r.line_number.clone(),
            contact_name: r.contact_name.clone(),
            started_at: r.started_at,
            pbx_start_raw: r.pbx_start_raw.clone(),
            pbx_start: r.pbx_start,
            answered_at: r.answered_at,
            answered_by: r.answered_by.clone(),
            ended_at: r.ended_at,
            duration_secs: r.duration_secs,
            end_reason: r.end_reason.clone(),
            end_reason_code: r.end_reason_code.clone(),
            recording_url: r.recording_url.clone(),
            transfer_target: r.transfer_target.clone(),
            missed: r.missed,
            called_back: r.called_back,
            tag: r.tag.clone(),
            transport_id: r.transport_id.clone(),
            note: r.note.clone(),
            tags: r.wrapup_tags.clone(),
            follow_up_at: r.follow_up_at,
        }
    }
}

/// A call's direction as one word: the PBX's own for one the document does not list.
pub(super) fn direction_word(direction: &mtt_api::Direction) -> String {
    match direction {
        mtt_api::Direction::Incoming => "incoming".to_owned(),
        mtt_api::Direction::Outgoing => "outgoing".to_owned(),
        mtt_api::Direction::Other(word) => word.clone(),
    }
}

/// `callbacks`: a number with missed calls not yet returned.
#[derive(Debug, Serialize)]
pub struct Callback {
    /// The number as last shown.
    pub number: Option<String>,
    /// Its matching key.
    pub key: String,
    /// The phonebook name, if known.
    pub contact_name: Option<String>,
    /// The name the PBX showed with the latest missed call that had one.
    pub pbx_name: Option<String>,
    /// Missed calls from it not yet returned.
    pub missed_calls: i64,
    /// The latest of them.
    pub last_missed_at: DateTime<Utc>,
}

impl From<&call_log::CallbackEntry> for Callback {
    fn from(c: &call_log::CallbackEntry) -> Self {
        Callback {
            number: c.number.clone(),
            key: c.key.clone(),
            contact_name: c.contact_name.clone(),
            pbx_name: c.pbx_name.clone(),
            missed_calls: c.missed_calls,
            last_missed_at: c.last_missed_at,
        }
    }
}

/// `note`, `tag`, and the wrap-up of an event: a call's note, tags and follow-up.
#[derive(Debug, Serialize)]
pub struct WrapUp {
    /// The call's leg id.
    pub leg: String,
    /// The note, empty when none.
    pub note: String,
    /// The tags, in the order given.
    pub tags: Vec<String>,
    /// When to call the number back.
    pub follow_up_at: Option<DateTime<Utc>>,
    /// When it was last saved.
    pub saved_at: DateTime<Utc>,
}

impl From<&call_log::WrapUp> for WrapUp {
    fn from(w: &call_log::WrapUp) -> Self {
        WrapUp {
            leg: w.leg.clone(),
            note: w.note.clone(),
            tags: w.tags.clone(),
            follow_up_at: w.follow_up_at,
            saved_at: w.saved_at,
        }
    }
}

/// A follow-up that fell due (in `events`).
#[derive(Debug, Serialize)]
pub struct FollowUp {
    /// The leg whose wrap-up asked for it.
    pub leg: String,
    /// The number to call, as shown.
    pub number: Option<String>,
    /// The phonebook name, if known.
    pub contact_name: Option<String>,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// The wrap-up's note.
    pub note: String,
    /// The wrap-up's tags.
    pub tags: Vec<String>,
}

impl From<&call_log::FollowUp> for FollowUp {
    fn from(f: &call_log::FollowUp) -> Self {
        FollowUp {
            leg: f.leg.clone(),
            number: f.number.clone(),
            contact_name: f.contact_name.clone(),
            due_at: f.due_at,
            note: f.note.clone(),
            tags: f.tags.clone(),
        }
    }
}
