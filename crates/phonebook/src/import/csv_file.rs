//! The CSV reader.
//!
//! The file may be in any encoding (see `text`: Excel with Russian settings saves Windows-1251).
//! The separator is `;`, `,` or a tab: the one the header line holds most of, unless another one
//! is the only one whose header cells name a name or a phone column. Accepted headers (case and
//! surrounding spaces ignored):
//!
//! | column | headers |
//! |---|---|
//! | name | `name`, `full name`, `display name`, `fn`, `фио`, `контакт`, `полное имя` |
//! | name, in parts | `имя`, `first name`, `given name`; `отчество`, `middle name`; `фамилия`, `last name`, `surname`, `family name` (joined as given, middle, family when there is no name) |
//! | company | `company`, `organization`, `organisation`, `org`, `компания`, `организация` |
//! | numbers | any header starting with `phone`, `tel`, `number`, `mobile`, `телефон`, `номер`, `мобильный`, or with a later word starting with `phone` or `телефон` (`Business Phone`, `Рабочий телефон`); several such columns allowed; a cell may hold several numbers separated by `,`, `;`, `\|` or a line break |
//! | manager | `manager`, `personal manager`, `workplace`, `sip`, `менеджер`, `персональный менеджер`, `рабочее место` |
//! | notes | `notes`, `note`, `comment`, `comments`, `заметки`, `примечание`, `комментарий` |
//!
//! Other columns are ignored. A cell our own export guarded against spreadsheets (`'=…`) is read
//! without the guard; line breaks inside cells are read as `\n`.

use super::text::decode_text;
use super::{ImportProblem, ParsedContacts, ParsedRow, clean_text};
use crate::contact::NewContact;
use crate::spreadsheet::strip_spreadsheet_guard;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    GivenName,
    MiddleName,
    FamilyName,
    Company,
    Phone,
    Manager,
    Notes,
    Ignored,
}

/// The prefixes of a header that holds numbers.
const PHONE_PREFIXES: [&str; 7] = [
    "phone",
    "tel",
    "number",
    "mobile",
    "телефон",
    "номер",
    "мобильный",
];

fn column_of(header: &str) -> Column {
    let h = header
        .trim()
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase();
    match h.as_str() {
        "name" | "full name" | "display name" | "fn" | "фио" | "контакт" | "полное имя" => {
            Column::Name
        }
        "имя" | "first name" | "given name" => Column::GivenName,
        "отчество" | "middle name" => Column::MiddleName,
        "фамилия" | "last name" | "surname" | "family name" => Column::FamilyName,
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
        _ if PHONE_PREFIXES.iter().any(|p| h.starts_with(p))
            || h.split(|c: char| !c.is_alphanumeric())
                .skip(1)
                .any(|word| word.starts_with("phone") || word.starts_with("телефон")) =>
        {
            Column::Phone
        }
        _ => Column::Ignored,
    }
}

/// Whether a header row lets a row be read at all: it names a name or a number.
fn names_a_contact(columns: &[Column]) -> bool {
    columns.iter().any(|c| {
        matches!(
            c,
            Column::Name | Column::GivenName | Column::FamilyName | Column::Phone
        )
    })
}

fn split_numbers(cell: &str) -> impl Iterator<Item = String> + '_ {
    cell.split([',', ';', '|', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes())
}

/// The header's columns under each separator, the most frequent in the header line first; the
/// first that names a contact wins, else the most frequent (whose header is then refused).
fn header(text: &str) -> Result<(u8, Vec<Column>), csv::Error> {
    let first_line = text.lines().next().unwrap_or_default();
    let mut candidates = [b';', b',', b'\t'];
    // A stable sort keeps `;` before `,` before a tab when they are equally frequent.
    candidates.sort_by_key(|d| std::cmp::Reverse(first_line.bytes().filter(|b| b == d).count()));
    let mut most_frequent = None;
    for delimiter in candidates {
        let columns: Vec<Column> = reader(text, delimiter)
            .headers()?
            .iter()
            .map(column_of)
            .collect();
        if names_a_contact(&columns) {
            return Ok((delimiter, columns));
        }
        most_frequent.get_or_insert((delimiter, columns));
    }
    Ok(most_frequent.unwrap_or((b',', Vec::new())))
}

/// The name to store: the name column, else its parts as given, middle and family name.
fn full_name(name: &str, given: &str, middle: &str, family: &str) -> String {
    if !name.trim().is_empty() {
        return name.trim().to_owned();
    }
    [given, middle, family]
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Line numbers of records by their byte offsets. The `csv` crate's own line count is one short
/// after CRLF line ends (a record's position is taken before the `\n` of the line end before
/// it), and Excel writes CRLF; so the lines are counted here, forward only.
struct LineCounter<'t> {
    text: &'t [u8],
    byte: usize,
    line: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            byte: 0,
            line: 1,
        }
    }

    /// The line of the record whose position is `byte` (line ends before it skipped).
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > self.byte {
            let newlines = self.text[self.byte..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.line += u64::try_from(newlines).unwrap_or(u64::MAX);
            self.byte = start;
        }
        self.line
    }
}

/// Reads a CSV phonebook. Returns the rows and the problems found while reading.
pub fn parse_csv(data: &[u8]) -> ParsedContacts {
    let decoded = decode_text(data);
    let text = decoded.text;
    let mut problems = Vec::new();
    let (delimiter, columns) = match header(&text) {
        Ok(header) => header,
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
    if !names_a_contact(&columns) {
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
    let mut reader = reader(&text, delimiter);
    let mut lines = LineCounter::new(&text);
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let before = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = lines.line_at(record.position().map_or(before, csv::Position::byte));
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                if decoded.lossy && record.iter().any(|f| f.contains('\u{fffd}')) {
                    problems.push(ImportProblem {
                        line,
                        message: "the row is not valid UTF-8 text like the rest of the file \
                                  (save the file as UTF-8)"
                            .into(),
                    });
                    continue;
                }
                let mut contact = NewContact::default();
                let (mut name, mut given, mut middle, mut family) =
                    (String::new(), String::new(), String::new(), String::new());
                for (i, field) in record.iter().enumerate() {
                    // Our own export guards cells that would run in a spreadsheet.
                    let text = clean_text(strip_spreadsheet_guard(field));
                    match columns.get(i).copied().unwrap_or(Column::Ignored) {
                        Column::Name => name = text,
                        Column::GivenName => given = text,
                        Column::MiddleName => middle = text,
                        Column::FamilyName => family = text,
                        Column::Company => contact.company = Some(text),
                        Column::Phone => contact.numbers.extend(split_numbers(&text)),
                        Column::Manager => contact.manager_sip_id = Some(text),
                        Column::Notes => contact.notes = Some(text),
                        Column::Ignored => {}
                    }
                }
                contact.name = full_name(&name, &given, &middle, &family);
                rows.push(ParsedRow { line, contact });
            }
            Err(e) => {
                let line = lines.line_at(e.position().map_or(before, csv::Position::byte));
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
