//! The team phonebook in a running relay: an in-memory index of who is each number's personal
//! manager, for routing, and the watcher that tells the seats' apps of every change.
//!
//! Why in memory: the router asks "whose customer is this number" for each parked call at
//! intake, synchronously and within a tight deadline; a hash lookup answers that without a
//! store read. The index follows the store by its version: [`TeamPhonebook::run`] reads the
//! changes since the version it holds whenever the seat API says it changed something
//! ([`TeamPhonebook::changed`]) and once a second otherwise, so that an import made by another
//! process (`trubka-relay contacts import` beside a running relay) is followed too. Each time
//! the version moved it appends a `phonebook` event ([`PhonebookChanged`]) to the event store,
//! so connected apps fetch the changes within a second, and apps that were away find it in
//! their backlog (and sync on connecting anyway).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use team_api::{CONTACTS_PAGE_MAX, PHONEBOOK_KIND, PhonebookChanged, PhonebookChanges};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::error::RelayError;
use crate::store::phonebook::SharedPhonebookStore;
use crate::store::{IncomingNotification, SharedStore};

/// How often the store's version is read when nothing in this process changed it.
pub const PHONEBOOK_RECHECK: Duration = Duration::from_secs(1);

/// The numbers and personal managers of the live contacts, by number key.
#[derive(Debug, Default)]
struct Index {
    /// The version the index reflects.
    version: i64,
    /// Each live contact's number keys and manager.
    contacts: HashMap<i64, (Vec<String>, Option<String>)>,
    /// The contacts holding each number key.
    by_key: HashMap<String, BTreeSet<i64>>,
}

impl Index {
    fn remove(&mut self, id: i64) {
        if let Some((keys, _)) = self.contacts.remove(&id) {
            for key in keys {
                if let Some(ids) = self.by_key.get_mut(&key) {
                    ids.remove(&id);
                    if ids.is_empty() {
                        self.by_key.remove(&key);
                    }
                }
            }
        }
    }

    fn apply(&mut self, changes: &PhonebookChanges) {
        if changes.reset {
            *self = Index::default();
        }
        for id in &changes.deleted {
            self.remove(*id);
        }
        for contact in &changes.contacts {
            self.remove(contact.id);
            let keys: Vec<String> = contact
                .numbers
                .iter()
                .filter_map(|number| phonebook::normalize_number(number))
                .collect();
            for key in &keys {
                self.by_key
                    .entry(key.clone())
                    .or_default()
                    .insert(contact.id);
            }
            self.contacts
                .insert(contact.id, (keys, contact.manager.clone()));
        }
        self.version = changes.version;
    }

    /// Whether a live contact has `number` and, if so, the personal manager (see
    /// [`Index::manager_of`]): a contact without a manager still makes the caller known.
    fn lookup(&self, number: &str) -> Option<Option<String>> {
        let key = phonebook::normalize_number(number)?;
        let ids = self.by_key.get(&key)?;
        if ids.is_empty() {
            return None;
        }
        Some(self.manager_of(number))
    }

    fn manager_of(&self, number: &str) -> Option<String> {
        let key = phonebook::normalize_number(number)?;
        // Several contacts may share a number (a switchboard); the oldest with a manager wins,
        // so the answer does not change with the order edits arrive in.
        self.by_key.get(&key)?.iter().find_map(|id| {
            self.contacts
                .get(id)
                .and_then(|(_, manager)| manager.clone())
        })
    }
}

/// The team phonebook of a running relay.
#[derive(Debug)]
pub struct TeamPhonebook {
    store: SharedPhonebookStore,
    index: RwLock<Index>,
    changed: Notify,
}

impl TeamPhonebook {
    /// A phonebook over `store`, empty until [`TeamPhonebook::load`] or [`TeamPhonebook::run`].
    pub fn new(store: SharedPhonebookStore) -> Self {
        Self {
            store,
            index: RwLock::new(Index::default()),
            changed: Notify::new(),
        }
    }

    /// The store behind it.
    pub fn store(&self) -> &SharedPhonebookStore {
        &self.store
    }

    /// The workplace of the personal manager of the contact that has `number` (any spelling
    /// of it), if one has a manager. A hash lookup; never reads the store.
    pub fn manager_of(&self, number: &str) -> Option<String> {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .manager_of(number)
    }

