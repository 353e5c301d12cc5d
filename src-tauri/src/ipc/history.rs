//! The History screen's types: the request (which calls, a search, a date range, the page) and
//! its pages of rows, the callback queue, and the files it saves (a CSV export of the current
//! filter, a recording).

use call_log::CallRecord;
use chrono::DateTime;
use companion::ErrorCode;
use mtt_api::notification::Direction;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{CallWay, IpcError, RoutingDecisionRow, ms, readable};

/// A number waiting to be called back: it called, nobody answered, and no call has reached it
/// since.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "Callback.ts")]
pub struct Callback {
    /// The number as a person reads it.
    pub number: String,
    /// The number as the PBX sent it, for dialling.
    pub number_raw: String,
    /// The phonebook name, else the name the PBX showed with the call (external text: render as
    /// text only).
    pub name: Option<String>,
    /// How many missed calls from it wait.
    pub missed_calls: u32,
    /// The latest of them, in ms since the epoch.
    pub last_missed_at_ms: f64,
}

impl From<&call_log::CallbackEntry> for Callback {
    fn from(e: &call_log::CallbackEntry) -> Self {
        let raw = e.number.clone().unwrap_or_else(|| e.key.clone());
        Callback {
            number: readable(&raw),
            number_raw: raw,
            name: [&e.contact_name, &e.pbx_name]
                .into_iter()
                .flatten()
                .find(|n| !n.trim().is_empty())
                .cloned(),
            missed_calls: u32::try_from(e.missed_calls.max(0)).unwrap_or(u32::MAX),
            last_missed_at_ms: ms(e.last_missed_at),
        }
    }
}

/// A file the app wrote into the Downloads folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "SavedFile.ts")]
pub struct SavedFile {
    /// Where it is.
    pub path: String,
    /// How many rows it holds (contacts or calls); 0 for a recording.
    pub rows: u32,
}

/// Which calls the History screen lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "HistoryKind.ts")]
pub enum HistoryKind {
    /// Every call.
    #[default]
    All,
    /// Incoming calls nobody answered.
    Missed,
    /// Incoming calls.
    Incoming,
    /// Outgoing calls.
    Outgoing,
}

/// Where the next history page starts (opaque to the UI: it hands back what it got).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "HistoryCursor.ts")]
pub struct HistoryCursor {
    /// The last call's start, in microseconds (a string: it does not fit a JS number safely).
    #[ts(type = "string")]
    #[serde(with = "i64_as_string")]
    pub started_at_us: i64,
    /// The last call's row id.
    #[ts(type = "number")]
    pub id: i64,
}

impl From<call_log::HistoryCursor> for HistoryCursor {
    fn from(c: call_log::HistoryCursor) -> Self {
        HistoryCursor {
            started_at_us: c.started_at_us,
            id: c.id,
        }
    }
}

impl From<HistoryCursor> for call_log::HistoryCursor {
    fn from(c: HistoryCursor) -> Self {
        call_log::HistoryCursor {
            started_at_us: c.started_at_us,
            id: c.id,
        }
    }
}

mod i64_as_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A history request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "HistoryQuery.ts")]
pub struct HistoryQuery {
    /// Which calls.
    pub kind: HistoryKind,
    /// Part of a number or a name (three characters or more), or nothing.
    #[ts(optional)]
    pub search: Option<String>,
    /// The page after this one, or the first page.
    #[ts(optional)]
    pub after: Option<HistoryCursor>,
    /// Calls that started at or after this instant, in ms since the epoch.
    #[ts(optional, type = "number")]
    pub from_ms: Option<i64>,
    /// Calls that started before this instant, in ms since the epoch.
    #[ts(optional, type = "number")]
    pub to_ms: Option<i64>,
    /// Only calls whose wrap-up carries this tag.
    #[ts(optional)]
    #[serde(default)]
    pub tag: Option<String>,
}

impl HistoryQuery {
    /// The call log's filter for this request, or `invalid` for a date range that ends before
    /// it starts or lies outside the calendar.
    pub fn filter(&self) -> Result<call_log::HistoryFilter, IpcError> {
        let instant = |ms: Option<i64>, which: &str| match ms {
            None => Ok(None),
            Some(ms) => DateTime::from_timestamp_millis(ms)
                .map(Some)
                .ok_or_else(|| {
                    IpcError::new(
                        ErrorCode::Invalid,
                        format!("the {which} date {ms} is not a date"),
                    )
                }),
        };
        let from = instant(self.from_ms, "from")?;
        let to = instant(self.to_ms, "to")?;
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            return Err(IpcError::new(
                ErrorCode::Invalid,
                format!("the date range ends ({to}) before it starts ({from})"),
            ));
        }
        let mut filter = call_log::HistoryFilter {
            from,
            to,
            search: self
                .search
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            tag: self
                .tag
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            ..call_log::HistoryFilter::default()
        };
        match self.kind {
            HistoryKind::All => {}
            HistoryKind::Missed => filter.missed_only = true,
            HistoryKind::Incoming => filter.direction = Some(Direction::Incoming),
            HistoryKind::Outgoing => filter.direction = Some(Direction::Outgoing),
        }
        Ok(filter)
    }
}

