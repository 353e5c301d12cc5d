//! Team mode, the app's side: membership in a team (a relay that holds the integration), the
//! invite to join one, the client of the relay's seat API, and the colleagues' roster (presence
//! and availability) the Team panel shows.
//!
//! In team mode the app keeps no client secret and no MTT token: its seat credential (in the
//! keyring) is its only secret, the relay calls the PBX on its behalf and decides parked calls.
//! This module holds the data and the HTTP client; `core/team.rs` joins, leaves and follows
//! revocation, and `core/calls.rs` sends actions here instead of to the PBX.

mod client;
mod colleagues;
pub(crate) mod wrapup;

pub use client::{ACTION_CEILING, JOIN_CEILING, TeamClient};
pub use colleagues::{TeamColleague, TeamRoster};
pub use team_api::{Availability, Presence};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use team_api::{JoinLink, SeatProfile};

use crate::error::CompanionError;

/// The team this app is a seat of, as kept in the profile's settings. No secret: the seat's
/// credential is in the keyring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct TeamMembership {
    /// The team server's (the relay's) base URL: https, or http to this machine.
    pub server: String,
    /// The seat, as the server last described it.
    pub seat: TeamSeat,
    /// When this app joined.
    pub joined_at: DateTime<Utc>,
    /// When the server was found to have revoked the seat; the app no longer acts for the team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A seat as the settings keep it: the server's [`SeatProfile`] in the settings' own shape
/// (a newer server may describe more; the settings file ignores what it does not know).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct TeamSeat {
    /// The seat's number at its server.
    pub id: i64,
    /// Who sits there.
    pub name: String,
    /// `operator`, `supervisor` or `admin`.
    pub role: String,
    /// The seat's workplace (SIP ID).
    pub workplace: String,
}

impl From<&SeatProfile> for TeamSeat {
    fn from(seat: &SeatProfile) -> Self {
        TeamSeat {
            id: seat.id,
            name: seat.name.clone(),
            role: seat.role.as_str().to_owned(),
            workplace: seat.workplace.clone(),
        }
    }
}

impl TeamMembership {
    /// The server's host, as shown to people.
    pub fn host(&self) -> String {
        host_of(&self.server)
    }
}

/// An invite read and checked, not yet used: what the person must confirm (the server's host)
/// before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinOffer {
    link: JoinLink,
}

impl JoinOffer {
    /// Reads a `trubka://join?server=…&code=…` link, or a bare code with `server` (the server's
    /// base URL). A server given beside a link must be the link's own.
    pub fn read(input: &str, server: Option<&str>) -> Result<Self, CompanionError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(CompanionError::InvalidInput(
                "paste the invite link or code the team's admin sent".into(),
            ));
        }
        let bad = |e: team_api::JoinLinkError| CompanionError::InvalidInput(e.to_string());
        let link = if input.contains("://") {
            let link = JoinLink::parse(input).map_err(bad)?;
            if let Some(server) = server {
                let given = JoinLink::new(server, &link.code).map_err(bad)?;
                if given.server != link.server {
                    return Err(CompanionError::InvalidInput(format!(
                        "the link names the server {} but {} was given",
                        link.server, given.server
                    )));
                }
            }
            link
        } else {
            let server = server.ok_or_else(|| {
                CompanionError::InvalidInput(
                    "a bare invite code needs the team server's address (--server https://…)"
                        .into(),
                )
            })?;
            if input.chars().any(char::is_whitespace) || input.len() > 200 {
                return Err(CompanionError::InvalidInput(
                    "this is not an invite code: it is one word the admin sent".into(),
                ));
            }
            JoinLink::new(server, input).map_err(bad)?
        };
        Ok(JoinOffer { link })
    }

    /// The server's host: what the person confirms.
    pub fn host(&self) -> String {
        host_of(&self.link.server)
    }

    /// The server's base URL.
    pub fn server(&self) -> &str {
        &self.link.server
    }

    pub(crate) fn code(&self) -> &str {
        &self.link.code
    }
}

/// What joining did, so that the window and the CLI can say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinReport {
    /// The team server's host.
    pub host: String,
    /// The seat this app now is.
    pub seat: TeamSeat,
    /// The personal client secret or MTT tokens were removed from the keyring.
    pub removed_personal_secrets: bool,
    /// This app had been deciding parked calls and no longer does (the server decides).
    pub stopped_routing: bool,
    /// The local history stays (it is never removed by joining).
    pub kept_history: bool,
}

/// What leaving did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaveReport {
    /// Calls removed from the local history (those since joining), when asked.
    pub deleted_calls: u64,
    /// Contacts removed: the team phonebook's always, and those added since joining when
    /// asked.
    pub deleted_contacts: u64,
}

/// Team mode's state, for the window and `trubka team status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamState {
    /// Not in a team (personal mode).
    None,
    /// A seat of a team.
    Joined,
    /// The server revoked the seat; the app stopped acting for the team.
    Revoked,
}

impl TeamState {
    /// The state's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TeamState::None => "none",
            TeamState::Joined => "joined",
            TeamState::Revoked => "revoked",
        }
    }
}

/// The host of a base URL with its port when one is given (`team.example.ru:8443`; a
/// scheme's default port is not given), or the URL itself if it has no host. The port is part
/// of which server it is: two servers on one host differ only by it.
pub(crate) fn host_of(server: &str) -> String {
    let Some(url) = url::Url::parse(server).ok() else {
        return server.to_owned();
    };
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => server.to_owned(),
    }
}

#[cfg(test)]
mod tests;
