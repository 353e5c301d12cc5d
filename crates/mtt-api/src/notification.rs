//! Webhook notifications: what the PBX POSTs to `<redirect_uri>/events`.
//!
//! The document shows two envelopes, `callNotifications` (call legs changing state) and
//! `vpbxNotifications` (the account's numbers or workplaces changed). Anything may arrive in practice,
//! so parsing is deliberately forgiving: only the envelope and, for call events, the leg's `call.id`
//! are required. A field of an unexpected type reads as absent rather than failing the event, unknown
//! fields are ignored, unknown states and event kinds are kept, and the raw JSON stays on every parsed
//! value so that nothing the PBX said is lost. Parsing never panics (a property test feeds it
//! arbitrary bytes).

use std::fmt;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::LegId;

/// The zone in which the PBX's zone-less `startTime` is read unless configured otherwise.
pub const DEFAULT_PBX_ZONE: Tz = chrono_tz::Europe::Moscow;

/// One webhook body, parsed.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every notification is a call event, so boxing it would only add an allocation"
)]
pub enum Notification {
    /// `callNotifications`: a call leg changed state.
    Call(CallEvent),
    /// `vpbxNotifications`: the account's settings changed; the client should re-read them.
    Pbx(PbxEvent),
    /// A JSON object we could not read as either of the above; kept whole.
    Unknown(UnknownNotification),
}

/// Why a body could not be parsed at all. Only bodies that are not a JSON object end here; every
/// JSON object becomes some [`Notification`].
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum NotificationError {
    /// The body is not JSON.
    #[error("the notification is not valid JSON: {0}")]
    NotJson(String),
    /// The body is JSON but not an object, so it has no `event` to read.
    #[error("the notification is JSON but not an object (it is {0})")]
    NotAnObject(&'static str),
}

impl Notification {
    /// Parses a webhook body.
    pub fn parse(body: &[u8]) -> Result<Self, NotificationError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| NotificationError::NotJson(e.to_string()))?;
        Self::from_value(value)
    }

    /// Interprets an already decoded JSON value.
    pub fn from_value(raw: Value) -> Result<Self, NotificationError> {
        let Some(object) = raw.as_object() else {
            return Err(NotificationError::NotAnObject(json_kind(&raw)));
        };
        let event = object
            .get("event")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let result = object.get("result").and_then(Value::as_object);
        match (event.as_deref(), result) {
            (Some(CALL_EVENT), Some(result)) => match CallEvent::from_result(result) {
                Ok(mut call) => {
                    call.raw = raw;
                    Ok(Notification::Call(call))
                }
                Err(problem) => Ok(Notification::Unknown(UnknownNotification {
                    event,
                    problem: Some(problem),
                    raw,
                })),
            },
            (Some(PBX_EVENT), Some(result)) => {
                let kind = match result.get("eventType").and_then(Value::as_str) {
                    Some("numbersChanged") => PbxEventKind::NumbersChanged,
                    Some("workplacesChanged") => PbxEventKind::WorkplacesChanged,
                    Some(other) => PbxEventKind::Other(other.to_owned()),
                    None => {
                        return Ok(Notification::Unknown(UnknownNotification {
                            event,
                            problem: Some("vpbxNotifications without result.eventType".into()),
                            raw,
                        }));
                    }
                };
                Ok(Notification::Pbx(PbxEvent { kind, raw }))
            }
            (Some(CALL_EVENT | PBX_EVENT), None) => {
                Ok(Notification::Unknown(UnknownNotification {
                    problem: Some(format!(
                        "{} without a result object",
                        event.as_deref().unwrap_or("")
                    )),
                    event,
                    raw,
                }))
            }
            _ => Ok(Notification::Unknown(UnknownNotification {
                event,
                problem: None,
                raw,
            })),
        }
    }

    /// The JSON exactly as it was received (re-serialised from the parsed value).
    pub fn raw(&self) -> &Value {
        match self {
            Notification::Call(c) => &c.raw,
            Notification::Pbx(p) => &p.raw,
            Notification::Unknown(u) => &u.raw,
        }
    }

    /// The envelope's `event` name, if any.
    pub fn event_name(&self) -> Option<&str> {
        match self {
            Notification::Call(_) => Some(CALL_EVENT),
            Notification::Pbx(_) => Some(PBX_EVENT),
            Notification::Unknown(u) => u.event.as_deref(),
        }
    }
}

