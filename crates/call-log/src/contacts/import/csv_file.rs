//! The CSV reader.
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
//! Other columns are ignored. Every field must be UTF-8 text.

use super::{ImportProblem, ParsedContacts, ParsedRow};
use crate::contacts::NewContact;
use crate::spreadsheet::strip_spreadsheet_guard;

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
pub(crate) fn parse_csv(data: &[u8]) -> ParsedContacts {
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
            return ParsedContacts {
                rows: Vec::new(),
                problems,
            };
        }
    };
    if !columns.contains(&Column::Name) && !columns.contains(&Column::Phone) {
        problems.push(ImportProblem {
            line: 1,
            message: "the header row names neither a name nor a phone column \
                      (expected e.g. name, company, phone, manager, notes)"
                .into(),
        });
        return ParsedContacts {
            rows: Vec::new(),
            problems,
        };
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
                    // Our own export guards cells that would run in a spreadsheet.
                    let text = strip_spreadsheet_guard(text);
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
    ParsedContacts { rows, problems }
}
