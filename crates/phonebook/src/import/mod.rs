//! Reading phonebook files: CSV (`csv_file`) and vCard (`vcard`), from bytes in whatever encoding
//! they were saved in (`text`). A reader turns a file into [`ParsedContacts`]: the contacts as
//! entered, each with the line it starts on, and a problem for each line it could not read. It
//! neither validates nor stores; the store does both, adding a problem for each contact that
//! fails validation.
//!
//! A row needs a name or at least one number; the manager, when given, must be a workplace SIP
//! ID (both checked by `NewContact::validate` when stored). A bad row or card is reported with
//! its line number and the rest are imported.

mod csv_file;
#[cfg(test)]
mod tests;
mod text;
mod vcard;

use serde::{Deserialize, Serialize};

use crate::contact::NewContact;

pub use csv_file::parse_csv;
pub use vcard::parse_vcard;

/// One row or card that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    /// The line of the file it starts on (1-based).
    pub line: u64,
    /// What was wrong with it.
    pub message: String,
}

/// A contact read from a file, with the line it started on.
#[derive(Debug)]
pub struct ParsedRow {
    /// The line of the file it starts on (1-based).
    pub line: u64,
    /// The contact as entered.
    pub contact: NewContact,
}

/// What a reader made of a file, nothing validated or stored yet.
#[derive(Debug, Default)]
pub struct ParsedContacts {
    /// The contacts as entered, in file order.
    pub rows: Vec<ParsedRow>,
    /// The lines that could not be read.
    pub problems: Vec<ImportProblem>,
}

/// Text from a file as the phonebook keeps it: line breaks as `\n` (Windows' CRLF and
/// quoted-printable's `=0D=0A` included).
fn clean_text(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}
