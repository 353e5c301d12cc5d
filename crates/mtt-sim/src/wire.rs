//! The JSON the simulator sends and receives, written from the source document alone.
//!
//! These types deliberately do not come from the client crate: if both sides shared one
//! definition, a misreading of the document would be invisible to every test. Field order
//! follows the document's examples (which list keys alphabetically), so serialised
//! notifications can be compared with them byte for byte where the values agree.

use serde::{Deserialize, Serialize};

/// `GET /externalNumbersInfo` → `{"result": {"total", "numbersList"}}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalNumbersInfo {
    /// Count of numbers.
    pub total: usize,
    /// The numbers.
    pub numbers_list: Vec<ExternalNumber>,
}

/// One entry of `numbersList`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExternalNumber {
    /// The external number.
    pub number: String,
    /// Its type; `null` in the document.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `GET /workPlacesInfo` → `{"result": {"total", "workplacesList"}}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WorkplacesInfo {
    /// Count of workplaces.
    pub total: usize,
    /// The workplaces.
    pub workplaces_list: Vec<WorkplaceEntry>,
}

/// One entry of `workplacesList`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WorkplaceEntry {
    /// SIP ID.
    pub workplace: String,
    /// Name, possibly empty.
    pub name: String,
}

/// `GET /terminalsInfo` → `{"result": {"total", "terminals_list"}}` (the example's spelling,
/// not the table's `terminalsList`/`terminale`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TerminalsInfo {
    /// Count of terminals.
    pub total: usize,
    /// The terminals.
    pub terminals_list: Vec<TerminalEntry>,
}

/// One entry of `terminals_list`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TerminalEntry {
    /// The terminal's SIP ID.
    pub terminal: String,
    /// The workplace it belongs to.
    pub workplace: String,
}

/// `{"result": …}`, the wrapper of every settings answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResultEnvelope<T> {
    /// The payload.
    pub result: T,
}

/// makeCall's answer: `{"result": {"call": {"id"}, "success": 1}}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MakeCallResult {
    /// The call created.
    pub call: CallRef,
    /// Always 1.
    pub success: u8,
}

/// terminateCall's and transferCall's answer body inside `result`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Success {
    /// Always 1.
    pub success: u8,
}

/// `{"params": …}`, the wrapper of every call-control request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Params<T> {
    /// The parameters.
    pub params: T,
}

/// makeCall's parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MakeCallParams {
    /// The operator's workplace SIP ID.
    pub caller_id: String,
    /// The number to dial.
    pub callee_id: String,
}

/// terminateCall's parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TerminateCallParams {
    /// The leg.
    pub call: LegRef,
    /// From the notification.
    pub transport_id: String,
}

/// transferCall's parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TransferCallParams {
    /// The leg.
    pub call: LegRef,
    /// Target: a workplace SIP ID or a number.
    pub callee_id: String,
    /// From the notification.
    pub transport_id: String,
}

/// setParkingNumbers' parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SetParkingNumbersParams {
    /// External numbers.
    pub numbers: Vec<String>,
    /// Park (`true`) or release (`false`).
    pub is_parking: bool,
}

/// `{"id", "tag"}` identifying a leg in a request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LegRef {
    /// Call-ID.
    pub id: String,
    /// Tag.
    pub tag: String,
}

/// `{"id", "tag"?}` identifying a leg in a notification or answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CallRef {
    /// Call-ID.
    pub id: String,
    /// Tag; absent from `recorded` and from makeCall's answer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tag: Option<String>,
}

/// A notification as POSTed to `<redirect_uri>/events`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "event", content = "result")]
pub enum Notification {
    /// `{"event": "callNotifications", "result": {"callInfo": …}}`.
    #[serde(rename = "callNotifications")]
    Call(Box<CallNotification>),
    /// `{"event": "vpbxNotifications", "result": {"eventType": …}}`.
    #[serde(rename = "vpbxNotifications")]
    Pbx(PbxNotification),
}

/// The `result` of a call notification.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CallNotification {
    /// The leg's state and parties.
    pub call_info: CallInfo,
}

/// The `result` of a PBX settings notification.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PbxNotification {
    /// `numbersChanged` or `workplacesChanged`.
    pub event_type: PbxEventType,
}

/// What changed in the PBX's settings.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum PbxEventType {
    /// The external numbers changed.
    NumbersChanged,
    /// The workplaces changed.
    WorkplacesChanged,
}

