//! The phonebook: contacts with several numbers, a personal manager and notes; import from CSV
//! and vCard, export to CSV.
//!
//! Accepted CSV headers (case and surrounding spaces ignored; `,` or `;` as the separator, chosen
//! by which one the header line contains more of):
//!
//! | column | headers |
//! |---|---|
//! | name | `name`, `full name`, `fn`, `имя`, `фио`, `контакт` |
//! | company | `company`, `organization`, `organisation`, `org`, `компания`, `организация` |
//! | numbers | any header starting with `phone`, `tel`, `number`, `mobile`, `телефон`, `номер`, `мобильный` (several such columns allowed; a cell may hold several numbers separated by `,`, `;`, `|` or a line break) |
//! | manager | `manager`, `personal manager`, `workplace`, `sip`, `менеджер`, `персональный менеджер`, `рабочее место` |
//! | notes | `notes`, `note`, `comment`, `заметки`, `примечание`, `комментарий` |
//!
//! Other columns are ignored. A row needs a name or at least one number; the manager, when given,
//! must be a workplace SIP ID. vCard 3 and 4 cards are read for `FN` (or `N`), `ORG`, `TEL`
//! (also `tel:` URIs) and `NOTE`. A bad row or card is reported with its line number and the rest
//! are imported. A row whose name matches an existing contact sharing one of its numbers updates
//! that contact instead of adding a duplicate.

use chrono::Utc;
use mtt_api::model::SipId;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::error::{CallLogError, Result};
use crate::number::normalize_number;

/// A phonebook entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The row id.
    pub id: i64,
    /// The name to show.
    pub name: String,
    /// The company.
    pub company: Option<String>,
    /// The numbers, as entered, each with its matching key.
    pub numbers: Vec<ContactNumber>,
    /// The workplace SIP ID of the contact's personal manager (for routing).
    pub manager_sip_id: Option<String>,
    /// Free notes.
    pub notes: Option<String>,
}

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

/// One row or card that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    /// The line of the file it starts on (1-based).
    pub line: u64,
    /// What was wrong with it.
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Contacts added.
    pub added: usize,
    /// Existing contacts updated.
    pub updated: usize,
    /// Rows or cards refused, each with its line.
    pub problems: Vec<ImportProblem>,
}

fn blank_to_none(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Whether a text is a telephone number or SIP ID worth storing.
fn is_number_like(raw: &str) -> bool {
    let s = raw.trim();
    let s = s.split_once('@').map_or(s, |(n, _)| n);
    let digits = s.chars().filter(char::is_ascii_digit).count();
    digits >= 2
        && s.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' ' | '.' | '\u{a0}')
        })
}

/// A contact checked and normalised, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ValidContact {
    name: String,
    company: Option<String>,
    numbers: Vec<ContactNumber>,
    manager_sip_id: Option<String>,
    notes: Option<String>,
}

