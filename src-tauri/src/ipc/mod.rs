//! What crosses the IPC boundary: the shapes the web UI receives and sends, converted here from
//! the core's types so that the core never has to know a window exists.
//!
//! Each type derives ts-rs's `TS`; `ui/src/bindings/` holds the generated TypeScript, and the
//! test at the bottom fails when it is stale (run it with `UPDATE_BINDINGS=1` to rewrite the
//! files). Times cross as milliseconds since the epoch (what `Date` takes); numbers cross both as
//! the PBX sent them (`…Raw`, for dialling back) and as a person reads them (`+7 921 946-27-61`).

use call_log::{CallLogError, CallRecord};
use chrono::{DateTime, Utc};
use companion::dialer::DEFAULT_REGION;
use companion::{CallDirection, CallPhase, CompanionError, DomainEvent, ErrorCode};
use mtt_api::notification::Direction;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod contacts;
mod history;
mod popup;
mod routing;
mod settings;
mod today;

pub use contacts::{
    ContactDraft, ContactPhone, ContactRow, ImportFormat, ImportIssue, ImportOutcome,
};
pub use history::{Callback, SavedFile};
pub use popup::PopupView;
pub use routing::{ParkedNumber, RoutingDecisionRow, RoutingView};
pub use settings::{
    AccountForm, AccountState, AppMode, LanguageChoice, LinkAction, PopupWhose, Preferences,
    ThemeChoice, field_of,
};
pub use today::{Today, TodayHour};

/// Every command's error: a stable `code` the UI switches on (it never matches `message`) and a
/// `message` in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export_to = "IpcError.ts")]
pub struct IpcError {
    /// What kind of failure: `invalid_number`, `not_configured`, `starting`, … (the
    /// workspace's one list, `error_codes::ErrorCode`).
    pub code: ErrorCode,
    /// What went wrong.
    pub message: String,
    /// The form field that is wrong (`hotkey`, `clientId`, …), for `invalid` errors, whose
    /// `message` then reads `<setting's key>: <reason>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
}

impl IpcError {
    /// An error with a code of the shell's own.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        IpcError {
            code,
            message: message.into(),
            field: None,
        }
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for IpcError {}

impl From<CompanionError> for IpcError {
    fn from(e: CompanionError) -> Self {
        match e {
            CompanionError::InvalidSetting(invalid) => invalid.into(),
            e => IpcError::new(e.code(), e.to_string()),
        }
    }
}

impl From<CallLogError> for IpcError {
    fn from(e: CallLogError) -> Self {
        IpcError::new(e.code(), e.to_string())
    }
}

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
    /// When it started, in ms since the epoch.
    pub started_at_ms: f64,
    /// When it was answered, in ms since the epoch.
    pub connected_at_ms: Option<f64>,
    /// How long it lasted, once ended.
    pub duration_secs: Option<f64>,
}

fn ms(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64
}

/// A number as a person reads it.
pub fn readable(raw: &str) -> String {
    companion::display_number(raw, DEFAULT_REGION)
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
            started_at_ms: ms(c.started_at),
            connected_at_ms: c.connected_at.map(ms),
            duration_secs: c.duration_secs.map(|d| d as f64),
        }
    }
}

/// What the core announces, as the window hears it under [`crate::events::DOMAIN_EVENT`].
/// Only what a screen uses crosses; the rest stays in the core.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export_to = "AppEvent.ts")]
pub enum AppEvent {
    /// A call started, changed or ended: the Calls screen replaces its row by leg.
    #[serde(rename_all = "camelCase")]
    Call {
        /// The call as it now stands.
        call: LiveCall,
        /// An incoming call that ended with nobody answering.
        missed: bool,
    },
    /// A recording arrived for a leg.
    #[serde(rename_all = "camelCase")]
    Recorded {
        /// The leg.
        leg: String,
        /// The mp3's address.
        url: String,
    },
    /// The relay link's health: `connected`, `reconnecting`, `offline` or `refused`.
    #[serde(rename_all = "camelCase")]
    Link {
        /// The state.
        state: String,
        /// Why it is not connected.
        reason: Option<String>,
    },
    /// Events were missed (the window fell behind or the relay resynchronised): re-read
    /// everything.
    Resync,
}

