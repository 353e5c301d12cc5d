//! The core's one error type, with stable codes for the UI and the CLI.

use std::path::PathBuf;

pub use error_codes::ErrorCode;

use crate::dialer::DialError;

/// Everything the core can fail at, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompanionError {
    /// The settings file could not be read or written.
    #[error("settings file {}: {detail}", path.display())]
    Settings {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line for parse errors.
        detail: String,
    },
    /// The OS keyring failed.
    #[error("keyring: {0}")]
    Keyring(String),
    /// Input that cannot be right.
    #[error("{0}")]
    InvalidInput(String),
    /// A setting that cannot be right, with the setting's key.
    #[error(transparent)]
    InvalidSetting(#[from] crate::settings::InvalidSetting),
    /// Signing in did not complete.
    #[error("sign-in: {0}")]
    SignIn(String),
    /// The account is not set up far enough for this.
    #[error("{0}")]
    NotConfigured(String),
    /// Demo mode could not start.
    #[error("demo mode: {0}")]
    Demo(String),
    /// The call history failed.
    #[error(transparent)]
    CallLog(#[from] call_log::CallLogError),
    /// The number cannot be dialled.
    #[error(transparent)]
    Dial(#[from] DialError),
    /// The PBX or MTT's sign-in failed.
    #[error(transparent)]
    Mtt(#[from] mtt_api::Error),
}

impl CompanionError {
    /// The same error again, for reporting a stored failure more than once. Errors that wrap
    /// other crates' errors are reported by their text under the same code.
    pub fn clone_for_report(&self) -> CompanionError {
        match self {
            CompanionError::Settings { path, detail } => CompanionError::Settings {
                path: path.clone(),
                detail: detail.clone(),
            },
            CompanionError::Keyring(m) => CompanionError::Keyring(m.clone()),
            CompanionError::InvalidInput(m) => CompanionError::InvalidInput(m.clone()),
            CompanionError::InvalidSetting(e) => CompanionError::InvalidSetting(e.clone()),
            CompanionError::SignIn(m) => CompanionError::SignIn(m.clone()),
            CompanionError::NotConfigured(m) => CompanionError::NotConfigured(m.clone()),
            CompanionError::Demo(m) => CompanionError::Demo(m.clone()),
            CompanionError::Dial(e) => CompanionError::Dial(e.clone()),
            CompanionError::CallLog(e) => CompanionError::NotConfigured(e.to_string()),
            CompanionError::Mtt(e) => CompanionError::InvalidInput(e.to_string()),
        }
    }

    /// A short, stable code: the UI switches on it and the CLI maps it to an exit code.
    pub fn code(&self) -> ErrorCode {
        match self {
            CompanionError::Settings { .. } => ErrorCode::Settings,
            CompanionError::Keyring(_) => ErrorCode::Keyring,
            CompanionError::InvalidInput(_) => ErrorCode::InvalidInput,
            CompanionError::InvalidSetting(_) => ErrorCode::Invalid,
            CompanionError::Dial(_) => ErrorCode::InvalidNumber,
            CompanionError::SignIn(_) => ErrorCode::SignInFailed,
            CompanionError::NotConfigured(_) => ErrorCode::NotConfigured,
            CompanionError::CallLog(e) => e.code(),
            CompanionError::Demo(_) => ErrorCode::Demo,
            CompanionError::Mtt(e) => e.code(),
        }
    }
}