/// The envelope name of call events.
pub const CALL_EVENT: &str = "callNotifications";
/// The envelope name of PBX settings events.
pub const PBX_EVENT: &str = "vpbxNotifications";

/// A call leg's state change (`callNotifications`).
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    /// The leg's Call-ID (`call.id`), the key of a call everywhere in Trubka.
    pub leg: LegId,
    /// The leg's tag (`call.tag`); needed, with the transport id, to terminate or transfer it.
    pub tag: Option<String>,
    /// What happened to the leg.
    pub state: CallState,
    /// Incoming or outgoing, compared case-insensitively.
    pub direction: Option<Direction>,
    /// Party A.
    pub caller: Option<Party>,
    /// Party B.
    pub callee: Option<Party>,
    /// When the call started, as the PBX wrote it (no zone).
    pub start_time: Option<PbxTime>,
    /// The PBX's transport id; needed to terminate or transfer the leg.
    pub transport_id: Option<String>,
    /// Duration in seconds, on `finished`.
    pub duration: Option<u64>,
    /// Why the call ended, as text.
    pub reason: Option<String>,
    /// The end reason's code, of whatever JSON type the PBX used; `None` when absent or null.
    pub reason_code: Option<Value>,
    /// The recording's address, on `recorded`.
    pub url_record: Option<String>,
    /// The account id at the top of `callInfo` (the `recorded` event carries one).
    pub account_id: Option<String>,
    /// The whole notification as received.
    pub raw: Value,
}

impl CallEvent {
    fn from_result(result: &Map<String, Value>) -> Result<Self, String> {
        let info = result
            .get("callInfo")
            .and_then(Value::as_object)
            .ok_or_else(|| "callNotifications without result.callInfo".to_owned())?;
        let call = info.get("call").and_then(Value::as_object);
        let leg = call
            .and_then(|c| c.get("id"))
            .and_then(Value::as_str)
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| "callNotifications without callInfo.call.id".to_owned())?;
        Ok(CallEvent {
            leg: LegId::new(leg),
            tag: call.and_then(|c| text(c, "tag")),
            state: text(info, "state")
                .map(|s| CallState::from_wire(&s))
                .unwrap_or(CallState::Other(String::new())),
            direction: text(info, "type").map(|s| Direction::from_wire(&s)),
            caller: info
                .get("caller")
                .and_then(Value::as_object)
                .map(Party::from_object),
            callee: info
                .get("callee")
                .and_then(Value::as_object)
                .map(Party::from_object),
            start_time: text(info, "startTime").map(PbxTime::new),
            transport_id: text(info, "transportId"),
            duration: info.get("duration").and_then(seconds),
            reason: text(info, "reason"),
            reason_code: info.get("reasonCode").filter(|v| !v.is_null()).cloned(),
            url_record: text(info, "urlRecord"),
            account_id: text(info, "accountId"),
            raw: Value::Null,
        })
    }

    /// Whether either party is the given SIP ID (a workplace or terminal): by `id` or `accountId`.
    pub fn involves(&self, sip_id: &str) -> bool {
        [&self.caller, &self.callee]
            .into_iter()
            .flatten()
            .any(|p| p.id.as_deref() == Some(sip_id) || p.account_id.as_deref() == Some(sip_id))
            || self.account_id.as_deref() == Some(sip_id)
    }
}