/// `callInfo`. Which keys are present depends on the state, exactly as in the document's
/// examples: `recorded` carries only `accountId`, `call.id`, `state` and `urlRecord`;
/// `finished` carries `duration`, `reason` and `reasonCode` (possibly `null`) but no
/// `startTime`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CallInfo {
    /// Only on `recorded`: the workplace whose conversation was recorded.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account_id: Option<String>,
    /// The leg.
    pub call: CallRef,
    /// Party B.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub callee: Option<Party>,
    /// Party A.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub caller: Option<Party>,
    /// Seconds of conversation, on `finished`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration: Option<u64>,
    /// Why the leg ended, on `finished`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// A code for the reason, on `finished`; serialised as `null` when there is none.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        with = "double_option"
    )]
    pub reason_code: Option<Option<u16>>,
    /// `YYYY-MM-DD HH:MM:SS`, Moscow time, no zone.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub start_time: Option<String>,
    /// The leg's state.
    pub state: CallState,
    /// Transport id, needed for terminate and transfer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transport_id: Option<String>,
    /// `incoming` or `outgoing`.
    #[serde(skip_serializing_if = "Option::is_none", default, rename = "type")]
    pub direction: Option<Direction>,
    /// The recording, on `recorded`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub url_record: Option<String>,
}

impl CallInfo {
    /// The document's small `recorded` notification: the account, the leg id and the address.
    pub fn recorded(account_id: Option<String>, leg: String, url_record: String) -> Self {
        CallInfo {
            account_id,
            call: CallRef { id: leg, tag: None },
            callee: None,
            caller: None,
            duration: None,
            reason: None,
            reason_code: None,
            start_time: None,
            state: CallState::Recorded,
            transport_id: None,
            direction: None,
            url_record: Some(url_record),
        }
    }
}

/// A party (`caller` or `callee`). Keys absent in the document's example of a party are left
/// out rather than sent empty.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    /// Account id: a workplace SIP ID, an external number, or `<number>@pstn`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub account_id: Option<String>,
    /// The PBX customer's id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub centrex_id: Option<String>,
    /// Shown number.
    pub display_id: String,
    /// Shown name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub display_name: Option<String>,
    /// Ids the call passed through.
    pub forwarder_list: Vec<String>,
    /// SIP ID or number.
    pub id: String,
}

/// Leg states.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum CallState {
    /// Being set up.
    Trying,
    /// Shown (ringing) on a workplace.
    Showing,
    /// Answered.
    Connected,
    /// No longer shown on a workplace.
    Hiding,
    /// Ended.
    Finished,
    /// A recording is ready.
    Recorded,
}

impl CallState {
    /// The state as the document spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trying => "trying",
            Self::Showing => "showing",
            Self::Connected => "connected",
            Self::Hiding => "hiding",
            Self::Finished => "finished",
            Self::Recorded => "recorded",
        }
    }
}

/// Call direction, lower-case as in the document's examples.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Into the account.
    Incoming,
    /// Out of the account.
    Outgoing,
}

impl Direction {
    /// The direction as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incoming => "incoming",
            Self::Outgoing => "outgoing",
        }
    }
}

/// Serialises `Some(None)` as `null` and leaves `None` out.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Option<u16>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<u16>>, D::Error> {
        Option::<u16>::deserialize(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_notification_has_the_documents_small_shape() {
        let n = Notification::Call(Box::new(CallNotification {
            call_info: CallInfo::recorded(
                Some("883140777446532".into()),
                "SDvapac01-3bd7d743109f2668f16de50c9ab53559100@127.0.0.1".into(),
                "https://h/p/f.mp3".into(),
            ),
        }));
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"event":"callNotifications","result":{"callInfo":{"accountId":"883140777446532","call":{"id":"SDvapac01-3bd7d743109f2668f16de50c9ab53559100@127.0.0.1"},"state":"recorded","urlRecord":"https://h/p/f.mp3"}}}"#
        );
    }

    #[test]
    fn a_null_reason_code_is_sent_as_null() {
        let info = CallInfo {
            account_id: None,
            call: CallRef {
                id: "x".into(),
                tag: Some("t".into()),
            },
            callee: None,
            caller: None,
            duration: Some(3),
            reason: Some("Originate leg disconnected".into()),
            reason_code: Some(None),
            start_time: None,
            state: CallState::Finished,
            transport_id: None,
            direction: Some(Direction::Outgoing),
            url_record: None,
        };
        let json = serde_json::to_value(&info).unwrap();
        assert!(json["reasonCode"].is_null());
        assert!(json.as_object().unwrap().contains_key("reasonCode"));
        assert_eq!(json["type"], "outgoing");
    }

    #[test]
    fn pbx_notifications_match_the_document() {
        let n = Notification::Pbx(PbxNotification {
            event_type: PbxEventType::WorkplacesChanged,
        });
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"event":"vpbxNotifications","result":{"eventType":"workplacesChanged"}}"#
        );
    }
}
