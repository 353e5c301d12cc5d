//! Team mode in Settings and the welcome: the team, the seat, an invite to confirm, and what
//! joining or leaving did.

use serde::Serialize;
use ts_rs::TS;

use super::ms;

/// The team this app is a seat of, as Settings shows it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "TeamView.ts")]
pub struct TeamView {
    /// `none` (personal mode), `joined`, or `revoked` (the app no longer acts for the team).
    pub state: String,
    /// The team server's host.
    pub host: Option<String>,
    /// The seat's name.
    pub seat: Option<String>,
    /// `operator`, `supervisor` or `admin`.
    pub role: Option<String>,
    /// The seat's workplace SIP ID.
    pub workplace: Option<String>,
    /// When this app joined (ms since the epoch).
    pub joined_at_ms: Option<f64>,
}

impl TeamView {
    /// The view of `team` in `state`.
    pub fn new(state: companion::TeamState, team: Option<&companion::TeamMembership>) -> Self {
        TeamView {
            state: state.as_str().to_owned(),
            host: team.map(companion::TeamMembership::host),
            seat: team.map(|t| t.seat.name.clone()),
            role: team.map(|t| t.seat.role.clone()),
            workplace: team.map(|t| t.seat.workplace.clone()),
            joined_at_ms: team.map(|t| ms(t.joined_at)),
        }
    }
}

/// An invite, read and checked, for the person to confirm: the server's host.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "TeamInvite.ts")]
pub struct TeamInvite {
    /// The host the app will join (shown in the confirmation).
    pub host: String,
    /// The server's base URL.
    pub server: String,
}

/// What joining did, for the window to say.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "TeamJoined.ts")]
pub struct TeamJoined {
    /// The team server's host.
    pub host: String,
    /// The seat's name.
    pub seat: String,
    /// Its role.
    pub role: String,
    /// Its workplace.
    pub workplace: String,
    /// The personal client secret or MTT tokens were removed from the keyring.
    pub removed_personal_secrets: bool,
    /// This app had decided parked calls and no longer does.
    pub stopped_routing: bool,
}

impl From<&companion::JoinReport> for TeamJoined {
    fn from(r: &companion::JoinReport) -> Self {
        TeamJoined {
            host: r.host.clone(),
            seat: r.seat.name.clone(),
            role: r.seat.role.clone(),
            workplace: r.seat.workplace.clone(),
            removed_personal_secrets: r.removed_personal_secrets,
            stopped_routing: r.stopped_routing,
        }
    }
}

/// What leaving deleted from this computer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "TeamLeft.ts")]
pub struct TeamLeft {
    /// Calls deleted (those since joining, when asked).
    pub deleted_calls: u32,
    /// Contacts deleted (those added since joining, when asked).
    pub deleted_contacts: u32,
}
