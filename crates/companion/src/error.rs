//! The core's one error type, with stable codes for the UI and the CLI.

use std::path::PathBuf;
use std::sync::Arc;

pub use error_codes::ErrorCode;

use crate::dialer::DialError;
use crate::recording_download::RecordingDownloadError;

/// Everything the core can fail at, in words an operator can act on.
///
/// It is `Clone` so that a stored failure (an account that could not be set up) can be reported
/// each time it is asked for with its own code and words; the other crates' errors, which are not
/// `Clone`, are held in an `Arc` for that.
#[derive(Debug, Clone, thiserror::Error)]
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
    InvalidSetting(#[from] InvalidSetting),
    /// Signing in did not complete.
    #[error("sign-in: {0}")]
    SignIn(String),
    /// The account is not set up far enough for this.
    #[error("{0}")]
    NotConfigured(String),
    /// A file the core writes for the operator (a diagnostics zip, the log folder) could not be.
    #[error("{}: {detail}", path.display())]
    File {
        /// The file or folder.
        path: std::path::PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Demo mode could not start (the `demo` crate reports its failures with this).
    #[error("demo mode: {0}")]
    Demo(String),
    /// The call history failed.
    #[error(transparent)]
    CallLog(Arc<call_log::CallLogError>),
    /// The number cannot be dialled.
    #[error(transparent)]
    Dial(#[from] DialError),
    /// The PBX or MTT's sign-in failed.
    #[error(transparent)]
    Mtt(Arc<mtt_api::Error>),
    /// A call's recording was not saved.
    #[error(transparent)]
    RecordingDownload(#[from] RecordingDownloadError),
    /// The team's server did not answer within the app's deadline; nothing was sent again.
    #[error("the team server is unreachable — dial from your phone ({0})")]
    RelayUnreachable(String),
    /// The team's server refused the request; `reason` is its own sentence.
    #[error("the team server refused: {reason}")]
    TeamRefused {
        /// The server's stable code (`not_your_workplace`, `pbx_timeout`, …).
        code: String,
        /// The server's reason, for people.
        reason: String,
    },
    /// The team's server revoked this seat (or its credential).
    #[error("this seat was revoked by the team's admin: {0}")]
    SeatRevoked(String),
    /// The team's server revoked this seat, and its admin asked for the team's history and
    /// contacts to be deleted from this computer (`seats revoke --delete-local-data`).
    #[error(
        "this seat was revoked by the team's admin, who asked for the team's history to be deleted from this computer: {0}"
    )]
    SeatRevokedDeleteLocalData(String),
}

impl From<call_log::CallLogError> for CompanionError {
    fn from(e: call_log::CallLogError) -> Self {
        CompanionError::CallLog(Arc::new(e))
    }
}

impl From<mtt_api::Error> for CompanionError {
    fn from(e: mtt_api::Error) -> Self {
        CompanionError::Mtt(Arc::new(e))
    }
}

impl CompanionError {
    /// The same error again, for reporting a stored failure more than once: its code and its
    /// words are kept (it is a plain clone).
    pub fn clone_for_report(&self) -> CompanionError {
        self.clone()
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
            CompanionError::File { .. } => ErrorCode::SaveFailed,
            CompanionError::CallLog(e) => e.code(),
            CompanionError::Demo(_) => ErrorCode::Demo,
            CompanionError::Mtt(e) => e.code(),
            CompanionError::RecordingDownload(e) => e.code(),
            CompanionError::RelayUnreachable(_) => ErrorCode::RelayUnreachable,
            CompanionError::TeamRefused { .. } => ErrorCode::TeamRefused,
            CompanionError::SeatRevoked(_) | CompanionError::SeatRevokedDeleteLocalData(_) => {
                ErrorCode::SeatRevoked
            }
        }
    }
}

/// A setting that cannot be right: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSetting {
    /// The setting's key as the file spells it (`hotkey`, `account.relay_url`, …).
    pub key: &'static str,
    /// Why it cannot be right, in words an operator can act on.
    pub reason: String,
}

impl std::fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

impl std::error::Error for InvalidSetting {}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable() -> mtt_api::Error {
        mtt_api::Error::Transport {
            host: "api.mtt.ru".into(),
            detail: "connection refused".into(),
            retryable: true,
            timeout: None,
        }
    }

    #[test]
    fn a_stored_failure_reported_twice_keeps_its_code_and_its_words() {
        let stored = [
            call_log::CallLogError::Closed.into(),
            unreachable().into(),
            mtt_api::Error::SignInRequired("the refresh token expired".into()).into(),
            CompanionError::Keyring("locked".into()),
            CompanionError::NotConfigured("no account".into()),
            CompanionError::InvalidSetting(InvalidSetting {
                key: "hotkey",
                reason: "needs a key".into(),
            }),
        ];
        for error in &stored {
            let once = error.clone_for_report();
            let twice = once.clone_for_report();
            for reported in [&once, &twice] {
                assert_eq!(reported.code(), error.code(), "{error}");
                assert_eq!(reported.to_string(), error.to_string());
            }
        }
        assert_eq!(stored[0].clone_for_report().code(), ErrorCode::CallLog);
        assert_eq!(stored[1].clone_for_report().code(), ErrorCode::Unreachable);
        assert_eq!(
            stored[2].clone_for_report().code(),
            ErrorCode::SignInRequired
        );
    }
}
