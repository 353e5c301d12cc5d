//! The phonebook in SQLite: contacts, their numbers keyed for matching, and the trigram index
//! over names, companies and numbers.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use phonebook::ParsedContacts;

use super::{Contact, ContactNumber, ImportProblem, ImportReport, ValidContact};
use crate::error::{CallLogError, Result};

fn search_text(c: &ValidContact) -> String {
    let mut parts: Vec<&str> = vec![c.name.as_str()];
    if let Some(company) = &c.company {
        parts.push(company);
    }
    for n in &c.numbers {
        parts.push(&n.number);
        parts.push(&n.key);
    }
    parts.join("\u{1f}")
}

fn store_numbers_and_index(tx: &Transaction<'_>, id: i64, c: &ValidContact) -> Result<()> {
    tx.prepare_cached("DELETE FROM contact_numbers WHERE contact_id = ?1")?
        .execute([id])?;
    let mut add = tx.prepare_cached(
        "INSERT OR IGNORE INTO contact_numbers (contact_id, key, number, position) \
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, n) in c.numbers.iter().enumerate() {
        add.execute(params![
            id,
            n.key,
            n.number,
            i64::try_from(position).unwrap_or(i64::MAX)
        ])?;
    }
    tx.prepare_cached("DELETE FROM contacts_search WHERE rowid = ?1")?
        .execute([id])?;
    tx.prepare_cached("INSERT INTO contacts_search (rowid, text) VALUES (?1, ?2)")?
        .execute(params![id, search_text(c)])?;
    Ok(())
}

