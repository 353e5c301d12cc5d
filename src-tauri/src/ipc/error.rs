//! Every command's error, as the window receives it.

use call_log::CallLogError;
use companion::{CompanionError, ErrorCode};
use serde::Serialize;
use ts_rs::TS;

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
    /// The form field that is wrong (`hotkey`, `clientId`, …), for `invalid` errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
    /// Why that field cannot be right, for showing under it (`message` says the same with the
    /// setting's key in front).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
}

impl IpcError {
    /// An error with a code of the shell's own.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        IpcError {
            code,
            message: message.into(),
            field: None,
            reason: None,
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