/// One row of the History screen.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "HistoryRow.ts")]
pub struct HistoryRow {
    /// The row id (stable; the list's key).
    #[ts(type = "number")]
    pub id: i64,
    /// The PBX leg id.
    pub leg: String,
    /// Which way it went.
    pub direction: CallWay,
    /// The outside party's number as a person reads it.
    pub number: Option<String>,
    /// The same as the PBX sent it, for calling back.
    pub number_raw: Option<String>,
    /// The phonebook name, else the name the PBX gave (external text: render as text only).
    pub name: Option<String>,
    /// When it started, in ms since the epoch.
    pub started_at_ms: f64,
    /// Talk time in seconds, when it was answered.
    pub duration_secs: Option<f64>,
    /// Whether someone answered.
    pub answered: bool,
    /// Whether the call has ended (a call still in progress is in history too).
    pub ended: bool,
    /// An incoming call nobody answered.
    pub missed: bool,
    /// A missed call whose number has since been reached.
    pub called_back: bool,
    /// The recording's address, when there is one.
    pub recording_url: Option<String>,
    /// For a parked call this app's routing decided: why it went where it did.
    pub routing: Option<RoutingDecisionRow>,
    /// The operator's wrap-up note, empty when none (render as text only).
    pub note: String,
    /// The operator's wrap-up tags.
    pub tags: Vec<String>,
    /// When the wrap-up asked to call back, in ms since the epoch.
    pub follow_up_at_ms: Option<f64>,
}

impl From<&CallRecord> for HistoryRow {
    fn from(r: &CallRecord) -> Self {
        let direction = CallWay::from(r.direction.as_ref());
        let pbx_name = match direction {
            CallWay::Outgoing => r.callee_name.clone(),
            _ => r.caller_name.clone(),
        };
        HistoryRow {
            id: r.id,
            leg: r.leg.clone(),
            direction,
            number: r.peer_number.as_deref().map(readable),
            number_raw: r.peer_number.clone(),
            name: r
                .contact_name
                .clone()
                .or(pbx_name)
                .filter(|n| !n.trim().is_empty()),
            started_at_ms: ms(r.started_at),
            duration_secs: r.duration_secs.map(|d| d as f64),
            answered: r.answered_at.is_some(),
            ended: r.ended_at.is_some(),
            missed: r.missed,
            called_back: r.called_back,
            recording_url: r.recording_url.clone(),
            routing: None,
            note: r.note.clone(),
            tags: r.wrapup_tags.clone(),
            follow_up_at_ms: r.follow_up_at.map(ms),
        }
    }
}

/// One page of history, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "HistoryPage.ts")]
pub struct HistoryPage {
    /// The rows.
    pub rows: Vec<HistoryRow>,
    /// Where the next page starts, when there is one.
    pub next: Option<HistoryCursor>,
}

impl From<&call_log::HistoryPage> for HistoryPage {
    fn from(p: &call_log::HistoryPage) -> Self {
        HistoryPage {
            rows: p.calls.iter().map(HistoryRow::from).collect(),
            next: p.next.map(HistoryCursor::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_kinds_become_the_call_logs_filters() {
        let q = |kind| HistoryQuery {
            kind,
            search: Some("  921 ".into()),
            ..HistoryQuery::default()
        };
        assert!(q(HistoryKind::Missed).filter().unwrap().missed_only);
        assert_eq!(
            q(HistoryKind::Outgoing).filter().unwrap().direction,
            Some(Direction::Outgoing)
        );
        assert_eq!(q(HistoryKind::All).filter().unwrap().direction, None);
        assert_eq!(
            q(HistoryKind::All).filter().unwrap().search.as_deref(),
            Some("921")
        );
    }

    #[test]
    fn a_date_range_bounds_the_filter_and_a_reversed_one_is_refused() {
        let day = |from_ms, to_ms| HistoryQuery {
            from_ms,
            to_ms,
            ..HistoryQuery::default()
        };
        let filter = day(Some(1_772_409_600_000), Some(1_772_496_000_000))
            .filter()
            .unwrap();
        assert_eq!(filter.from.unwrap().timestamp_millis(), 1_772_409_600_000);
        assert_eq!(filter.to.unwrap().timestamp_millis(), 1_772_496_000_000);
        let open_ended = day(Some(1_772_409_600_000), None).filter().unwrap();
        assert_eq!(open_ended.to, None);
        let reversed = day(Some(1_772_496_000_000), Some(1_772_409_600_000))
            .filter()
            .unwrap_err();
        assert_eq!(reversed.code, ErrorCode::Invalid);
        assert_eq!(
            day(Some(i64::MAX), None).filter().unwrap_err().code,
            ErrorCode::Invalid
        );
    }

    #[test]
    fn a_cursor_survives_the_round_trip_through_json() {
        let cursor = HistoryCursor {
            started_at_us: 1_772_442_000_123_456,
            id: 7,
        };
        let json = serde_json::to_string(&cursor).unwrap();
        assert_eq!(json, r#"{"startedAtUs":"1772442000123456","id":7}"#);
        assert_eq!(
            serde_json::from_str::<HistoryCursor>(&json).unwrap(),
            cursor
        );
    }
}
