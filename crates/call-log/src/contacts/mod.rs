//! The phonebook: contacts with several numbers, a personal manager and notes.
//!
//! Three parts: `store` keeps contacts in SQLite and answers the lookups; `import` reads CSV and
//! vCard files into contacts as entered, each with its line, plus a problem for each line it
//! could not read, and knows nothing of the database, so a reader can be replaced alone; `export`
//! writes the phonebook as CSV that the importer reads back. Whichever way a contact comes, it is
//! checked by [`NewContact::validate`] before it is stored. A row whose name matches an existing
//! contact sharing one of its numbers updates that contact instead of adding a duplicate.

mod export;
mod import;
mod store;

use mtt_api::model::SipId;
use serde::{Deserialize, Serialize};

use crate::error::{CallLogError, Result};
use crate::number::normalize_number;

pub(crate) use export::export_csv;
pub use import::ImportProblem;
pub(crate) use import::{parse_csv, parse_vcard};
pub(crate) use store::{contact, contact_for_key, delete, import, insert, list, update};

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
}

/// One number of a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactNumber {
    /// As entered.
    pub number: String,
    /// Normalised for matching.
    pub key: String,
}

/// A contact to add or the new contents of one to update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewContact {
    /// The name; required unless there is a company or a number to show instead.
    pub name: String,
    /// The company.
    pub company: Option<String>,
    /// The numbers as entered.
    pub numbers: Vec<String>,
    /// The personal manager's workplace SIP ID.
    pub manager_sip_id: Option<String>,
    /// Free notes.
    pub notes: Option<String>,
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

fn blank_to_none(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Whether a text is a telephone number or SIP ID worth storing.
fn is_number_like(raw: &str) -> bool {
    let s = raw.trim();
    let s = s.split_once('@').map_or(s, |(n, _)| n);
    let digits = s.chars().filter(char::is_ascii_digit).count();
    digits >= 2
        && s.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' ' | '.' | '\u{a0}')
        })
}

/// A contact checked and normalised, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValidContact {
    name: String,
    company: Option<String>,
    numbers: Vec<ContactNumber>,
    manager_sip_id: Option<String>,
    notes: Option<String>,
}

impl NewContact {
    pub(crate) fn validate(self) -> Result<ValidContact> {
        let company = blank_to_none(self.company);
        let notes = blank_to_none(self.notes);
        let manager_sip_id = blank_to_none(self.manager_sip_id);
        if let Some(manager) = &manager_sip_id
            && !SipId::looks_like(manager)
        {
            return Err(CallLogError::InvalidContact(format!(
                "the manager {manager:?} is not a workplace SIP ID (15 digits starting with 8831)"
            )));
        }
        let mut numbers: Vec<ContactNumber> = Vec::new();
        for raw in self
            .numbers
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
        {
            if !is_number_like(raw) {
                return Err(CallLogError::InvalidContact(format!(
                    "{raw:?} is not a telephone number"
                )));
            }
            if let Some(key) = normalize_number(raw)
                && !numbers.iter().any(|n| n.key == key)
            {
                numbers.push(ContactNumber {
                    number: raw.to_owned(),
                    key,
                });
            }
        }
        let name = match self.name.trim() {
            "" => company
                .clone()
                .or_else(|| numbers.first().map(|n| n.number.clone()))
                .ok_or_else(|| {
                    CallLogError::InvalidContact("a contact needs a name or a number".into())
                })?,
            name => name.to_owned(),
        };
        Ok(ValidContact {
            name,
            company,
            numbers,
            manager_sip_id,
            notes,
        })
    }
}

#[cfg(test)]
mod tests;
