//! The team's directory as the relay keeps it: the PBX's external numbers, workplaces and
//! terminals, read once and again whenever a `vpbxNotifications` event says they changed.
//!
//! Plain data (not mtt-api's types) so that this crate stays free of the HTTP client.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One of the company's external numbers (`externalNumbersInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryNumber {
    /// The number, e.g. `78005560251`.
    pub number: String,
    /// The number's type in the PBX, if it gave one.
    pub kind: Option<String>,
}

/// A workplace (`workPlacesInfo`): an operator's seat at the PBX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryWorkplace {
    /// Its SIP ID.
    pub workplace: String,
    /// Its name at the PBX; often empty.
    pub name: String,
}

/// A device registered to a workplace (`terminalsInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryTerminal {
    /// The terminal's SIP ID.
    pub terminal: String,
    /// The workplace it belongs to.
    pub workplace: String,
}

/// `GET /team/directory`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Directory {
    /// External numbers.
    pub numbers: Vec<DirectoryNumber>,
    /// Workplaces.
    pub workplaces: Vec<DirectoryWorkplace>,
    /// Terminals.
    pub terminals: Vec<DirectoryTerminal>,
    /// When the relay read it from the PBX.
    pub fetched_at: DateTime<Utc>,
}
