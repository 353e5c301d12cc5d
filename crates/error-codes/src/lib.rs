//! The stable error codes of Trubka: one enum that every crate's error type maps into.
//!
//! The UI switches on a code (never on a message), the CLI turns a code into its exit code, and
//! the relay will answer with one. Keeping them in one small crate that depends on nothing of
//! ours means a new code is added in one place and every `match` over it is checked by the
//! compiler, in Rust and (through the generated TypeScript union) in the UI. This crate must stay
//! free of I/O and of any other Trubka crate.

use serde::{Deserialize, Serialize};

/// What kind of failure an error is. The wire form is the `snake_case` name (`"invalid_number"`).
///
/// Codes are never renamed or reused: scripts and stored reports depend on them. Add new ones at
/// the end of their group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "ErrorCode.ts"))]
#[serde(rename_all = "snake_case")]
// Deliberately exhaustive: a new code must be placed in every `match` over it (the CLI's exit
// codes, the UI's descriptions) — the workspace is the only user of this crate.
pub enum ErrorCode {
    // Input from the person.
    /// Input that cannot be right (not a field of a form).
    InvalidInput,
    /// A form field or setting that cannot be right; the error names the field.
    Invalid,
    /// The number cannot be dialled.
    InvalidNumber,
    /// A search too short to run.
    SearchTooShort,
    /// The thing asked for does not exist (a contact, a call).
    NotFound,

    // Set-up and sign-in.
    /// The account is not set up far enough for this.
    NotConfigured,
    /// MTT refused the tokens: a new sign-in is needed.
    SignInRequired,
    /// Signing in did not complete.
    SignInFailed,
    /// An OAuth answer whose `state` is not ours.
    StateMismatch,

    // The PBX and the network.
    /// The PBX answered with an error.
    ApiError,
    /// The PBX answered something that cannot be read.
    BadResponse,
    /// MTT or the relay could not be reached.
    Unreachable,
    /// MTT did not answer in time (an action is then never retried).
    Timeout,

    // Local storage.
    /// The settings file could not be read or written.
    Settings,
    /// The OS keyring failed.
    Keyring,
    /// The tokens could not be stored.
    TokenStore,
    /// The local call history failed.
    CallLog,
    /// A file could not be saved (an export, a recording).
    SaveFailed,
    /// A recording could not be downloaded from the PBX.
    DownloadFailed,

    // The app itself.
    /// The app's core has not started yet, or is shutting down.
    Starting,
    /// Demo mode could not start.
    Demo,
    /// Routing rules could not be changed.
    Routing,
    /// Parking could not be applied at the PBX.
    Parking,
    /// Something outside the app (the browser) did not respond.
    Unavailable,
    /// A failure with no more specific code.
    Internal,

    // Team mode.
    /// The team's server (the relay) did not answer within the app's deadline: dial from the
    /// phone. An action is then never sent again.
    RelayUnreachable,
    /// The team's server refused the action; the message carries its reason.
    TeamRefused,
    /// The team's server revoked this seat: the app stopped acting for the team.
    SeatRevoked,
}

impl ErrorCode {
    /// Every code, in declaration order (for exhaustive tests and documentation).
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidInput,
        ErrorCode::Invalid,
        ErrorCode::InvalidNumber,
        ErrorCode::SearchTooShort,
        ErrorCode::NotFound,
        ErrorCode::NotConfigured,
        ErrorCode::SignInRequired,
        ErrorCode::SignInFailed,
        ErrorCode::StateMismatch,
        ErrorCode::ApiError,
        ErrorCode::BadResponse,
        ErrorCode::Unreachable,
        ErrorCode::Timeout,
        ErrorCode::Settings,
        ErrorCode::Keyring,
        ErrorCode::TokenStore,
        ErrorCode::CallLog,
        ErrorCode::SaveFailed,
        ErrorCode::DownloadFailed,
        ErrorCode::Starting,
        ErrorCode::Demo,
        ErrorCode::Routing,
        ErrorCode::Parking,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
        ErrorCode::RelayUnreachable,
        ErrorCode::TeamRefused,
        ErrorCode::SeatRevoked,
    ];

    /// The wire form, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::Invalid => "invalid",
            ErrorCode::InvalidNumber => "invalid_number",
            ErrorCode::SearchTooShort => "search_too_short",
            ErrorCode::NotFound => "not_found",
            ErrorCode::NotConfigured => "not_configured",
            ErrorCode::SignInRequired => "sign_in_required",
            ErrorCode::SignInFailed => "sign_in_failed",
            ErrorCode::StateMismatch => "state_mismatch",
            ErrorCode::ApiError => "api_error",
            ErrorCode::BadResponse => "bad_response",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Settings => "settings",
            ErrorCode::Keyring => "keyring",
            ErrorCode::TokenStore => "token_store",
            ErrorCode::CallLog => "call_log",
            ErrorCode::SaveFailed => "save_failed",
            ErrorCode::DownloadFailed => "download_failed",
            ErrorCode::Starting => "starting",
            ErrorCode::Demo => "demo",
            ErrorCode::Routing => "routing",
            ErrorCode::Parking => "parking",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::RelayUnreachable => "relay_unreachable",
            ErrorCode::TeamRefused => "team_refused",
            ErrorCode::SeatRevoked => "seat_revoked",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::ErrorCode;

    #[test]
    fn the_wire_form_is_as_str_and_round_trips() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
        }
    }

    #[test]
    fn all_lists_every_code_once() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
