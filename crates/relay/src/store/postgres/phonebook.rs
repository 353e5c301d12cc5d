//! [`PhonebookStore`] on Postgres: `team_contacts` and `team_contact_numbers`.
//!
//! Every change takes the next version: `max(version) + 1`. Two instances changing the
//! phonebook at once would compute the same one, and a version committed after a higher one
//! would be skipped by an app that already asked "what changed since" past it; so each change
//! holds a transaction advisory lock first, which makes changes commit one after another, each
//! one's version above every version visible before it.

use chrono::{DateTime, Utc};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use phonebook::{ContactNumber, ImportProblem, ParsedContacts, ValidContact};
use team_api::{PhonebookChanges, TeamContact};
use tokio_postgres::{GenericClient, Row, Transaction};

use super::{PostgresStore, failed};
use crate::error::RelayError;
use crate::store::phonebook::{PhonebookImport, PhonebookStore, sort_by_name};

/// The advisory lock every phonebook change holds ("phonebk" in ASCII).
const PHONEBOOK_LOCK: i64 = 0x0070_686f_6e65_626b;

const COLUMNS: &str = "id, name, company, manager, notes, version, updated_at, deleted";

/// A contact row: the contact and whether it is a tombstone.
struct Found {
    contact: TeamContact,
    deleted: bool,
}

fn found(row: &Row) -> Found {
    Found {
        contact: TeamContact {
            id: row.get(0),
            name: row.get(1),
            company: row.get(2),
            manager: row.get(3),
            notes: row.get(4),
            version: row.get(5),
            updated_at: row.get(6),
            numbers: Vec::new(),
        },
        deleted: row.get(7),
    }
}

type Sql<T> = Result<T, tokio_postgres::Error>;

async fn numbers_of(client: &impl GenericClient, id: i64) -> Sql<Vec<ContactNumber>> {
    let rows = client
        .query(
            "SELECT number, key FROM team_contact_numbers WHERE contact_id = $1 ORDER BY position",
            &[&id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| ContactNumber {
            number: row.get(0),
            key: row.get(1),
        })
        .collect())
}

async fn with_numbers(client: &impl GenericClient, mut found: Found) -> Sql<Found> {
    if !found.deleted {
        found.contact.numbers = numbers_of(client, found.contact.id)
            .await?
            .into_iter()
            .map(|n| n.number)
            .collect();
    }
    Ok(found)
}

async fn contact_row(client: &impl GenericClient, id: i64) -> Sql<Option<Found>> {
    let row = client
        .query_opt(
            &format!("SELECT {COLUMNS} FROM team_contacts WHERE id = $1"),
            &[&id],
        )
        .await?;
    match row {
        Some(row) => Ok(Some(with_numbers(client, found(&row)).await?)),
        None => Ok(None),
    }
}

async fn live_contact(client: &impl GenericClient, id: i64) -> Sql<Option<TeamContact>> {
    Ok(contact_row(client, id)
        .await?
        .filter(|found| !found.deleted)
        .map(|found| found.contact))
}

async fn version(client: &impl GenericClient) -> Sql<i64> {
    Ok(client
        .query_one("SELECT COALESCE(MAX(version), 0) FROM team_contacts", &[])
        .await?
        .get(0))
}

async fn lock(tx: &Transaction<'_>) -> Sql<()> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PHONEBOOK_LOCK])
        .await
        .map(drop)
}

async fn write_numbers(tx: &Transaction<'_>, id: i64, numbers: &[ContactNumber]) -> Sql<()> {
    tx.execute(
        "DELETE FROM team_contact_numbers WHERE contact_id = $1",
        &[&id],
    )
    .await?;
    for (position, number) in numbers.iter().enumerate() {
        tx.execute(
            "INSERT INTO team_contact_numbers (contact_id, position, number, key)
             VALUES ($1, $2, $3, $4)",
            &[
                &id,
                &i64::try_from(position).unwrap_or(i64::MAX),
                &number.number,
                &number.key,
            ],
        )
        .await?;
    }
    Ok(())
}