/// The state of a call leg, as the PBX names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallState {
    /// The call is being set up (`trying`); carries `startTime`.
    Trying,
    /// A workplace is ringing (`showing`).
    Showing,
    /// The leg was answered (`connected`).
    Connected,
    /// A workplace stopped ringing, e.g. another answered (`hiding`).
    Hiding,
    /// The leg ended (`finished`); carries duration and reason.
    Finished,
    /// The recording is ready (`recorded`); carries `urlRecord`.
    Recorded,
    /// A state the document does not list, kept as sent.
    Other(String),
}

impl CallState {
    /// Reads the wire name; unknown names are kept as [`CallState::Other`].
    pub fn from_wire(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "trying" => Self::Trying,
            "showing" => Self::Showing,
            "connected" => Self::Connected,
            "hiding" => Self::Hiding,
            "finished" => Self::Finished,
            "recorded" => Self::Recorded,
            _ => Self::Other(s.to_owned()),
        }
    }

    /// The wire name.
    pub fn as_wire(&self) -> &str {
        match self {
            Self::Trying => "trying",
            Self::Showing => "showing",
            Self::Connected => "connected",
            Self::Hiding => "hiding",
            Self::Finished => "finished",
            Self::Recorded => "recorded",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for CallState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_wire())
    }
}

/// The direction of a call. The document's table capitalises the values and its examples do not,
/// so they are compared without regard to case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    /// A call from outside to the account.
    Incoming,
    /// A call from the account outwards (click-to-call included).
    Outgoing,
    /// A value the document does not list, kept as sent.
    Other(String),
}

impl Direction {
    /// Reads the wire value case-insensitively.
    pub fn from_wire(s: &str) -> Self {
        match s.to_ascii_lowercase().as_str() {
            "incoming" => Self::Incoming,
            "outgoing" => Self::Outgoing,
            _ => Self::Other(s.to_owned()),
        }
    }
}

/// One side of a call. Every field may be missing; the `recorded` event has no parties at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    /// The terminal's account (`78124241500@pstn` for an outside number, a SIP ID inside).
    pub account_id: Option<String>,
    /// The MTT customer id, the same for all of one customer's requests.
    pub centrex_id: Option<String>,
    /// The identifier to show.
    pub display_id: Option<String>,
    /// The name to show; often empty.
    pub display_name: Option<String>,
    /// The identifiers the call passed through before this notification.
    pub forwarder_list: Vec<String>,
    /// The PBX SIP ID or number.
    pub id: Option<String>,
}

impl Party {
    fn from_object(o: &Map<String, Value>) -> Self {
        Party {
            account_id: text(o, "accountId"),
            centrex_id: text(o, "centrexId"),
            display_id: text(o, "displayId"),
            display_name: text(o, "displayName"),
            forwarder_list: o
                .get("forwarderList")
                .and_then(Value::as_array)
                .map(|items| items.iter().filter_map(scalar_text).collect())
                .unwrap_or_default(),
            id: text(o, "id"),
        }
    }

    /// The best number or id to show and match on: `displayId`, else `id`, else `accountId`.
    pub fn number(&self) -> Option<&str> {
        [&self.display_id, &self.id, &self.account_id]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|s| !s.trim().is_empty())
    }

    /// The display name when the PBX gave a non-blank one.
    pub fn name(&self) -> Option<&str> {
        self.display_name
            .as_deref()
            .filter(|s| !s.trim().is_empty())
    }
}

/// The PBX's `startTime`: kept exactly as given, and read as a local time when it has the
/// documented `YYYY-MM-DD HH:MM:SS` form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PbxTime {
    /// The text as the PBX sent it.
    pub raw: String,
    /// The same, parsed; `None` when it was not in the documented form.
    pub local: Option<NaiveDateTime>,
}

impl PbxTime {
    /// Keeps `raw` and parses it if it has the documented form.
    pub fn new(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let local = NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%d %H:%M:%S").ok();
        PbxTime { raw, local }
    }

