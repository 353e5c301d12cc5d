//! The team phonebook: contacts the relay keeps for the whole team, with their numbers,
//! company, personal manager (a workplace) and notes.
//!
//! Every change (an add, an edit, a delete, an import) moves the phonebook's *version*, a
//! counter that only grows, and stamps the contacts it touched with it; a deleted contact stays
//! as a tombstone with its last version, so that an app that was away learns of the deletion.
//! An app syncs by asking for what changed since the version it last applied
//! (`GET /team/contacts?since=N`), page by page while [`PhonebookChanges::more`], on joining, on
//! every (re)connection and on each [`PHONEBOOK_KIND`] stream event ([`PhonebookChanged`]).
//!
//! | method, path | body | answer | rules |
//! |---|---|---|---|
//! | `GET /team/contacts?since=N&limit=M` | — | [`PhonebookChanges`] | any seat |
//! | `POST /team/contacts` | [`TeamContactDraft`] | [`ContactSaved`] | supervisor, admin (`role_required`) |
//! | `PUT /team/contacts/{id}` | [`TeamContactDraft`] | [`ContactSaved`] | supervisor, admin; unknown or deleted: 404 `contact_unknown` |
//! | `DELETE /team/contacts/{id}` | — | [`ActionDone`](crate::ActionDone) | supervisor, admin; unknown or deleted: 404 `contact_unknown` |
//!
//! A draft is checked as the app checks its own contacts (a name or a number; numbers that are
//! numbers; a manager that is a workplace SIP ID): a bad one is 400 `bad_request` naming what
//! was wrong, and nothing is stored. Every change is written to the audit log (who, and the
//! contact as written).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The kind of a [`PhonebookChanged`] stream event.
pub const PHONEBOOK_KIND: &str = "phonebook";

/// The most changes one `GET /team/contacts` answers, and its default.
pub const CONTACTS_PAGE_MAX: usize = 1000;

/// A contact of the team phonebook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export_to = "TeamContact.ts")]
pub struct TeamContact {
    /// The relay's number for the contact; never reused.
    pub id: i64,
    /// The name to show.
    pub name: String,
    /// The company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub company: Option<String>,
    /// The numbers as entered.
    #[serde(default)]
    pub numbers: Vec<String>,
    /// The personal manager's workplace (SIP ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub manager: Option<String>,
    /// Free notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub notes: Option<String>,
    /// The phonebook's version at this contact's last change.
    pub version: i64,
    /// When it last changed, by the relay's clock.
    #[ts(type = "string")]
    pub updated_at: DateTime<Utc>,
}

/// `POST /team/contacts` and `PUT /team/contacts/{id}`'s body: the contact as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export_to = "TeamContactDraft.ts")]
pub struct TeamContactDraft {
    /// The name; may be empty when there is a company or a number to show instead.
    #[serde(default)]
    pub name: String,
    /// The company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub company: Option<String>,
    /// The numbers as typed.
    #[serde(default)]
    pub numbers: Vec<String>,
    /// The personal manager's workplace (SIP ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub manager: Option<String>,
    /// Free notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub notes: Option<String>,
}

/// The answer to an add or an edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactSaved {
    /// The contact as stored.
    pub contact: TeamContact,
    /// The audit log entry of this change.
    pub audit_id: i64,
}

/// `GET /team/contacts`'s answer: the contacts changed since the version asked for, in version
/// order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhonebookChanges {
    /// The version this answer brings the app to: ask for `since` this next.
    pub version: i64,
    /// The app's version is not this phonebook's (it is ahead of it: the relay's store was
    /// replaced); the answer starts from nothing, and the app drops the team contacts it has
    /// before applying it.
    #[serde(default)]
    pub reset: bool,
    /// Contacts added or changed.
    pub contacts: Vec<TeamContact>,
    /// Contacts deleted, by id.
    pub deleted: Vec<i64>,
    /// More changes wait: ask again from `version`.
    #[serde(default)]
    pub more: bool,
}

/// The body of a [`PHONEBOOK_KIND`] stream event: the phonebook changed and is now at
/// `version`; an app behind it asks for the changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PhonebookChanged {
    /// The phonebook's version now.
    pub version: i64,
}
