//! `trubka`'s exit codes. An error is one line on stderr, and the exit code says what kind of
//! failure it was, so scripts can tell "sign in again" from "try later":
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | anything else |
//! | 2 | the command line is wrong |
//! | 3 | the account is not set up far enough (see `trubka account set`) |
//! | 4 | sign-in is required, or it failed; or this team seat was revoked |
//! | 5 | the input is invalid (a number that cannot be dialled, a bad profile name, …) |
//! | 6 | the PBX, or the team's server, refused the request |
//! | 7 | MTT, the relay or the team's server could not be reached in time |
//! | 8 | local storage failed (settings, keyring, call history) |
//! | 9 | a confirmation was needed and not given (declined, or no terminal to ask in: add `--yes`) |
//!
//! Code 2 is clap's own for a wrong command line. The others come from the error's
//! [`ErrorCode`], matched exhaustively, so a new code cannot be added to the core without a
//! decision here.

use companion::{CompanionError, ErrorCode};

/// Anything else: a failure with no more specific code, or the runtime not starting.
pub const OTHER: u8 = 1;

/// The input is invalid (an invite link that cannot be read, say).
pub const INVALID_INPUT: u8 = 5;

/// A confirmation was needed and not given.
pub const NOT_CONFIRMED: u8 = 9;

/// The exit code for a failed command.
pub fn exit_code(e: &CompanionError) -> u8 {
    for_code(e.code())
}

fn for_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::NotConfigured => 3,
        ErrorCode::SignInRequired
        | ErrorCode::SignInFailed
        | ErrorCode::StateMismatch
        | ErrorCode::SeatRevoked => 4,
        ErrorCode::InvalidInput
        | ErrorCode::Invalid
        | ErrorCode::InvalidNumber
        | ErrorCode::SearchTooShort
        | ErrorCode::NotFound => 5,
        ErrorCode::ApiError | ErrorCode::BadResponse | ErrorCode::TeamRefused => 6,
        ErrorCode::Unreachable
        | ErrorCode::Timeout
        | ErrorCode::DownloadFailed
        | ErrorCode::RelayUnreachable => 7,
        ErrorCode::Settings
        | ErrorCode::Keyring
        | ErrorCode::CallLog
        | ErrorCode::TokenStore
        | ErrorCode::SaveFailed => 8,
        ErrorCode::Starting
        | ErrorCode::Demo
        | ErrorCode::Routing
        | ErrorCode::Parking
        | ErrorCode::Unavailable
        | ErrorCode::Internal => OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::{NOT_CONFIRMED, OTHER, for_code};
    use companion::ErrorCode;

    /// The codes the table above documents.
    fn documented() -> Vec<u8> {
        include_str!("exit.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//! | "))
            .filter_map(|l| l.split(' ').next()?.parse().ok())
            .collect()
    }

    #[test]
    fn an_unreadable_invite_exits_as_invalid_input_does() {
        assert_eq!(for_code(ErrorCode::InvalidInput), super::INVALID_INPUT);
    }

    #[test]
    fn every_exit_code_is_documented() {
        let documented = documented();
        assert_eq!(documented, (0..=9).collect::<Vec<u8>>());
        for code in ErrorCode::ALL {
            assert!(
                documented.contains(&for_code(*code)),
                "{code} exits with an undocumented code"
            );
        }
        assert!(documented.contains(&OTHER) && documented.contains(&NOT_CONFIRMED));
    }
}
