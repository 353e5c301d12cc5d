//! `contacts …`, and the phonebook entry an incoming call's summary carries. snake_case.

use serde::Serialize;

/// A phonebook entry.
#[derive(Debug, Serialize)]
pub struct Contact {
    /// The row id.
    pub id: i64,
    /// The name to show.
    pub name: String,
    /// The company.
    pub company: Option<String>,
    /// The numbers.
    pub numbers: Vec<ContactNumber>,
    /// The workplace SIP ID of the contact's personal manager.
    pub manager_sip_id: Option<String>,
    /// Free notes.
    pub notes: Option<String>,
}

impl From<&call_log::Contact> for Contact {
    fn from(c: &call_log::Contact) -> Self {
        Contact {
            id: c.id,
            name: c.name.clone(),
            company: c.company.clone(),
            numbers: c.numbers.iter().map(ContactNumber::from).collect(),
            manager_sip_id: c.manager_sip_id.clone(),
            notes: c.notes.clone(),
        }
    }
}

/// One number of a contact.
#[derive(Debug, Serialize)]
pub struct ContactNumber {
    /// As entered.
    pub number: String,
    /// Normalised for matching (the digits with the country code).
    pub key: String,
}

impl From<&call_log::ContactNumber> for ContactNumber {
    fn from(n: &call_log::ContactNumber) -> Self {
        ContactNumber {
            number: n.number.clone(),
            key: n.key.clone(),
        }
    }
}

/// `contacts import`: what the import did.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    /// Contacts added.
    pub added: usize,
    /// Existing contacts updated.
    pub updated: usize,
    /// Rows or cards refused.
    pub problems: Vec<ImportProblem>,
}

impl From<&call_log::ImportReport> for ImportReport {
    fn from(r: &call_log::ImportReport) -> Self {
        ImportReport {
            added: r.added,
            updated: r.updated,
            problems: r
                .problems
                .iter()
                .map(|p| ImportProblem {
                    line: p.line,
                    message: p.message.clone(),
                })
                .collect(),
        }
    }
}

impl ImportReport {
    /// The report for people: `added 2, updated 1, skipped 1:` and one indented line per
    /// refused row or card, with its line in the file.
    pub fn for_people(&self) -> String {
        let mut text = format!(
            "added {}, updated {}, skipped {}",
            self.added,
            self.updated,
            self.problems.len()
        );
        if !self.problems.is_empty() {
            text.push(':');
        }
        for p in &self.problems {
            text.push_str(&format!("\n  line {}: {}", p.line, p.message));
        }
        text
    }
}

/// One row or card that could not be imported.
#[derive(Debug, Serialize)]
pub struct ImportProblem {
    /// The line of the file it starts on (1-based).
    pub line: u64,
    /// What was wrong with it.
    pub message: String,
}
