//! [`PhonebookStore`] over SQLite: the `team_contacts` and `team_contact_numbers` tables
//! (schema version 6), on the team's connection.

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use phonebook::{ContactNumber, ImportProblem, ParsedContacts, ValidContact};
use rusqlite::{Connection, OptionalExtension as _, Transaction, params};
use team_api::{PhonebookChanges, TeamContact};

use super::SqliteStore;
use super::schema::{parse_timestamp, timestamp};
use super::sealed::store_error;
use super::team::always;
use crate::error::RelayError;
use crate::store::phonebook::{PhonebookImport, PhonebookStore, sort_by_name};

type Path = std::path::Path;

/// A contact row: the contact and whether it is a tombstone.
struct Row {
    contact: TeamContact,
    deleted: bool,
}

const COLUMNS: &str = "id, name, company, manager, notes, version, updated_at, deleted";

fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        contact: TeamContact {
            id: row.get(0)?,
            name: row.get(1)?,
            company: row.get(2)?,
            manager: row.get(3)?,
            notes: row.get(4)?,
            version: row.get(5)?,
            updated_at: parse_timestamp(&row.get::<_, String>(6)?)?,
            numbers: Vec::new(),
        },
        deleted: row.get(7)?,
    })
}

fn numbers_of(conn: &Connection, id: i64) -> rusqlite::Result<Vec<ContactNumber>> {
    let mut statement = conn.prepare_cached(
        "SELECT number, key FROM team_contact_numbers WHERE contact_id = ?1 ORDER BY position",
    )?;
    statement
        .query_map([id], |row| {
            Ok(ContactNumber {
                number: row.get(0)?,
                key: row.get(1)?,
            })
        })?
        .collect()
}

fn with_numbers(conn: &Connection, mut found: Row) -> rusqlite::Result<Row> {
    if !found.deleted {
        found.contact.numbers = numbers_of(conn, found.contact.id)?
            .into_iter()
            .map(|n| n.number)
            .collect();
    }
    Ok(found)
}

fn contact_row(conn: &Connection, id: i64) -> rusqlite::Result<Option<Row>> {
    let found = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM team_contacts WHERE id = ?1"
        ))?
        .query_row([id], row)
        .optional()?;
    found.map(|found| with_numbers(conn, found)).transpose()
}

fn live_contact(conn: &Connection, id: i64) -> rusqlite::Result<Option<TeamContact>> {
    Ok(contact_row(conn, id)?
        .filter(|found| !found.deleted)
        .map(|found| found.contact))
}

fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM team_contacts",
        [],
        |row| row.get(0),
    )
}

fn write_numbers(tx: &Transaction<'_>, id: i64, numbers: &[ContactNumber]) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM team_contact_numbers WHERE contact_id = ?1")?
        .execute([id])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO team_contact_numbers (contact_id, position, number, key)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, number) in numbers.iter().enumerate() {
        insert.execute(params![
            id,
            i64::try_from(position).unwrap_or(i64::MAX),
            number.number,
            number.key
        ])?;
    }
    Ok(())
}

fn insert(
    tx: &Transaction<'_>,
    contact: &ValidContact,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    let next = version(tx)? + 1;
    tx.prepare_cached(
        "INSERT INTO team_contacts (name, company, manager, notes, version, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        contact.name,
        contact.company,
        contact.manager_sip_id,
        contact.notes,
        next,
        timestamp(now)
    ])?;
    let id = tx.last_insert_rowid();
    write_numbers(tx, id, &contact.numbers)?;
    Ok(id)
}

fn update(
    tx: &Transaction<'_>,
    id: i64,
    contact: &ValidContact,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let next = version(tx)? + 1;
    tx.prepare_cached(
        "UPDATE team_contacts SET name = ?2, company = ?3, manager = ?4, notes = ?5,
         version = ?6, updated_at = ?7 WHERE id = ?1",
    )?
    .execute(params![
        id,
        contact.name,
        contact.company,
        contact.manager_sip_id,
        contact.notes,
        next,
        timestamp(now)
    ])?;
    write_numbers(tx, id, &contact.numbers)
}

