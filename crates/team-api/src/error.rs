//! The body of every refusal: `{code, message}`.

use serde::{Deserialize, Serialize};

/// Why the relay refused a team request. The wire form is the `snake_case` name; codes are never
/// renamed or reused, and the app switches on them, never on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TeamErrorCode {
    /// The request's body or parameters are not what the endpoint takes (unknown fields
    /// included).
    BadRequest,
    /// The body is larger than the endpoint takes.
    TooLarge,
    /// The invite code is not of the shape the relay hands out.
    InviteMalformed,
    /// No invite has this code.
    InviteUnknown,
    /// The invite outlived its expiry.
    InviteExpired,
    /// The invite was already used (or replaced by a newer one).
    InviteUsed,
    /// No credential, or one this relay does not know.
    Unauthorized,
    /// The credential was issued by another relay (another team).
    CredentialOfAnotherRelay,
    /// The credential was revoked: by a newer join of the same seat, or with the seat.
    CredentialRevoked,
    /// The seat was revoked.
    SeatRevoked,
    /// The relay is in team mode and refuses personal-mode client keys.
    ClientKeysRefused,
    /// Too many attempts; try again after `Retry-After`.
    RateLimited,
    /// The relay cannot serve this now (its store, or a cap).
    Unavailable,
    /// An operator named a workplace other than their own (403).
    NotYourWorkplace,
    /// An operator named a leg that does not touch their workplace (403).
    NotYourCall,
    /// The action needs a higher role (parking: admin) (403).
    RoleRequired,
    /// The relay knows no live leg with this id (it finished, or never was) (404).
    CallUnknown,
    /// The team phonebook has no contact with this id (it was deleted, or never was) (404).
    ContactUnknown,
    /// The relay holds no working МТТ integration: connect it (503).
    NotConnected,
    /// The PBX refused the action; the message carries its answer (502).
    PbxRefused,
    /// The PBX did not answer in time. The action may or may not have happened; it was not
    /// sent again (a dial is never repeated) (504).
    PbxTimeout,
    /// The PBX could not be reached; nothing was done (502).
    PbxUnreachable,
    /// Set by the app, never sent by a relay: the relay could not be reached (or did not answer
    /// within the app's deadline); dial from the phone.
    RelayUnreachable,
}

/// What a refused request is answered: a stable code and a sentence for people.
/// Unknown fields are ignored: an error body may carry more for older clients (`error`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The stable code.
    pub code: TeamErrorCode,
    /// What was wrong, for people.
    pub message: String,
    /// On `seat_revoked` only: the admin revoked the seat with `--delete-local-data` and asks
    /// the app to delete the team's history and contacts from its computer (as "Leave team"
    /// offers to). Absent (false) everywhere else; an older relay never sends it and an older
    /// app ignores it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub delete_local_data: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ErrorBody {
    /// A body with this code and message.
    pub fn new(code: TeamErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            delete_local_data: false,
        }
    }

    /// The same body, asking the app to delete the team's local data (or not).
    pub fn with_delete_local_data(mut self, delete: bool) -> Self {
        self.delete_local_data = delete;
        self
    }
}
