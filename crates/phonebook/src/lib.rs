//! `phonebook`: the phonebook without storage, shared by the app's call log and the team relay.
//!
//! Why a crate of its own: the desktop keeps contacts in its call log (SQLite), and in team mode
//! the relay keeps the team's phonebook in its own store; both must read the same CSV and vCard
//! files, check a contact by the same rules and match numbers on the same key, or a number
//! would be the team's contact on one side and unknown on the other. What it must never do:
//! storage or I/O of any kind (no SQL, no files, no network) — it turns bytes and typed text
//! into checked values, and the two stores do the rest.
//!
//! - [`number`]: [`normalize_number`], the one key numbers meet on.
//! - [`contact`]: [`NewContact`] as entered and [`NewContact::validate`] into a [`ValidContact`].
//! - [`import`]: CSV and vCard readers that only parse, returning rows and a problem per bad
//!   line.
//! - [`spreadsheet`]: the guard that keeps a CSV cell from running as a formula, and its undoing.

pub mod contact;
pub mod import;
pub mod number;
pub mod spreadsheet;

pub use contact::{
    ContactNumber, InvalidContact, NewContact, ValidContact, caseless, is_number_like,
};
pub use import::{ImportProblem, ParsedContacts, ParsedRow, parse_csv, parse_vcard};
pub use number::{normalize_number, sip_id_of};
pub use spreadsheet::{spreadsheet_text, strip_spreadsheet_guard};