fn delete(tx: &Transaction<'_>, id: i64, now: DateTime<Utc>) -> rusqlite::Result<()> {
    let next = version(tx)? + 1;
    tx.prepare_cached(
        "UPDATE team_contacts SET deleted = 1, version = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, next, timestamp(now)])?;
    tx.prepare_cached("DELETE FROM team_contact_numbers WHERE contact_id = ?1")?
        .execute([id])?;
    Ok(())
}

fn changes(conn: &Connection, since: i64, limit: usize) -> rusqlite::Result<PhonebookChanges> {
    let reset = since > version(conn)?;
    let since = if reset { 0 } else { since.max(0) };
    let limit = limit.max(1);
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM team_contacts WHERE version > ?1 ORDER BY version LIMIT ?2"
    ))?;
    let rows = statement
        .query_map(
            params![since, i64::try_from(limit + 1).unwrap_or(i64::MAX)],
            row,
        )?
        .collect::<rusqlite::Result<Vec<Row>>>()?;
    let more = rows.len() > limit;
    let mut answer = PhonebookChanges {
        // Read from the rows themselves, not a separate MAX: a change committed between two
        // reads is then left for the next ask instead of skipped.
        version: since,
        reset,
        contacts: Vec::new(),
        deleted: Vec::new(),
        more,
    };
    for found in rows.into_iter().take(limit) {
        answer.version = found.contact.version;
        if found.deleted {
            answer.deleted.push(found.contact.id);
        } else {
            answer.contacts.push(with_numbers(conn, found)?.contact);
        }
    }
    Ok(answer)
}

/// The live contact named `name` (case aside) that has one of `numbers`, if any.
fn same_contact(tx: &Transaction<'_>, contact: &ValidContact) -> rusqlite::Result<Option<i64>> {
    let mut statement = tx.prepare_cached(
        "SELECT c.id, c.name FROM team_contact_numbers n JOIN team_contacts c ON c.id = n.contact_id
         WHERE n.key = ?1 AND c.deleted = 0 ORDER BY c.id",
    )?;
    for number in &contact.numbers {
        let sharing = statement.query_map(params![number.key], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?;
        for found in sharing {
            let (id, name) = found?;
            if phonebook::caseless(&name, &contact.name).is_eq() {
                return Ok(Some(id));
            }
        }
    }
    Ok(None)
}

/// Stores an imported contact, merged into the same contact if there is one (its numbers kept,
/// the new ones added, fields the row leaves blank kept); answers whether it was an update.
fn upsert(
    tx: &Transaction<'_>,
    contact: ValidContact,
    now: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    let Some(id) = same_contact(tx, &contact)? else {
        insert(tx, &contact, now)?;
        return Ok(false);
    };
    let Some(old) = contact_row(tx, id)? else {
        insert(tx, &contact, now)?;
        return Ok(false);
    };
    let mut numbers = numbers_of(tx, id)?;
    for number in contact.numbers {
        if !numbers.iter().any(|known| known.key == number.key) {
            numbers.push(number);
        }
    }
    let merged = ValidContact {
        name: old.contact.name,
        company: contact.company.or(old.contact.company),
        numbers,
        manager_sip_id: contact.manager_sip_id.or(old.contact.manager),
        notes: contact.notes.or(old.contact.notes),
    };
    update(tx, id, &merged, now)?;
    Ok(true)
}

fn import(
    tx: &Transaction<'_>,
    parsed: ParsedContacts,
    all_or_nothing: bool,
    now: DateTime<Utc>,
) -> rusqlite::Result<PhonebookImport> {
    let ParsedContacts { rows, mut problems } = parsed;
    let mut valid = Vec::with_capacity(rows.len());
    for parsed_row in rows {
        match parsed_row.contact.validate() {
            Ok(contact) => valid.push(contact),
            Err(phonebook::InvalidContact(message)) => problems.push(ImportProblem {
                line: parsed_row.line,
                message,
            }),
        }
    }
    problems.sort_by_key(|problem| problem.line);
    let mut report = PhonebookImport {
        problems,
        ..PhonebookImport::default()
    };
    if all_or_nothing && !report.problems.is_empty() {
        return Ok(report);
    }
    for contact in valid {
        if upsert(tx, contact, now)? {
            report.updated += 1;
        } else {
            report.added += 1;
        }
    }
    report.stored = report.added + report.updated > 0;
    Ok(report)
}

fn live_contacts(conn: &Connection) -> rusqlite::Result<Vec<TeamContact>> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM team_contacts WHERE deleted = 0"
    ))?;
    let rows = statement
        .query_map([], row)?
        .collect::<rusqlite::Result<Vec<Row>>>()?;
    let mut contacts = rows
        .into_iter()
        .map(|found| with_numbers(conn, found).map(|found| found.contact))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    sort_by_name(&mut contacts);
    Ok(contacts)
}

