//! The Calls screen's types: the calls live now, the link's health, a dial's result, the
//! workplaces to transfer to, and a number that came from outside the window.

use companion::{CallDirection, CallPhase};
use mtt_api::notification::Direction;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{ms, readable};

/// Which way a call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "CallWay.ts")]
pub enum CallWay {
    /// From outside to the account.
    Incoming,
    /// From the account outwards.
    Outgoing,
    /// The PBX did not say.
    Unknown,
}

impl From<CallDirection> for CallWay {
    fn from(d: CallDirection) -> Self {
        match d {
            CallDirection::Incoming => CallWay::Incoming,
            CallDirection::Outgoing => CallWay::Outgoing,
            CallDirection::Unknown => CallWay::Unknown,
        }
    }
}

impl From<Option<&Direction>> for CallWay {
    fn from(d: Option<&Direction>) -> Self {
        match d {
            Some(Direction::Incoming) => CallWay::Incoming,
            Some(Direction::Outgoing) => CallWay::Outgoing,
            _ => CallWay::Unknown,
        }
    }
}

/// Where a live call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "Phase.ts")]
pub enum Phase {
    /// Click-to-call: the operator's own phone is ringing.
    PickUp,
    /// Click-to-call: the operator picked up; the number is being called.
    Calling,
    /// An incoming call is ringing.
    Ringing,
    /// The parties are talking.
    Connected,
    /// It has ended.
    Ended,
}

impl From<CallPhase> for Phase {
    fn from(p: CallPhase) -> Self {
        match p {
            CallPhase::PickUp => Phase::PickUp,
            CallPhase::Calling => Phase::Calling,
            CallPhase::Ringing => Phase::Ringing,
            CallPhase::Connected => Phase::Connected,
            CallPhase::Ended => Phase::Ended,
        }
    }
}

/// One live call as the Calls screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "LiveCall.ts")]
pub struct LiveCall {
    /// The leg id that hang-up and transfer take.
    pub leg: String,
    /// Which way it goes.
    pub direction: CallWay,
    /// Where it stands.
    pub phase: Phase,
    /// The other side's number as a person reads it.
    pub number: Option<String>,
    /// The other side's number as the PBX sent it.
    pub number_raw: Option<String>,
    /// The other side's name as the PBX gave it (external text: render as text only).
    pub name: Option<String>,
    /// Whether the call involves my workplace.
    pub mine: bool,
    /// Whose it is when it is not mine (a supervisor sees the team's calls): the colleague's
    /// workplace's name from the directory (text only), if it has one.
    pub whose_name: Option<String>,
    /// The colleague's workplace (SIP ID), when the call is not mine.
    pub whose_workplace: Option<String>,
    /// When it started, in ms since the epoch.
    pub started_at_ms: f64,
    /// When it was answered, in ms since the epoch.
    pub connected_at_ms: Option<f64>,
    /// How long it lasted, once ended.
    pub duration_secs: Option<f64>,
}

impl From<&companion::LiveCall> for LiveCall {
    fn from(c: &companion::LiveCall) -> Self {
        LiveCall {
            leg: c.leg.clone(),
            direction: c.direction.into(),
            phase: c.phase.into(),
            number: c.remote_number.as_deref().map(readable),
            number_raw: c.remote_number.clone(),
            name: c.remote_name.clone().filter(|n| !n.trim().is_empty()),
            mine: c.mine,
            whose_name: c.whose.as_ref().and_then(|w| w.name.clone()),
            whose_workplace: c.whose.as_ref().map(|w| w.workplace.clone()),
            started_at_ms: ms(c.started_at),
            connected_at_ms: c.connected_at.map(ms),
            duration_secs: c.duration_secs.map(|d| d as f64),
        }
    }
}

/// The relay link's health as last reported, for a window that opened after the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "LinkState.ts")]
pub struct LinkState {
    /// `connected`, `reconnecting`, `offline` or `refused`.
    pub state: String,
    /// Why it is not connected.
    pub reason: Option<String>,
}

/// The result of a dial: the number as the PBX will ring it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "Dialled.ts")]
pub struct Dialled {
    /// The number as a person reads it.
    pub number: String,
    /// The leg the PBX created.
    pub leg: String,
}

/// A workplace the transfer picker offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "Workplace.ts")]
pub struct Workplace {
    /// Its SIP ID, which transfer takes.
    pub sip_id: String,
    /// Its name; often empty in the PBX.
    pub name: String,
    /// Whether it is my own workplace (the picker leaves it out).
    pub mine: bool,
}

/// A number to put in the dialer (from a link, the hotkey or the tray).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "DialRequest.ts")]
pub struct DialRequest {
    /// What to put in the dialer, as given (the dialer checks it when it is dialled).
    pub number: String,
    /// The number as a person reads it, for the confirmation.
    pub readable: String,
    /// Dial once the operator confirms, rather than only filling the dialer.
    pub confirm: bool,
    /// Where it came from: `link`, `hotkey` or `clipboard`.
    pub source: String,
}