impl NewContact {
    pub(crate) fn validate(self) -> Result<ValidContact> {
        let company = blank_to_none(self.company);
        let notes = blank_to_none(self.notes);
        let manager_sip_id = blank_to_none(self.manager_sip_id);
        if let Some(manager) = &manager_sip_id
            && !SipId::looks_like(manager)
        {
            return Err(CallLogError::InvalidContact(format!(
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
                return Err(CallLogError::InvalidContact(format!(
                    "{raw:?} is not a telephone number"
                )));
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
                .ok_or_else(|| {
                    CallLogError::InvalidContact("a contact needs a name or a number".into())
                })?,
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
                 WHERE n.key = ?1 AND lower(k.name) = lower(?2) ORDER BY k.id LIMIT 1",
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
            "SELECT id, name, company, manager_sip_id, notes FROM contacts WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Contact {
                id: r.get(0)?,
                name: r.get(1)?,
                company: r.get(2)?,
                numbers: Vec::new(),
                manager_sip_id: r.get(3)?,
                notes: r.get(4)?,
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
            let phrase = crate::query::search_phrase(text)?;
            conn.prepare_cached(
                "SELECT k.id FROM contacts k WHERE k.id IN \
                 (SELECT rowid FROM contacts_search WHERE contacts_search MATCH ?1) \
                 ORDER BY k.name COLLATE NOCASE, k.id LIMIT ?2",
            )?
            .query_map(params![phrase, limit], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?
        }
        None => conn
            .prepare_cached("SELECT id FROM contacts ORDER BY name COLLATE NOCASE, id LIMIT ?1")?
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

/// A contact read from a file, with the line it started on.
#[derive(Debug)]
pub(crate) struct ParsedRow {
    line: u64,
    contact: NewContact,
}

/// Stores parsed rows; a row that fails validation becomes a problem, the others are imported.
pub(crate) fn import(
    tx: &Transaction<'_>,
    rows: Vec<ParsedRow>,
    mut problems: Vec<ImportProblem>,
) -> Result<ImportReport> {
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
            Err(CallLogError::InvalidContact(message)) => problems.push(ImportProblem {
                line: row.line,
                message,
            }),
            Err(other) => return Err(other),
        }
    }
    problems.sort_by_key(|p| p.line);
    report.problems = problems;
    Ok(report)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Company,
    Phone,
    Manager,
    Notes,
    Ignored,
}

fn column_of(header: &str) -> Column {
    let h = header
        .trim()
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase();
    match h.as_str() {
        "name" | "full name" | "fn" | "имя" | "фио" | "контакт" => Column::Name,
        "company" | "organization" | "organisation" | "org" | "компания" | "организация" => {
            Column::Company
        }
        "manager"
        | "personal manager"
        | "workplace"
        | "sip"
        | "менеджер"
        | "персональный менеджер"
        | "рабочее место" => Column::Manager,
        "notes" | "note" | "comment" | "comments" | "заметки" | "примечание" | "комментарий" => {
            Column::Notes
        }
        _ if [
            "phone",
            "tel",
            "number",
            "mobile",
            "телефон",
            "номер",
            "мобильный",
        ]
        .iter()
        .any(|p| h.starts_with(p)) =>
        {
            Column::Phone
        }
        _ => Column::Ignored,
    }
}

fn split_numbers(cell: &str) -> impl Iterator<Item = String> + '_ {
    cell.split([',', ';', '|', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Reads a CSV phonebook. Returns the rows and the problems found while reading.
pub(crate) fn parse_csv(data: &[u8]) -> (Vec<ParsedRow>, Vec<ImportProblem>) {
    let first_line = data.split(|b| *b == b'\n').next().unwrap_or_default();
    let semicolons = first_line.iter().filter(|b| **b == b';').count();
    let commas = first_line.iter().filter(|b| **b == b',').count();
    let delimiter = if semicolons > commas { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(data);
    let mut problems = Vec::new();
    let columns: Vec<Column> = match reader.byte_headers() {
        Ok(headers) => headers
            .iter()
            .map(|h| column_of(&String::from_utf8_lossy(h)))
            .collect(),
        Err(e) => {
            problems.push(ImportProblem {
                line: 1,
                message: format!("the header row cannot be read: {e}"),
            });
            return (Vec::new(), problems);
        }
    };
    if !columns.contains(&Column::Name) && !columns.contains(&Column::Phone) {
        problems.push(ImportProblem {
            line: 1,
            message: "the header row names neither a name nor a phone column \
                      (expected e.g. name, company, phone, manager, notes)"
                .into(),
        });
        return (Vec::new(), problems);
    }
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, csv::Position::line);
                if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    continue;
                }
                let mut contact = NewContact::default();
                let mut bad_text = false;
                for (i, field) in record.iter().enumerate() {
                    let Ok(text) = std::str::from_utf8(field) else {
                        bad_text = true;
                        break;
                    };
                    match columns.get(i).copied().unwrap_or(Column::Ignored) {
                        Column::Name => contact.name = text.trim().to_owned(),
                        Column::Company => contact.company = Some(text.to_owned()),
                        Column::Phone => contact.numbers.extend(split_numbers(text)),
                        Column::Manager => contact.manager_sip_id = Some(text.to_owned()),
                        Column::Notes => contact.notes = Some(text.to_owned()),
                        Column::Ignored => {}
                    }
                }
                if bad_text {
                    problems.push(ImportProblem {
                        line,
                        message: "the row is not valid UTF-8 text (save the file as UTF-8)".into(),
                    });
                    continue;
                }
                rows.push(ParsedRow { line, contact });
            }
            Err(e) => {
                let line = e.position().map_or(line, csv::Position::line);
                problems.push(ImportProblem {
                    line,
                    message: format!("the row cannot be read: {e}"),
                });
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    (rows, problems)
}

/// Undoes vCard text escaping (`\n`, `\,`, `\;`, `\\`).
fn vcard_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a structured vCard value on unescaped `;`.
fn vcard_components(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            current.push('\\');
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ';' {
            parts.push(vcard_unescape(&current));
            current.clear();
        } else {
            current.push(c);
        }
    }
    parts.push(vcard_unescape(&current));
    parts
}

/// Reads vCard 3.0/4.0 cards tolerantly: folded lines, groups (`item1.TEL`), parameters, upper or
/// lower case, CRLF or LF. Unknown properties are ignored.
pub(crate) fn parse_vcard(text: &str) -> (Vec<ParsedRow>, Vec<ImportProblem>) {
    // Unfold: a line that starts with a space or tab continues the previous one.
    let mut lines: Vec<(u64, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = u64::try_from(i + 1).unwrap_or(u64::MAX);
        if let Some(rest) = raw.strip_prefix([' ', '\t'])
            && let Some((_, last)) = lines.last_mut()
        {
            last.push_str(rest);
            continue;
        }
        lines.push((number, raw.to_owned()));
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut card: Option<(u64, NewContact, Option<String>)> = None;
    for (line, content) in lines {
        if content.trim().is_empty() {
            continue;
        }
        let Some((head, value)) = content.split_once(':') else {
            if card.is_some() {
                problems.push(ImportProblem {
                    line,
                    message: format!("the line {content:?} has no ':' and was skipped"),
                });
            }
            continue;
        };
        let mut params = head.split(';');
        let name = params.next().unwrap_or_default();
        let name = name
            .rsplit('.')
            .next()
            .unwrap_or(name)
            .trim()
            .to_ascii_uppercase();
        match name.as_str() {
            "BEGIN" if value.trim().eq_ignore_ascii_case("vcard") => {
                if let Some((start, _, _)) = card.take() {
                    problems.push(ImportProblem {
                        line: start,
                        message: "the card has no END:VCARD before the next BEGIN:VCARD".into(),
                    });
                }
                card = Some((line, NewContact::default(), None));
            }
            "END" if value.trim().eq_ignore_ascii_case("vcard") => match card.take() {
                Some((start, mut contact, structured_name)) => {
                    if contact.name.trim().is_empty() {
                        contact.name = structured_name.unwrap_or_default();
                    }
                    rows.push(ParsedRow {
                        line: start,
                        contact,
                    });
                }
                None => problems.push(ImportProblem {
                    line,
                    message: "END:VCARD without BEGIN:VCARD".into(),
                }),
            },
            _ => {
                let Some((_, contact, structured_name)) = card.as_mut() else {
                    continue;
                };
                match name.as_str() {
                    "FN" => contact.name = vcard_unescape(value).trim().to_owned(),
                    "N" => {
                        let parts = vcard_components(value);
                        let family = parts.first().map(|s| s.trim()).unwrap_or_default();
                        let given = parts.get(1).map(|s| s.trim()).unwrap_or_default();
                        let joined = [given, family]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(" ");
                        *structured_name = Some(joined);
                    }
                    "ORG" => {
                        contact.company = vcard_components(value)
                            .into_iter()
                            .next()
                            .map(|s| s.trim().to_owned())
                    }
                    "TEL" => {
                        let number = value.trim();
                        let number = number
                            .strip_prefix("tel:")
                            .or_else(|| number.strip_prefix("TEL:"))
                            .unwrap_or(number);
                        let number = number.split(';').next().unwrap_or(number);
                        if !is_number_like(number) {
                            problems.push(ImportProblem {
                                line,
                                message: format!("{number:?} is not a telephone number; skipped"),
                            });
                        } else {
                            contact.numbers.push(number.to_owned());
                        }
                    }
                    "NOTE" => contact.notes = Some(vcard_unescape(value)),
                    _ => {}
                }
            }
        }
    }
    if let Some((start, _, _)) = card {
        problems.push(ImportProblem {
            line: start,
            message: "the card has no END:VCARD".into(),
        });
    }
    (rows, problems)
}

/// Writes every contact as CSV with the headers the importer reads back.
pub(crate) fn export_csv<W: std::io::Write>(conn: &Connection, out: W) -> Result<usize> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["name", "company", "phones", "manager", "notes"])?;
    let contacts = list(conn, None, usize::MAX)?;
    for c in &contacts {
        let phones = c
            .numbers
            .iter()
            .map(|n| n.number.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        writer.write_record([
            c.name.as_str(),
            c.company.as_deref().unwrap_or_default(),
            phones.as_str(),
            c.manager_sip_id.as_deref().unwrap_or_default(),
            c.notes.as_deref().unwrap_or_default(),
        ])?;
    }
    writer.flush().map_err(|e| CallLogError::Csv(e.into()))?;
    Ok(contacts.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_read_with_russian_headers_and_semicolons() {
        let data = "Имя;Компания;Телефон;Телефон 2;Менеджер;Заметки\n\
                    Иван Петров;ООО Ромашка;8 921 946-27-61;+7 (812) 424-15-00;883140777716581;VIP\n";
        let (rows, problems) = parse_csv(data.as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        let c = &rows[0].contact;
        assert_eq!(c.name, "Иван Петров");
        assert_eq!(c.numbers, vec!["8 921 946-27-61", "+7 (812) 424-15-00"]);
        assert_eq!(c.manager_sip_id.as_deref(), Some("883140777716581"));
    }

    #[test]
    fn a_csv_without_known_headers_is_refused_on_line_1() {
        let (rows, problems) = parse_csv(b"a,b\n1,2\n");
        assert!(rows.is_empty());
        assert_eq!(problems[0].line, 1);
    }

    #[test]
    fn vcards_are_unfolded_and_read() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Petrov;Ivan;;;\r\nORG:Romashka;Sales\r\n\
                    item1.TEL;TYPE=CELL:+7 921 946\r\n 27 61\r\nNOTE:line one\\nline two\r\n\
                    END:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:Anna\r\n\
                    TEL;VALUE=uri;TYPE=work:tel:+78124241500\r\nEND:VCARD\r\n";
        let (rows, problems) = parse_vcard(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].contact.name, "Ivan Petrov");
        assert_eq!(rows[0].contact.company.as_deref(), Some("Romashka"));
        assert_eq!(rows[0].contact.numbers, vec!["+7 921 94627 61"]);
        assert_eq!(rows[0].contact.notes.as_deref(), Some("line one\nline two"));
        assert_eq!(rows[1].line, 9);
        assert_eq!(rows[1].contact.numbers, vec!["+78124241500"]);
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
