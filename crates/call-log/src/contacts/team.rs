//! The team phonebook's copy: contacts the team's server keeps, applied here as they change so
//! that search and the popup find them locally. A team contact is a row of `contacts` with the
//! relay's `team_id`; only a sync changes it (the app's own edits, imports and merges never
//! touch one), and leaving the team removes every one of them.

use rusqlite::{Connection, OptionalExtension as _, Transaction, params};
use serde::Serialize;

use super::store::{delete, insert, update};
use super::{NewContact, ValidContact};
use crate::error::Result;

/// A contact of the team phonebook as the team's server sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamContactRow {
    /// The server's id of the contact.
    pub team_id: i64,
    /// The name.
    pub name: String,
    /// The company.
    pub company: Option<String>,
    /// The numbers as entered.
    pub numbers: Vec<String>,
    /// The personal manager's workplace.
    pub manager: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// The phonebook version of its last change.
    pub version: i64,
}

/// A page of the team phonebook's changes, to apply at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamPhonebookUpdate {
    /// The version this page brings the copy to.
    pub version: i64,
    /// The server's phonebook is not the one copied (it was replaced): drop every team contact
    /// before applying.
    pub reset: bool,
    /// Contacts added or changed.
    pub contacts: Vec<TeamContactRow>,
    /// Contacts deleted, by the server's id.
    pub deleted: Vec<i64>,
}

/// What applying a page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TeamPhonebookReport {
    /// Team contacts added.
    pub added: usize,
    /// Team contacts changed.
    pub updated: usize,
    /// Team contacts removed.
    pub deleted: usize,
    /// Contacts the app could not read (logged and skipped; the next change to them retries).
    pub skipped: usize,
    /// The version applied.
    pub version: i64,
}

/// The version of the team phonebook applied last (0: none).
pub(crate) fn team_version(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT version FROM team_phonebook WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// The local row of a team contact.
fn local_id(tx: &Transaction<'_>, team_id: i64) -> Result<Option<i64>> {
    Ok(tx
        .prepare_cached("SELECT id FROM contacts WHERE team_id = ?1")?
        .query_row([team_id], |r| r.get(0))
        .optional()?)
}

/// Whether the local contact `id` is the team's.
pub(crate) fn is_team_contact(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT team_id IS NOT NULL FROM contacts WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

fn checked(row: &TeamContactRow) -> Option<ValidContact> {
    NewContact {
        name: row.name.clone(),
        company: row.company.clone(),
        numbers: row.numbers.clone(),
        manager_sip_id: row.manager.clone(),
        notes: row.notes.clone(),
    }
    .validate()
    .map_err(|err| {
        tracing::warn!(team_id = row.team_id, error = %err, "a team contact could not be read; skipped");
    })
    .ok()
}

/// Applies a page of changes in the caller's transaction.
pub(crate) fn apply_team(
    tx: &Transaction<'_>,
    page: TeamPhonebookUpdate,
) -> Result<TeamPhonebookReport> {
    let mut report = TeamPhonebookReport {
        version: page.version,
        ..TeamPhonebookReport::default()
    };
    if page.reset {
        report.deleted += forget_team(tx)?;
    }
    for team_id in page.deleted {
        if let Some(id) = local_id(tx, team_id)? {
            delete(tx, id)?;
            report.deleted += 1;
        }
    }
    for row in page.contacts {
        let Some(valid) = checked(&row) else {
            report.skipped += 1;
            continue;
        };
        let id = match local_id(tx, row.team_id)? {
            Some(id) => {
                update(tx, id, &valid)?;
                report.updated += 1;
                id
            }
            None => {
                report.added += 1;
                insert(tx, &valid)?
            }
        };
        tx.prepare_cached("UPDATE contacts SET team_id = ?2, team_version = ?3 WHERE id = ?1")?
            .execute(params![id, row.team_id, row.version])?;
    }
    tx.prepare_cached(
        "INSERT INTO team_phonebook (id, version) VALUES (1, ?1) \
         ON CONFLICT (id) DO UPDATE SET version = excluded.version",
    )?
    .execute([page.version])?;
    Ok(report)
}

/// Removes every team contact and the version applied; answers how many contacts went.
pub(crate) fn forget_team(tx: &Transaction<'_>) -> Result<usize> {
    tx.execute(
        "DELETE FROM contacts_search WHERE rowid IN (SELECT id FROM contacts WHERE team_id IS NOT NULL)",
        [],
    )?;
    tx.execute(
        "DELETE FROM contact_numbers WHERE contact_id IN (SELECT id FROM contacts WHERE team_id IS NOT NULL)",
        [],
    )?;
    let removed = tx.execute("DELETE FROM contacts WHERE team_id IS NOT NULL", [])?;
    tx.execute("DELETE FROM team_phonebook", [])?;
    Ok(removed)
}