fn sql<T>(path: &Path) -> impl Fn(rusqlite::Result<T>) -> Result<T, RelayError> + '_ {
    move |result| result.map_err(store_error(path))
}

impl PhonebookStore for SqliteStore {
    fn add_contact(&self, contact: ValidContact) -> BoxFuture<'_, Result<TeamContact, RelayError>> {
        self.team_write(
            move |tx, path| {
                let id = sql(path)(insert(tx, &contact, Utc::now()))?;
                sql(path)(live_contact(tx, id))?.ok_or(RelayError::StoreClosed)
            },
            always,
        )
        .boxed()
    }

    fn update_contact(
        &self,
        id: i64,
        contact: ValidContact,
    ) -> BoxFuture<'_, Result<Option<TeamContact>, RelayError>> {
        self.team_write(
            move |tx, path| {
                if sql(path)(live_contact(tx, id))?.is_none() {
                    return Ok(None);
                }
                sql(path)(update(tx, id, &contact, Utc::now()))?;
                sql(path)(live_contact(tx, id))
            },
            Option::is_some,
        )
        .boxed()
    }

    fn delete_contact(&self, id: i64) -> BoxFuture<'_, Result<Option<TeamContact>, RelayError>> {
        self.team_write(
            move |tx, path| {
                let Some(was) = sql(path)(live_contact(tx, id))? else {
                    return Ok(None);
                };
                sql(path)(delete(tx, id, Utc::now()))?;
                Ok(Some(was))
            },
            Option::is_some,
        )
        .boxed()
    }

    fn contact_changes(
        &self,
        since: i64,
        limit: usize,
    ) -> BoxFuture<'_, Result<PhonebookChanges, RelayError>> {
        self.team_read(move |conn, path| {
            // One read transaction, so the page and the version it reports agree.
            let tx = conn.unchecked_transaction().map_err(store_error(path))?;
            let answer = sql(path)(changes(&tx, since, limit))?;
            tx.finish().map_err(store_error(path))?;
            Ok(answer)
        })
        .boxed()
    }

    fn phonebook_version(&self) -> BoxFuture<'_, Result<i64, RelayError>> {
        self.team_read(|conn, path| sql(path)(version(conn)))
            .boxed()
    }

    fn import_contacts(
        &self,
        parsed: ParsedContacts,
        all_or_nothing: bool,
    ) -> BoxFuture<'_, Result<PhonebookImport, RelayError>> {
        self.team_write(
            move |tx, path| sql(path)(import(tx, parsed, all_or_nothing, Utc::now())),
            |report| report.stored,
        )
        .boxed()
    }

    fn team_contacts(&self) -> BoxFuture<'_, Result<Vec<TeamContact>, RelayError>> {
        self.team_read(|conn, path| sql(path)(live_contacts(conn)))
            .boxed()
    }
}