async fn insert(tx: &Transaction<'_>, contact: &ValidContact, now: DateTime<Utc>) -> Sql<i64> {
    let next = version(tx).await? + 1;
    let id: i64 = tx
        .query_one(
            "INSERT INTO team_contacts (name, company, manager, notes, version, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &contact.name,
                &contact.company,
                &contact.manager_sip_id,
                &contact.notes,
                &next,
                &now,
            ],
        )
        .await?
        .get(0);
    write_numbers(tx, id, &contact.numbers).await?;
    Ok(id)
}

async fn update(
    tx: &Transaction<'_>,
    id: i64,
    contact: &ValidContact,
    now: DateTime<Utc>,
) -> Sql<()> {
    let next = version(tx).await? + 1;
    tx.execute(
        "UPDATE team_contacts SET name = $2, company = $3, manager = $4, notes = $5,
         version = $6, updated_at = $7 WHERE id = $1",
        &[
            &id,
            &contact.name,
            &contact.company,
            &contact.manager_sip_id,
            &contact.notes,
            &next,
            &now,
        ],
    )
    .await?;
    write_numbers(tx, id, &contact.numbers).await
}

async fn delete(tx: &Transaction<'_>, id: i64, now: DateTime<Utc>) -> Sql<()> {
    let next = version(tx).await? + 1;
    tx.execute(
        "UPDATE team_contacts SET deleted = TRUE, version = $2, updated_at = $3 WHERE id = $1",
        &[&id, &next, &now],
    )
    .await?;
    tx.execute(
        "DELETE FROM team_contact_numbers WHERE contact_id = $1",
        &[&id],
    )
    .await?;
    Ok(())
}

async fn changes(client: &impl GenericClient, since: i64, limit: usize) -> Sql<PhonebookChanges> {
    let reset = since > version(client).await?;
    let since = if reset { 0 } else { since.max(0) };
    let limit = limit.max(1);
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM team_contacts WHERE version > $1 ORDER BY version LIMIT $2"
            ),
            &[&since, &i64::try_from(limit + 1).unwrap_or(i64::MAX)],
        )
        .await?;
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
    for row in rows.iter().take(limit) {
        let row = found(row);
        answer.version = row.contact.version;
        if row.deleted {
            answer.deleted.push(row.contact.id);
        } else {
            answer
                .contacts
                .push(with_numbers(client, row).await?.contact);
        }
    }
    Ok(answer)
}

/// The live contact named `name` (case aside) that has one of `numbers`, if any.
async fn same_contact(tx: &Transaction<'_>, contact: &ValidContact) -> Sql<Option<i64>> {
    for number in &contact.numbers {
        let sharing = tx
            .query(
                "SELECT c.id, c.name FROM team_contact_numbers n JOIN team_contacts c ON c.id = n.contact_id
                 WHERE n.key = $1 AND NOT c.deleted ORDER BY c.id",
                &[&number.key],
            )
            .await?;
        if let Some(row) = sharing
            .iter()
            .find(|row| phonebook::caseless(row.get::<_, &str>(1), &contact.name).is_eq())
        {
            return Ok(Some(row.get(0)));
        }
    }
    Ok(None)
}

/// Stores an imported contact, merged into the same contact if there is one (its numbers kept,
/// the new ones added, fields the row leaves blank kept); answers whether it was an update.
async fn upsert(tx: &Transaction<'_>, contact: ValidContact, now: DateTime<Utc>) -> Sql<bool> {
    let Some(id) = same_contact(tx, &contact).await? else {
        insert(tx, &contact, now).await?;
        return Ok(false);
    };
    let Some(old) = contact_row(tx, id).await? else {
        insert(tx, &contact, now).await?;
        return Ok(false);
    };
    let mut numbers = numbers_of(tx, id).await?;
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
    update(tx, id, &merged, now).await?;
    Ok(true)
}

