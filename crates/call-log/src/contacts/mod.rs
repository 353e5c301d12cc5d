//! The phonebook: contacts with several numbers, a personal manager and notes.
//!
//! Two parts here: `store` keeps contacts in SQLite and answers the lookups; `export` writes
//! the phonebook as CSV that the importer reads back. Reading CSV and vCard files, and checking
//! a contact ([`NewContact::validate`]) before it is stored, live in the `phonebook` crate, which
//! the team relay shares: whichever way a contact comes, it passes the same check. A row whose
//! name matches an existing contact sharing one of its numbers updates that contact instead of
//! adding a duplicate. `team` keeps the copy of the team phonebook (team mode).

mod export;
mod store;
mod team;

use serde::{Deserialize, Serialize};

use crate::error::CallLogError;

pub(crate) use export::export_csv;
pub use phonebook::{ContactNumber, ImportProblem, NewContact};
pub(crate) use phonebook::{ValidContact, parse_csv, parse_vcard};
pub(crate) use store::{contact, contact_for_key, delete, import, insert, list, update};
pub use team::{TeamContactRow, TeamPhonebookReport, TeamPhonebookUpdate};
pub(crate) use team::{apply_team, forget_team, is_team_contact, team_version};

impl From<phonebook::InvalidContact> for CallLogError {
    fn from(err: phonebook::InvalidContact) -> Self {
        CallLogError::InvalidContact(err.0)
    }
}

/// A phonebook entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The row id.
    pub id: i64,
    /// The name to show.
    pub name: String,
    /// The company.
    pub company: Option<String>,
    /// The numbers, as entered, each with its matching key.
    pub numbers: Vec<ContactNumber>,
    /// The workplace SIP ID of the contact's personal manager (for routing).
    pub manager_sip_id: Option<String>,
    /// Free notes.
    pub notes: Option<String>,
    /// The team server's id when this is a team contact (kept by the team, read-only here);
    /// `None` for the operator's own.
    #[serde(default)]
    pub team_id: Option<i64>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Contacts added.
    pub added: usize,
    /// Existing contacts updated.
    pub updated: usize,
    /// Rows or cards refused, each with its line.
    pub problems: Vec<ImportProblem>,
}
