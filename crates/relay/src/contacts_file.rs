//! The team phonebook as a file: reading a CSV or vCard file for `trubka-relay contacts
//! import` (the readers are the `phonebook` crate's, the same the app uses), and writing the
//! phonebook as CSV that the importer reads back, every cell guarded against formulas.

use std::io::{self, Write};
use std::path::Path;

use phonebook::{ImportProblem, ParsedContacts, parse_csv, parse_vcard, spreadsheet_text};
use team_api::TeamContact;

/// The CSV export's header: the columns the importer recognises.
pub const CSV_HEADER: [&str; 5] = ["name", "company", "phones", "manager", "notes"];

/// Whether a file holds vCards: by its extension, else by its first line.
fn is_vcard(path: &Path, data: &[u8]) -> bool {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("vcf" | "vcard") => true,
        Some("csv" | "txt" | "tsv") => false,
        _ => {
            let start: Vec<u8> = data
                .iter()
                .skip_while(|b| {
                    b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF
                })
                .take(11)
                .copied()
                .collect();
            start.eq_ignore_ascii_case(b"BEGIN:VCARD")
        }
    }
}

/// Reads a phonebook file's contacts as entered, with a problem per line that could not be
/// read. A file with no contact at all is one problem on line 1, so that an empty or foreign
/// file is refused by name instead of "importing" nothing.
pub fn parse_file(path: &Path, data: &[u8]) -> ParsedContacts {
    let mut parsed = if is_vcard(path, data) {
        parse_vcard(data)
    } else {
        parse_csv(data)
    };
    if parsed.rows.is_empty() && parsed.problems.is_empty() {
        parsed.problems.push(ImportProblem {
            line: 1,
            message: "the file holds no contact (a CSV with a header line, or vCards)".into(),
        });
    }
    parsed
}

/// One CSV cell: guarded, then quoted when it must be (RFC 4180).
fn csv_cell(cell: &str) -> String {
    let cell = spreadsheet_text(cell);
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.into_owned()
    }
}

/// Writes the contacts as CSV, a header first.
pub fn write_csv(contacts: &[TeamContact], out: &mut impl Write) -> io::Result<()> {
    let line = |cells: &[&str]| {
        cells
            .iter()
            .map(|cell| csv_cell(cell))
            .collect::<Vec<_>>()
            .join(",")
    };
    write!(out, "{}\r\n", line(&CSV_HEADER))?;
    for contact in contacts {
        let phones = contact.numbers.join("; ");
        write!(
            out,
            "{}\r\n",
            line(&[
                &contact.name,
                contact.company.as_deref().unwrap_or_default(),
                &phones,
                contact.manager.as_deref().unwrap_or_default(),
                contact.notes.as_deref().unwrap_or_default(),
            ])
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn an_export_reads_back_as_it_was_written() {
        let contact = TeamContact {
            id: 1,
            name: "=Иван, \"VIP\"".into(),
            company: Some("ООО Ромашка".into()),
            numbers: vec!["+7 921 946-27-61".into(), "8 812 424-15-00".into()],
            manager: Some("883140000000001".into()),
            notes: Some("line one\nline two".into()),
            version: 1,
            updated_at: Utc::now(),
        };
        let mut out = Vec::new();
        write_csv(std::slice::from_ref(&contact), &mut out).unwrap();
        let parsed = parse_file(Path::new("team.csv"), &out);
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let read = &parsed.rows[0].contact;
        assert_eq!(read.name, contact.name);
        assert_eq!(read.company, contact.company);
        assert_eq!(read.numbers, contact.numbers);
        assert_eq!(read.manager_sip_id, contact.manager);
        assert_eq!(read.notes, contact.notes);
    }

    #[test]
    fn a_file_without_contacts_is_a_problem_on_line_1() {
        let parsed = parse_file(Path::new("empty.csv"), b"");
        assert_eq!(parsed.problems.len(), 1);
        assert_eq!(parsed.problems[0].line, 1);
        assert!(is_vcard(Path::new("x.dat"), b"\xEF\xBB\xBFbegin:vcard\r\n"));
    }
}
