//! What crosses the IPC boundary: the shapes the web UI receives and sends, converted here from
//! the core's types so that the core never has to know a window exists. One file per screen
//! (`calls`, `history`, `today`, `contacts`, `settings`, `routing`, `popup`, `wrapup`, `team`,
//! `colleagues`), plus the error every
//! command may answer with (`error`) and the events the shell sends (`events`).
//!
//! Each type derives ts-rs's `TS`; `ui/src/bindings/` holds the generated TypeScript, and the
//! contract test (`src/contract.rs`) fails when it is stale (run it with `UPDATE_BINDINGS=1` to
//! rewrite the files). Times cross as milliseconds since the epoch (what `Date` takes); numbers
//! cross both as the PBX sent them (`…Raw`, for dialling back) and as a person reads them
//! (`+7 921 946-27-61`).

use chrono::{DateTime, Utc};
use companion::dialer::DEFAULT_REGION;

mod calls;
mod colleagues;
mod contacts;
mod error;
pub mod events;
mod history;
#[cfg(test)]
mod language_tests;
mod popup;
mod routing;
mod settings;
mod team;
mod today;
mod wrapup;

pub use calls::{CallWay, DialRequest, Dialled, LinkState, LiveCall, Phase, Workplace};
pub use colleagues::{Availability, Colleague, Presence};
pub use contacts::{
    ContactDraft, ContactPhone, ContactRow, ImportFormat, ImportIssue, ImportOutcome,
};
pub use error::IpcError;
pub use events::AppEvent;
pub use history::{
    Callback, HistoryCursor, HistoryKind, HistoryPage, HistoryQuery, HistoryRow, SavedFile,
};
pub use popup::PopupView;
pub use routing::{ParkedNumber, RoutingDecisionRow, RoutingView};
pub use settings::{
    About, AccountForm, AccountState, AppMode, InterfaceLanguage, LanguageChoice, LinkAction,
    PopupWhose, Preferences, PruneSummary, ThemeChoice, field_of,
};
pub use team::{TeamInvite, TeamJoined, TeamLeft, TeamView};
pub use today::{Today, TodayHour};
pub use wrapup::{FollowUpRow, WrapUpDraft, WrapUpTags, WrapUpView, WrapUpWhen};

fn ms(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64
}

/// A number as a person reads it.
pub fn readable(raw: &str) -> String {
    companion::display_number(raw, DEFAULT_REGION)
}
