//! The team phonebook behind a trait: contacts with their numbers, company, personal manager
//! (a workplace) and notes, and the phonebook's version.
//!
//! Every change takes the next version (one per contact changed, so that a page of changes
//! ends exactly at a version) and stamps the contact with it; a deleted contact stays as a
//! tombstone with the version of its deletion, so an app asking for what changed since any
//! earlier version learns of it. The phonebook's version is the highest any contact carries.
//! Contacts arrive here already checked (`phonebook::ValidContact`): the store only keeps them.

use std::sync::Arc;

use futures::future::BoxFuture;
use phonebook::{ImportProblem, ParsedContacts, ValidContact};
use team_api::{PhonebookChanges, TeamContact};

use crate::error::RelayError;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhonebookImport {
    /// Contacts added.
    pub added: usize,
    /// Existing contacts updated (same name, sharing a number).
    pub updated: usize,
    /// The rows refused, each with its line; with `all_or_nothing`, any makes the import store
    /// nothing.
    pub problems: Vec<ImportProblem>,
    /// Whether anything was stored.
    pub stored: bool,
}

/// The team phonebook's store.
pub trait PhonebookStore: Send + Sync + std::fmt::Debug + 'static {
    /// Adds a contact; answers it as stored.
    fn add_contact(&self, contact: ValidContact) -> BoxFuture<'_, Result<TeamContact, RelayError>>;

    /// Replaces a live contact's fields and numbers; `None` if there is no such live contact.
    fn update_contact(
        &self,
        id: i64,
        contact: ValidContact,
    ) -> BoxFuture<'_, Result<Option<TeamContact>, RelayError>>;

    /// Deletes a live contact (it stays as a tombstone); answers it as it was, `None` if there
    /// is no such live contact.
    fn delete_contact(&self, id: i64) -> BoxFuture<'_, Result<Option<TeamContact>, RelayError>>;

    /// The changes after version `since`, at most `limit`, in version order. A `since` beyond
    /// the phonebook's version answers everything from the start with `reset`.
    fn contact_changes(
        &self,
        since: i64,
        limit: usize,
    ) -> BoxFuture<'_, Result<PhonebookChanges, RelayError>>;

    /// The phonebook's version (0 when it never held a contact).
    fn phonebook_version(&self) -> BoxFuture<'_, Result<i64, RelayError>>;

    /// Stores what a reader parsed, checking each row: a row whose name matches a live contact
    /// sharing one of its numbers updates it, others are added. With `all_or_nothing`, one bad
    /// row stores nothing (its problems are answered).
    fn import_contacts(
        &self,
        parsed: ParsedContacts,
        all_or_nothing: bool,
    ) -> BoxFuture<'_, Result<PhonebookImport, RelayError>>;

    /// The live contacts, by name.
    fn team_contacts(&self) -> BoxFuture<'_, Result<Vec<TeamContact>, RelayError>>;
}

/// Puts the live contacts in the order a phonebook is read: by name, case aside in every
/// script ([`phonebook::caseless`]; SQL's `lower()` folds only ASCII on SQLite, and on
/// Postgres under the C collation), then by id.
pub(crate) fn sort_by_name(contacts: &mut [TeamContact]) {
    contacts.sort_by(|a, b| phonebook::caseless(&a.name, &b.name).then(a.id.cmp(&b.id)));
}

/// A phonebook store shared by the relay's tasks.
pub type SharedPhonebookStore = Arc<dyn PhonebookStore>;