    /// Whether a live contact has `number` (any spelling), with its personal manager if it
    /// has one. A hash lookup; never reads the store.
    pub fn contact_of(&self, number: &str) -> Option<Option<String>> {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .lookup(number)
    }

    /// The version the index reflects.
    pub fn version(&self) -> i64 {
        self.index
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .version
    }

    /// Says the store changed (the seat API calls it after each write): the watcher follows at
    /// once instead of at its next round.
    pub fn changed(&self) {
        self.changed.notify_one();
    }

    /// Brings the index up to the store's version; answers whether it moved.
    pub async fn load(&self) -> Result<bool, RelayError> {
        let start = self.version();
        loop {
            let since = self.version();
            let changes = self.store.contact_changes(since, CONTACTS_PAGE_MAX).await?;
            let moved = changes.reset || changes.version != since;
            if moved {
                self.index
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .apply(&changes);
            }
            if !changes.more || !moved {
                break;
            }
        }
        Ok(self.version() != start)
    }

    /// Follows the store until `shutdown`, announcing each change on the event stream.
    pub async fn run(self: Arc<Self>, events: SharedStore, shutdown: CancellationToken) {
        // The first load only fills the index: nothing changed for the apps.
        if let Err(err) = self.load().await {
            tracing::warn!(error = %err, "the team phonebook could not be read; retrying");
        }
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.changed.notified() => {}
                () = tokio::time::sleep(PHONEBOOK_RECHECK) => {}
            }
            match self.load().await {
                Ok(true) => announce(&events, self.version()).await,
                Ok(false) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "the team phonebook could not be read; retrying");
                }
            }
        }
    }
}

/// Appends a `phonebook` event at `version` to the stream.
async fn announce(events: &SharedStore, version: i64) {
    let Ok(body) = serde_json::to_string(&PhonebookChanged { version }) else {
        return;
    };
    let Ok(notification) = IncomingNotification::new(PHONEBOOK_KIND.to_owned(), body) else {
        return;
    };
    if let Err(err) = events.append(notification).await {
        tracing::warn!(error = %err, "the phonebook's change could not be announced");
    }
}

/// The router asks the team phonebook from memory: the contact a caller's number belongs to
/// and its personal manager.
impl crate::routing::PersonalManagers for TeamPhonebook {
    fn manager_of<'a>(
        &'a self,
        number: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<Option<crate::routing::PhonebookMatch>, RelayError>>
    {
        let found = self
            .contact_of(number)
            .map(|manager| crate::routing::PhonebookMatch { manager });
        Box::pin(async move { Ok(found) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use team_api::TeamContact;

    fn contact(id: i64, numbers: &[&str], manager: Option<&str>, version: i64) -> TeamContact {
        TeamContact {
            id,
            name: format!("c{id}"),
            company: None,
            numbers: numbers.iter().map(|n| (*n).to_owned()).collect(),
            manager: manager.map(str::to_owned),
            notes: None,
            version,
            updated_at: Utc::now(),
        }
    }

    fn changes(contacts: Vec<TeamContact>, deleted: Vec<i64>, version: i64) -> PhonebookChanges {
        PhonebookChanges {
            version,
            reset: false,
            contacts,
            deleted,
            more: false,
        }
    }

    #[test]
    fn a_number_in_any_spelling_finds_its_manager_until_the_contact_changes() {
        let mut index = Index::default();
        index.apply(&changes(
            vec![
                contact(1, &["8 921 946-27-61"], Some("883140000000001"), 1),
                contact(2, &["+7 812 424-15-00"], None, 2),
            ],
            vec![],
            2,
        ));
        assert_eq!(
            index.manager_of("79219462761@pstn").as_deref(),
            Some("883140000000001")
        );
        assert_eq!(index.manager_of("78124241500"), None);
        assert_eq!(index.manager_of("70000000000"), None);
        index.apply(&changes(
            vec![contact(
                1,
                &["+7 495 000-00-00"],
                Some("883140000000002"),
                3,
            )],
            vec![],
            3,
        ));
        assert_eq!(index.manager_of("79219462761"), None);
        assert_eq!(
            index.manager_of("74950000000").as_deref(),
            Some("883140000000002")
        );
        index.apply(&changes(vec![], vec![1], 4));
        assert_eq!(index.manager_of("74950000000"), None);
        assert_eq!(index.version, 4);
        assert!(!index.by_key.contains_key("74950000000"));
    }
}