    /// The instant, reading the zone-less time in `zone`. A time that falls twice (clocks going
    /// back) reads as the earlier one; a time that does not exist (clocks going forward) as `None`.
    pub fn to_utc(&self, zone: Tz) -> Option<DateTime<Utc>> {
        let local = self.local?;
        zone.from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// A `vpbxNotifications` event.
#[derive(Debug, Clone, PartialEq)]
pub struct PbxEvent {
    /// What changed.
    pub kind: PbxEventKind,
    /// The whole notification as received.
    pub raw: Value,
}

/// What changed in the PBX's settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PbxEventKind {
    /// The external numbers changed: re-read `externalNumbersInfo`.
    NumbersChanged,
    /// The workplaces changed: re-read `workPlacesInfo` (and the terminals).
    WorkplacesChanged,
    /// An `eventType` the document does not list.
    Other(String),
}

/// A JSON object that is not a notification we understand; kept whole, never rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownNotification {
    /// The envelope's `event`, if it had one.
    pub event: Option<String>,
    /// What was wrong, when the envelope named a known event but the body did not fit it.
    pub problem: Option<String>,
    /// The whole body.
    pub raw: Value,
}

/// A string field; numbers are accepted as their text because ids and numbers are digits and a
/// sender may well send them unquoted.
fn text(o: &Map<String, Value>, key: &str) -> Option<String> {
    o.get(key).and_then(scalar_text)
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A duration in whole seconds, from a number or a numeric string; negative or fractional values
/// are read as the nearest sensible whole number of seconds.
fn seconds(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f.round() as u64)
        }),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_body_that_is_not_an_object_is_an_error() {
        assert_eq!(
            Notification::parse(b"[1]"),
            Err(NotificationError::NotAnObject("an array"))
        );
        assert!(matches!(
            Notification::parse(b"{"),
            Err(NotificationError::NotJson(_))
        ));
    }

    #[test]
    fn a_call_event_without_a_leg_id_is_kept_as_unknown_with_the_problem() {
        let body = json!({"event":"callNotifications","result":{"callInfo":{"state":"trying"}}});
        let Ok(Notification::Unknown(u)) = Notification::from_value(body.clone()) else {
            panic!("expected unknown")
        };
        assert_eq!(u.event.as_deref(), Some("callNotifications"));
        assert!(u.problem.unwrap().contains("call.id"));
        assert_eq!(u.raw, body);
    }

    #[test]
    fn fields_of_the_wrong_type_read_as_absent_and_numbers_as_text() {
        let body = json!({"event":"callNotifications","result":{"callInfo":{
            "call":{"id":"leg-1","tag":7},
            "state":"CONNECTED","type":"Incoming","duration":"12",
            "caller":{"id":79219462761u64,"displayName":{"x":1},"forwarderList":["a",2,null]},
            "reasonCode":486
        }}});
        let Ok(Notification::Call(c)) = Notification::from_value(body) else {
            panic!()
        };
        assert_eq!(c.tag.as_deref(), Some("7"));
        assert_eq!(c.state, CallState::Connected);
        assert_eq!(c.direction, Some(Direction::Incoming));
        assert_eq!(c.duration, Some(12));
        let caller = c.caller.unwrap();
        assert_eq!(caller.id.as_deref(), Some("79219462761"));
        assert_eq!(caller.display_name, None);
        assert_eq!(caller.forwarder_list, vec!["a".to_owned(), "2".to_owned()]);
        assert_eq!(c.reason_code, Some(json!(486)));
    }

    #[test]
    fn start_time_is_read_in_moscow_by_default() {
        let t = PbxTime::new("2020-06-02 11:18:16");
        assert_eq!(
            t.to_utc(DEFAULT_PBX_ZONE).unwrap().to_rfc3339(),
            "2020-06-02T08:18:16+00:00"
        );
        let odd = PbxTime::new("yesterday");
        assert_eq!(odd.raw, "yesterday");
        assert_eq!(odd.to_utc(DEFAULT_PBX_ZONE), None);
    }
}