async fn import(
    tx: &Transaction<'_>,
    parsed: ParsedContacts,
    all_or_nothing: bool,
    now: DateTime<Utc>,
) -> Sql<PhonebookImport> {
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
        if upsert(tx, contact, now).await? {
            report.updated += 1;
        } else {
            report.added += 1;
        }
    }
    report.stored = report.added + report.updated > 0;
    Ok(report)
}

impl PhonebookStore for PostgresStore {
    fn add_contact(&self, contact: ValidContact) -> BoxFuture<'_, Result<TeamContact, RelayError>> {
        async move {
            in_transaction!(self, tx, |_: &TeamContact| true, {
                let written = async {
                    lock(&tx).await?;
                    let id = insert(&tx, &contact, Utc::now()).await?;
                    live_contact(&*tx, id).await
                };
                written
                    .await
                    .map_err(failed("adding a contact"))?
                    .ok_or(RelayError::StoreClosed)?
            })
        }
        .boxed()
    }

    fn update_contact(
        &self,
        id: i64,
        contact: ValidContact,
    ) -> BoxFuture<'_, Result<Option<TeamContact>, RelayError>> {
        async move {
            in_transaction!(self, tx, Option::is_some, {
                let written = async {
                    lock(&tx).await?;
                    if live_contact(&*tx, id).await?.is_none() {
                        return Ok(None);
                    }
                    update(&tx, id, &contact, Utc::now()).await?;
                    live_contact(&*tx, id).await
                };
                written.await.map_err(failed("changing a contact"))?
            })
        }
        .boxed()
    }

    fn delete_contact(&self, id: i64) -> BoxFuture<'_, Result<Option<TeamContact>, RelayError>> {
        async move {
            in_transaction!(self, tx, Option::is_some, {
                let written = async {
                    lock(&tx).await?;
                    let Some(was) = live_contact(&*tx, id).await? else {
                        return Ok(None);
                    };
                    delete(&tx, id, Utc::now()).await?;
                    Ok(Some(was))
                };
                written.await.map_err(failed("deleting a contact"))?
            })
        }
        .boxed()
    }

    fn contact_changes(
        &self,
        since: i64,
        limit: usize,
    ) -> BoxFuture<'_, Result<PhonebookChanges, RelayError>> {
        async move {
            // One repeatable-read transaction, so the page and the version it reports agree.
            let mut client = self.reader().await?;
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await
                .map_err(failed("reading the phonebook's changes"))?;
            let answer = changes(&*tx, since, limit)
                .await
                .map_err(failed("reading the phonebook's changes"))?;
            tx.commit()
                .await
                .map_err(failed("reading the phonebook's changes"))?;
            Ok(answer)
        }
        .boxed()
    }

    fn phonebook_version(&self) -> BoxFuture<'_, Result<i64, RelayError>> {
        async move {
            let client = self.reader().await?;
            version(&**client)
                .await
                .map_err(failed("reading the phonebook's version"))
        }
        .boxed()
    }

    fn import_contacts(
        &self,
        parsed: ParsedContacts,
        all_or_nothing: bool,
    ) -> BoxFuture<'_, Result<PhonebookImport, RelayError>> {
        async move {
            in_transaction!(self, tx, |report: &PhonebookImport| report.stored, {
                let written = async {
                    lock(&tx).await?;
                    import(&tx, parsed, all_or_nothing, Utc::now()).await
                };
                written.await.map_err(failed("importing contacts"))?
            })
        }
        .boxed()
    }

    fn team_contacts(&self) -> BoxFuture<'_, Result<Vec<TeamContact>, RelayError>> {
        async move {
            let client = self.reader().await?;
            let read = async {
                let rows = client
                    .query(
                        &format!("SELECT {COLUMNS} FROM team_contacts WHERE NOT deleted"),
                        &[],
                    )
                    .await?;
                let mut contacts = Vec::with_capacity(rows.len());
                for row in &rows {
                    contacts.push(with_numbers(&**client, found(row)).await?.contact);
                }
                sort_by_name(&mut contacts);
                Ok::<_, tokio_postgres::Error>(contacts)
            };
            read.await.map_err(failed("reading the phonebook"))
        }
        .boxed()
    }
}
