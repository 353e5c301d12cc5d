//! Joining a team: the invite link, the join request and its answer, and the seat's profile.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::secret::SeatCredential;

/// What a seat may do. Operators act on their own workplace's calls, supervisors on every
/// call, admins also on the team's settings.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "Role.ts")]
pub enum Role {
    /// Dials from their own workplace, acts on calls that touch it.
    Operator,
    /// Sees and acts on every call of the team.
    Supervisor,
    /// A supervisor who also manages the team.
    Admin,
}

impl Role {
    /// The role's wire and command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// Reads a role's name (`operator`, `supervisor`, `admin`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "operator" => Some(Role::Operator),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A seat as its app sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeatProfile {
    /// The seat's number at its relay.
    pub id: i64,
    /// Who sits there (as the admin wrote it).
    pub name: String,
    /// What the seat may do.
    pub role: Role,
    /// The seat's workplace: its SIP ID at the PBX.
    pub workplace: String,
}

/// `POST /team/join`'s body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The invite's one-time code, as printed (dashes and case do not matter).
    pub code: String,
}

/// `POST /team/join`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinAnswer {
    /// The seat's credential: shown this once, kept by the app in the OS keyring.
    pub credential: SeatCredential,
    /// The seat.
    pub seat: SeatProfile,
}

/// An invite as a link: `trubka://join?server=<base url>&code=<code>`.
///
/// The server must be `https`, or plain `http` to this machine (tests), so that a link cannot
/// send a seat's secrets in clear; the app still shows the host and asks before joining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinLink {
    /// The relay's public base URL, without a trailing slash.
    pub server: String,
    /// The one-time code.
    pub code: String,
}

/// Why a join link was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinLinkError {
    /// Not a `trubka://join?…` link.
    NotAJoinLink,
    /// A parameter is missing or given twice.
    Parameter(&'static str),
    /// The server is not an https URL (or http to this machine).
    Server(String),
}

impl fmt::Display for JoinLinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinLinkError::NotAJoinLink => f.write_str("not a trubka://join link"),
            JoinLinkError::Parameter(name) => {
                write!(f, "the link must carry `{name}` exactly once")
            }
            JoinLinkError::Server(why) => write!(f, "the link's server is not acceptable: {why}"),
        }
    }
}

impl std::error::Error for JoinLinkError {}

impl JoinLink {
    /// A link to `server` (checked) with `code`.
    pub fn new(server: &str, code: &str) -> Result<Self, JoinLinkError> {
        Ok(Self {
            server: check_server(server)?,
            code: code.to_owned(),
        })
    }

    /// Reads a `trubka://join?server=…&code=…` link.
    pub fn parse(text: &str) -> Result<Self, JoinLinkError> {
        let url = Url::parse(text.trim()).map_err(|_| JoinLinkError::NotAJoinLink)?;
        if url.scheme() != "trubka" || url.host_str() != Some("join") {
            return Err(JoinLinkError::NotAJoinLink);
        }
        let one = |name: &'static str| {
            let mut values = url.query_pairs().filter(|(key, _)| key == name);
            match (values.next(), values.next()) {
                (Some((_, value)), None) if !value.is_empty() => Ok(value.into_owned()),
                _ => Err(JoinLinkError::Parameter(name)),
            }
        };
        let server = one("server")?;
        let code = one("code")?;
        Self::new(&server, &code)
    }

    /// The host the app shows for confirmation.
    pub fn host(&self) -> String {
        Url::parse(&self.server)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

impl fmt::Display for JoinLink {
    /// The link, with both values percent-encoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("server", &self.server)
            .append_pair("code", &self.code)
            .finish();
        write!(f, "trubka://join?{query}")
    }
}

/// `server` as a base URL without a trailing slash, if it is https, or http to a loopback
/// address, with no path, query or credentials.
fn check_server(server: &str) -> Result<String, JoinLinkError> {
    let refuse = |why: &str| JoinLinkError::Server(format!("{server:?}: {why}"));
    let url = Url::parse(server.trim()).map_err(|_| refuse("not a URL"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err(refuse("no host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(refuse("only https is accepted (or http to this machine)")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("a server address carries no user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("a server address has no query or fragment"));
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err(refuse("a server address is the base URL, without a path"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}
