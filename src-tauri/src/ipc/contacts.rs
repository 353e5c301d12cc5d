//! The Contacts screen: phonebook entries as listed and edited, and what an import did.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::readable;

/// One phonebook entry (external text: render every field as text only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ContactRow.ts")]
pub struct ContactRow {
    /// The row id, which edit and delete take.
    #[ts(type = "number")]
    pub id: i64,
    /// The name.
    pub name: String,
    /// The company.
    pub company: Option<String>,
    /// The numbers.
    pub numbers: Vec<ContactPhone>,
    /// The personal manager's workplace SIP ID.
    pub manager_sip_id: Option<String>,
    /// Free notes.
    pub notes: Option<String>,
    /// From the team phonebook (team mode), not the operator's own.
    pub team: bool,
    /// A team contact this seat may not change (operators): no edit or delete.
    pub read_only: bool,
}

impl ContactRow {
    /// The row as a seat that may (`true`) or may not change team contacts sees it.
    pub fn for_seat(mut self, edits_team_contacts: bool) -> Self {
        self.read_only = self.team && !edits_team_contacts;
        self
    }
}

/// One number of a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ContactPhone.ts")]
pub struct ContactPhone {
    /// As a person reads it (`+7 921 946-27-61`).
    pub number: String,
    /// As it was entered, for editing and dialling.
    pub raw: String,
}

impl From<&call_log::Contact> for ContactRow {
    fn from(c: &call_log::Contact) -> Self {
        ContactRow {
            id: c.id,
            name: c.name.clone(),
            company: c.company.clone(),
            numbers: c
                .numbers
                .iter()
                .map(|n| ContactPhone {
                    // The key is the number in full (`8 (812) …` becomes `7812…`), which reads
                    // the same way whatever formatting it was typed with.
                    number: readable_key(&n.key),
                    raw: n.number.clone(),
                })
                .collect(),
            manager_sip_id: c.manager_sip_id.clone(),
            notes: c.notes.clone(),
            team: c.team_id.is_some(),
            read_only: c.team_id.is_some(),
        }
    }
}

/// A contact as the edit dialog sends it, to add or to replace one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ContactDraft.ts")]
pub struct ContactDraft {
    /// The name.
    pub name: String,
    /// The company.
    #[ts(optional)]
    pub company: Option<String>,
    /// The numbers as typed.
    pub numbers: Vec<String>,
    /// The personal manager's workplace SIP ID.
    #[ts(optional)]
    pub manager_sip_id: Option<String>,
    /// Free notes.
    #[ts(optional)]
    pub notes: Option<String>,
    /// Add it to the team phonebook (a supervisor's or an admin's app), not as the operator's
    /// own; ignored when editing.
    #[ts(optional)]
    #[serde(default)]
    pub team: Option<bool>,
}

impl From<ContactDraft> for call_log::NewContact {
    fn from(d: ContactDraft) -> Self {
        call_log::NewContact {
            name: d.name,
            company: d.company,
            numbers: d.numbers,
            manager_sip_id: d.manager_sip_id,
            notes: d.notes,
        }
    }
}

/// Which kind of file an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ImportFormat.ts")]
pub enum ImportFormat {
    /// A table with a header row, `;`, `,` or tab separated, in any encoding.
    Csv,
    /// vCard 2.1, 3.0 or 4.0 cards, in any encoding.
    Vcard,
}

/// What an import did, with every refused row or card and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ImportOutcome.ts")]
pub struct ImportOutcome {
    /// Contacts added.
    pub added: u32,
    /// Existing contacts updated.
    pub updated: u32,
    /// Rows or cards refused.
    pub problems: Vec<ImportIssue>,
}

/// One refused row or card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ImportIssue.ts")]
pub struct ImportIssue {
    /// The line of the file it starts on (1-based).
    #[ts(type = "number")]
    pub line: u64,
    /// What was wrong with it.
    pub message: String,
}

impl From<&call_log::ImportReport> for ImportOutcome {
    fn from(r: &call_log::ImportReport) -> Self {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        ImportOutcome {
            added: count(r.added),
            updated: count(r.updated),
            problems: r
                .problems
                .iter()
                .map(|p| ImportIssue {
                    line: p.line,
                    message: p.message.clone(),
                })
                .collect(),
        }
    }
}

/// A contact's number for people, from its key. A foreign number's key is its full digits
/// without `+` (`4420…`), which would read as a Russian number, so it gets its `+` back; a
/// workplace's SIP ID and a short internal number stay as they are.
fn readable_key(key: &str) -> String {
    let shown = readable(key);
    let full_digits = key.len() > 10 && key.bytes().all(|b| b.is_ascii_digit());
    if shown != key || !full_digits || mtt_api::SipId::looks_like(key) {
        return shown;
    }
    readable(&format!("+{key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(typed: &str) -> String {
        let contact = call_log::Contact {
            id: 1,
            name: "X".into(),
            company: None,
            numbers: vec![call_log::ContactNumber {
                number: typed.into(),
                key: call_log::normalize_number(typed).unwrap(),
            }],
            manager_sip_id: None,
            notes: None,
            team_id: None,
        };
        ContactRow::from(&contact).numbers[0].number.clone()
    }

    #[test]
    fn a_contacts_number_reads_in_full_whatever_its_country() {
        assert_eq!(shown("8 (916) 555-02-20"), "+7 916 555-02-20");
        assert_eq!(shown("+7 812 555-04-40"), "+7 812 555-04-40");
        // The key of a foreign number has no `+`: shown as is, it read as a Russian one.
        assert_eq!(shown("+44 20 7946 0018"), "+44 20 7946 0018");
        assert_eq!(shown("+1 (212) 555-0100"), "+1 212-555-0100");
        // Workplaces and short internal numbers stay as they are.
        assert_eq!(shown("883140777446532"), "883140777446532");
        assert_eq!(shown("101"), "101");
    }
}
