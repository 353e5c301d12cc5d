//! `team join`, `team status` and `team leave` (camelCase, like the account's).

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The seat, as `team join` and `team status` print it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Seat {
    /// The seat's number at its team server.
    pub id: i64,
    /// Who sits there.
    pub name: String,
    /// `operator`, `supervisor` or `admin`.
    pub role: String,
    /// The seat's workplace SIP ID.
    pub workplace: String,
}

impl From<&companion::TeamSeat> for Seat {
    fn from(s: &companion::TeamSeat) -> Self {
        Seat {
            id: s.id,
            name: s.name.clone(),
            role: s.role.clone(),
            workplace: s.workplace.clone(),
        }
    }
}

/// `team join`: the seat this app now is, and what joining changed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamJoined {
    /// The team server's host, as confirmed.
    pub host: String,
    /// The seat.
    pub seat: Seat,
    /// The personal client secret or MTT tokens were removed from the keyring.
    pub removed_personal_secrets: bool,
    /// This app had decided parked calls and no longer does.
    pub stopped_routing: bool,
    /// The local history was kept.
    pub kept_history: bool,
}

impl From<&companion::JoinReport> for TeamJoined {
    fn from(r: &companion::JoinReport) -> Self {
        TeamJoined {
            host: r.host.clone(),
            seat: Seat::from(&r.seat),
            removed_personal_secrets: r.removed_personal_secrets,
            stopped_routing: r.stopped_routing,
            kept_history: r.kept_history,
        }
    }
}

/// `team status`: the team, the seat and whether the server answers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamStatus {
    /// `none` (personal mode), `joined` or `revoked`.
    pub state: String,
    /// The team server's base URL.
    pub server: Option<String>,
    /// Its host.
    pub host: Option<String>,
    /// The seat, as the server last described it.
    pub seat: Option<Seat>,
    /// When this app joined.
    pub joined_at: Option<DateTime<Utc>>,
    /// When the seat was found revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The server now: `connected`, `unreachable`, `revoked`, or `null` in personal mode.
    pub link: Option<String>,
    /// Why the server could not be asked, if it could not.
    pub reason: Option<String>,
}

/// `team leave`: what was deleted from this computer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamLeft {
    /// Calls deleted from the local history (those since joining; 0 unless asked).
    pub deleted_calls: u64,
    /// Contacts deleted (those added since joining; 0 unless asked).
    pub deleted_contacts: u64,
}

impl From<companion::LeaveReport> for TeamLeft {
    fn from(r: companion::LeaveReport) -> Self {
        TeamLeft {
            deleted_calls: r.deleted_calls,
            deleted_contacts: r.deleted_contacts,
        }
    }
}