pub(crate) fn insert(tx: &Transaction<'_>, c: &ValidContact) -> Result<i64> {
    let now = Utc::now().timestamp_micros();
    tx.prepare_cached(
        "INSERT INTO contacts (name, company, manager_sip_id, notes, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![c.name, c.company, c.manager_sip_id, c.notes, now])?;
    let id = tx.last_insert_rowid();
    store_numbers_and_index(tx, id, c)?;
    Ok(id)
}

pub(crate) fn update(tx: &Transaction<'_>, id: i64, c: &ValidContact) -> Result<()> {
    let changed = tx
        .prepare_cached(
            "UPDATE contacts SET name = ?2, company = ?3, manager_sip_id = ?4, notes = ?5, \
             updated_at = ?6 WHERE id = ?1",
        )?
        .execute(params![
            id,
            c.name,
            c.company,
            c.manager_sip_id,
            c.notes,
            Utc::now().timestamp_micros()
        ])?;
    if changed == 0 {
        return Err(CallLogError::NoSuchContact(id));
    }
    store_numbers_and_index(tx, id, c)
}

pub(crate) fn delete(tx: &Transaction<'_>, id: i64) -> Result<()> {
    let changed = tx
        .prepare_cached("DELETE FROM contacts WHERE id = ?1")?
        .execute([id])?;
    if changed == 0 {
        return Err(CallLogError::NoSuchContact(id));
    }
    tx.prepare_cached("DELETE FROM contacts_search WHERE rowid = ?1")?
        .execute([id])?;
    Ok(())
}

/// Stores an imported contact, merging it into an existing one with the same name that shares a
/// number. Returns whether an existing contact was updated.
fn upsert(tx: &Transaction<'_>, c: ValidContact) -> Result<bool> {
    let mut existing: Option<Contact> = None;
    for n in &c.numbers {
        let id: Option<i64> = tx
            .prepare_cached(
                "SELECT k.id FROM contact_numbers n JOIN contacts k ON k.id = n.contact_id \
                 WHERE n.key = ?1 AND k.name = ?2 COLLATE caseless AND k.team_id IS NULL \
                 ORDER BY k.id LIMIT 1",
            )?
            .query_row(params![n.key, c.name], |r| r.get(0))
            .optional()?;
        if let Some(id) = id {
            existing = contact(tx, id)?;
            break;
        }
    }
    let Some(old) = existing else {
        insert(tx, &c)?;
        return Ok(false);
    };
    let mut numbers = old.numbers.clone();
    for n in c.numbers {
        if !numbers.iter().any(|o| o.key == n.key) {
            numbers.push(n);
        }
    }
    let merged = ValidContact {
        name: old.name.clone(),
        company: c.company.or(old.company),
        numbers,
        manager_sip_id: c.manager_sip_id.or(old.manager_sip_id),
        notes: c.notes.or(old.notes),
    };
    update(tx, old.id, &merged)?;
    Ok(true)
}

fn numbers_of(conn: &Connection, id: i64) -> Result<Vec<ContactNumber>> {
    let rows = conn
        .prepare_cached(
            "SELECT number, key FROM contact_numbers WHERE contact_id = ?1 ORDER BY position",
        )?
        .query_map([id], |r| {
            Ok(ContactNumber {
                number: r.get(0)?,
                key: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn contact_row(conn: &Connection, id: i64) -> Result<Option<Contact>> {
    let head = conn
        .prepare_cached(
            "SELECT id, name, company, manager_sip_id, notes, team_id FROM contacts WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Contact {
                id: r.get(0)?,
                name: r.get(1)?,
                company: r.get(2)?,
                numbers: Vec::new(),
                manager_sip_id: r.get(3)?,
                notes: r.get(4)?,
                team_id: r.get(5)?,
            })
        })
        .optional()?;
    match head {
        Some(mut c) => {
            c.numbers = numbers_of(conn, id)?;
            Ok(Some(c))
        }
        None => Ok(None),
    }
}

/// One contact by id.
pub(crate) fn contact(conn: &Connection, id: i64) -> Result<Option<Contact>> {
    contact_row(conn, id)
}

/// The contact holding a number key (the oldest, if several do).
pub(crate) fn contact_for_key(conn: &Connection, key: &str) -> Result<Option<Contact>> {
    let id: Option<i64> = conn
        .prepare_cached("SELECT min(contact_id) FROM contact_numbers WHERE key = ?1")?
        .query_row([key], |r| r.get(0))?;
    match id {
        Some(id) => contact_row(conn, id),
        None => Ok(None),
    }
}

/// Contacts whose name, company or number contains `search` (3+ characters), or all contacts by
/// name when there is no search.
pub(crate) fn list(conn: &Connection, search: Option<&str>, limit: usize) -> Result<Vec<Contact>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let ids: Vec<i64> = match search.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => {
            let phrase = crate::search::search_phrase(text)?;
            conn.prepare_cached(
                "SELECT k.id FROM contacts k WHERE k.id IN \
                 (SELECT rowid FROM contacts_search WHERE contacts_search MATCH ?1) \
                 ORDER BY k.name COLLATE caseless, k.id LIMIT ?2",
            )?
            .query_map(params![phrase, limit], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?
        }
        None => conn
            .prepare_cached("SELECT id FROM contacts ORDER BY name COLLATE caseless, id LIMIT ?1")?
            .query_map([limit], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    };
    let mut contacts = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(c) = contact_row(conn, id)? {
            contacts.push(c);
        }
    }
    Ok(contacts)
}

/// Stores what a reader parsed; a row that fails validation becomes a problem, the others are imported.
pub(crate) fn import(tx: &Transaction<'_>, parsed: ParsedContacts) -> Result<ImportReport> {
    let ParsedContacts { rows, mut problems } = parsed;
    let mut report = ImportReport::default();
    for row in rows {
        match row.contact.validate() {
            Ok(valid) => {
                if upsert(tx, valid)? {
                    report.updated += 1;
                } else {
                    report.added += 1;
                }
            }
            Err(phonebook::InvalidContact(message)) => problems.push(ImportProblem {
                line: row.line,
                message,
            }),
        }
    }
    problems.sort_by_key(|p| p.line);
    report.problems = problems;
    Ok(report)
}
