//! A contact as entered, and the one check every contact passes before either store keeps it,
//! whichever way it came (typed in the app, imported from a file, sent to the relay's seat API).

use mtt_api::model::SipId;
use serde::{Deserialize, Serialize};

use crate::number::normalize_number;

/// Why a contact was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidContact(pub String);

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

/// A contact checked and normalised, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidContact {
    /// The name to show (the company or the first number when none was given).
    pub name: String,
    /// The company, trimmed, never blank.
    pub company: Option<String>,
    /// The numbers, each once by its key.
    pub numbers: Vec<ContactNumber>,
    /// The personal manager's workplace SIP ID.
    pub manager_sip_id: Option<String>,
    /// Free notes, trimmed, never blank.
    pub notes: Option<String>,
}

/// Orders two names case aside in every script: "анна петрова" and "Анна Петрова" are equal, and
/// "алла" comes before "Вера". Both stores (the app's and the relay's) match and sort names by
/// it rather than by SQL's `lower()` or NOCASE, which fold only ASCII.
pub fn caseless(a: &str, b: &str) -> std::cmp::Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

fn blank_to_none(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Whether a text is a telephone number or SIP ID worth storing.
pub fn is_number_like(raw: &str) -> bool {
    let s = raw.trim();
    let s = s.split_once('@').map_or(s, |(n, _)| n);
    let digits = s.chars().filter(char::is_ascii_digit).count();
    digits >= 2
        && s.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' ' | '.' | '\u{a0}')
        })
}

impl NewContact {
    /// Checks and normalises the contact: a name (or a company or number to show instead),
    /// numbers that are numbers, a manager that is a workplace SIP ID.
    pub fn validate(self) -> Result<ValidContact, InvalidContact> {
        let company = blank_to_none(self.company);
        let notes = blank_to_none(self.notes);
        let manager_sip_id = blank_to_none(self.manager_sip_id);
        if let Some(manager) = &manager_sip_id
            && !SipId::looks_like(manager)
        {
            return Err(InvalidContact(format!(
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
                return Err(InvalidContact(format!("{raw:?} is not a telephone number")));
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
                .ok_or_else(|| InvalidContact("a contact needs a name or a number".into()))?,
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
mod tests {
    use super::*;

    #[test]
    fn names_compare_case_aside_in_every_script() {
        use std::cmp::Ordering::{Equal, Less};
        assert_eq!(caseless("анна петрова", "Анна Петрова"), Equal);
        assert_eq!(caseless("ANNA", "anna"), Equal);
        assert_eq!(caseless("алла", "Вера"), Less);
        assert_eq!(caseless("Анна", "анна петрова"), Less);
    }

    #[test]
    fn a_contact_needs_a_name_or_number_and_a_real_manager() {
        assert!(NewContact::default().validate().is_err());
        let only_number = NewContact {
            numbers: vec!["+79219462761".into()],
            ..NewContact::default()
        }
        .validate()
        .unwrap();
        assert_eq!(only_number.name, "+79219462761");
        let bad_manager = NewContact {
            name: "A".into(),
            manager_sip_id: Some("101".into()),
            ..NewContact::default()
        };
        assert!(bad_manager.validate().is_err());
    }
}
