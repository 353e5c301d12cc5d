//! The seat API: what a seat asks the relay to do at the PBX, and what it is answered.
//!
//! Every action is checked by the relay against the seat's role before the PBX is called, and
//! written to the relay's audit log with the PBX's answer or the refusal. The app never names a
//! leg's tag or transport id: the relay takes them from its own view of live calls, built from
//! the events it received.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST /team/dial`'s body: place a call from a workplace to a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DialRequest {
    /// The number to call: digits with an optional leading `+` (a phone number or a SIP ID).
    pub number: String,
    /// The workplace (SIP ID) to call from. Absent: the seat's own workplace. An operator may
    /// name only their own (else `not_your_workplace`); supervisors and admins any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workplace: Option<String>,
}

/// `POST /team/dial`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DialAnswer {
    /// The id of the leg the PBX created (`call.id` of the events about it).
    pub leg_id: String,
    /// The workplace the call was placed from.
    pub workplace: String,
    /// The audit log entry of this action.
    pub audit_id: i64,
}

/// `POST /team/transfer`'s body: transfer a live leg to a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferRequest {
    /// The leg's id (`call.id`), as the seat's stream showed it.
    pub leg_id: String,
    /// Where to: digits with an optional leading `+` (a phone number or a SIP ID).
    pub target: String,
}

/// `POST /team/hangup`'s body: end a live leg.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HangUpRequest {
    /// The leg's id (`call.id`), as the seat's stream showed it.
    pub leg_id: String,
}

/// `PUT /team/parking`'s body (admins only): turn parking on or off for external numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParkingRequest {
    /// The company's external numbers (digits), at least one.
    pub numbers: Vec<String>,
    /// On (`true`) or off.
    pub parking: bool,
}

/// The answer of an action that returns nothing but its acceptance: transfer, hang up,
/// parking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActionDone {
    /// The audit log entry of this action.
    pub audit_id: i64,
}

/// A live call as the relay sees it (`GET /team/calls`): a leg that has not finished.
/// Operators get only the legs that touch their workplace; supervisors and admins all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LiveCall {
    /// `call.id`.
    pub leg_id: String,
    /// The leg's last state as the PBX named it (`trying`, `showing`, `connected`, `hiding`).
    pub state: String,
    /// `incoming`, `outgoing`, or what the PBX said.
    pub direction: Option<String>,
    /// The caller's number (or SIP ID).
    pub caller: Option<String>,
    /// The callee's number (or SIP ID).
    pub callee: Option<String>,
    /// The team's workplaces this leg touches (as caller, callee or forwarder).
    pub workplaces: Vec<String>,
    /// When the relay first saw the leg.
    pub since: DateTime<Utc>,
}

/// `GET /team/calls`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LiveCalls {
    /// The live legs, oldest first.
    pub calls: Vec<LiveCall>,
}