impl AppEvent {
    /// The window's view of a domain event, or `None` when no screen shows it.
    pub fn from_domain(event: &DomainEvent) -> Option<Self> {
        match event {
            DomainEvent::CallStarted { call, .. } | DomainEvent::CallUpdated { call } => {
                Some(AppEvent::Call {
                    call: call.into(),
                    missed: false,
                })
            }
            DomainEvent::CallEnded { call, missed } => Some(AppEvent::Call {
                call: call.into(),
                missed: *missed,
            }),
            DomainEvent::CallRecorded { leg, url } => Some(AppEvent::Recorded {
                leg: leg.clone(),
                url: url.clone(),
            }),
            DomainEvent::Link { state, reason, .. } => Some(AppEvent::Link {
                state: state.clone(),
                reason: reason.clone(),
            }),
            DomainEvent::Resynced { .. } => Some(AppEvent::Resync),
            _ => None,
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use ts_rs::{Config, TS};

    use super::*;

    /// Each exported type's TypeScript, as its file should read.
    fn bindings() -> Vec<(String, String)> {
        fn one<T: TS + 'static>(cfg: &Config) -> (String, String) {
            let path = T::output_path().unwrap().to_string_lossy().into_owned();
            (path, T::export_to_string(cfg).unwrap())
        }
        let cfg = Config::new().with_large_int("number");
        vec![
            one::<IpcError>(&cfg),
            one::<ErrorCode>(&cfg),
            one::<CallWay>(&cfg),
            one::<Phase>(&cfg),
            one::<LiveCall>(&cfg),
            one::<AppEvent>(&cfg),
            one::<Dialled>(&cfg),
            one::<HistoryKind>(&cfg),
            one::<HistoryCursor>(&cfg),
            one::<HistoryQuery>(&cfg),
            one::<HistoryRow>(&cfg),
            one::<HistoryPage>(&cfg),
            one::<Workplace>(&cfg),
            one::<Today>(&cfg),
            one::<TodayHour>(&cfg),
            one::<ContactRow>(&cfg),
            one::<ContactPhone>(&cfg),
            one::<ContactDraft>(&cfg),
            one::<ImportFormat>(&cfg),
            one::<ImportOutcome>(&cfg),
            one::<ImportIssue>(&cfg),
            one::<Callback>(&cfg),
            one::<SavedFile>(&cfg),
            one::<LinkState>(&cfg),
            one::<PopupWhose>(&cfg),
            one::<LinkAction>(&cfg),
            one::<LanguageChoice>(&cfg),
            one::<ThemeChoice>(&cfg),
            one::<Preferences>(&cfg),
            one::<AppMode>(&cfg),
            one::<AccountState>(&cfg),
            one::<AccountForm>(&cfg),
            one::<ParkedNumber>(&cfg),
            one::<RoutingDecisionRow>(&cfg),
            one::<RoutingView>(&cfg),
            one::<PopupView>(&cfg),
            one::<crate::desktop::links::DialRequest>(&cfg),
        ]
    }

    fn bindings_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings")
    }

    /// The UI compiles against `ui/src/bindings/`; a Rust change that is not regenerated there
    /// would only show up as a broken screen, so it fails here instead.
    #[test]
    fn the_committed_typescript_bindings_are_current() {
        let dir = bindings_dir();
        let update = std::env::var_os("UPDATE_BINDINGS").is_some();
        let mut stale = Vec::new();
        for (file, text) in bindings() {
            let path = dir.join(&file);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(file);
            }
        }
        assert!(
            stale.is_empty(),
            "ui/src/bindings is stale for {stale:?}: run \
             `UPDATE_BINDINGS=1 cargo test -p trubka-app --lib ipc` and commit the files"
        );
    }

    #[test]
    fn every_binding_file_is_generated() {
        let expected: Vec<String> = bindings().into_iter().map(|(f, _)| f).collect();
        let Ok(entries) = std::fs::read_dir(bindings_dir()) else {
            panic!("ui/src/bindings is missing");
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                expected.contains(&name),
                "ui/src/bindings/{name} is not generated by any IPC type: delete it"
            );
        }
    }

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

    fn live(phase: CallPhase) -> companion::LiveCall {
        companion::LiveCall {
            leg: "leg-1".into(),
            tag: Some("t".into()),
            transport_id: None,
            direction: CallDirection::Incoming,
            phase,
            remote_number: Some("79219462761".into()),
            remote_name: Some("  ".into()),
            workplaces: Default::default(),
            answered_by: None,
            mine: true,
            started_at: DateTime::from_timestamp_millis(1_000).unwrap(),
            connected_at: None,
            ended_at: None,
            duration_secs: Some(42),
            end_reason: None,
        }
    }

    #[test]
    fn an_ended_call_reaches_the_window_with_its_outcome_and_a_readable_number() {
        let event = DomainEvent::CallEnded {
            call: live(CallPhase::Ended),
            missed: true,
        };
        let json = serde_json::to_value(AppEvent::from_domain(&event).unwrap()).unwrap();
        assert_eq!(json["kind"], "call");
        assert_eq!(json["missed"], true);
        assert_eq!(json["call"]["phase"], "ended");
        assert_eq!(json["call"]["number"], "+7 921 946-27-61");
        assert_eq!(json["call"]["numberRaw"], "79219462761");
        assert_eq!(
            json["call"]["name"],
            serde_json::Value::Null,
            "a blank name is no name"
        );
        assert_eq!(json["call"]["startedAtMs"], 1000.0);
    }

    #[test]
    fn a_click_to_call_ringing_my_phone_is_the_pick_up_phase() {
        let event = DomainEvent::CallUpdated {
            call: live(CallPhase::PickUp),
        };
        let json = serde_json::to_value(AppEvent::from_domain(&event).unwrap()).unwrap();
        assert_eq!(json["call"]["phase"], "pickUp");
        assert_eq!(json["missed"], false);
    }

    #[test]
    fn events_no_screen_shows_stay_in_the_core() {
        let event = DomainEvent::DirectoryChanged {
            what: "numbers".into(),
        };
        assert_eq!(AppEvent::from_domain(&event), None);
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
