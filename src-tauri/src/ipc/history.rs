//! The History screen's additions: the callback queue and the files it saves (a CSV export of
//! the current filter, a recording).

use serde::Serialize;
use ts_rs::TS;

use super::{ms, readable};

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
