//! The audit log as text: lines for the terminal and CSV for a spreadsheet.
//!
//! CSV cells are guarded against formulas the way call-log's `spreadsheet.rs` does it (copied:
//! the relay does not depend on the desktop's crates): a cell that starts with `=`, `+`, `-`,
//! `@`, a tab or a carriage return (after any leading `'` and spaces) is written with a `'` in
//! front, so that a spreadsheet shows it as text instead of running it; a cell made only of
//! digits, spaces and `+ - ( ) . , ;` (a telephone number) is written as it is.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::store::audit::AuditEntry;

/// The first characters that make a spreadsheet read a cell as a formula (OWASP's list).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn starts_like_formula(cell: &str) -> bool {
    cell.trim_start_matches('\'')
        .trim_start_matches(' ')
        .starts_with(FORMULA_STARTS)
}

fn is_plain_number(cell: &str) -> bool {
    cell.bytes().any(|b| b.is_ascii_digit())
        && cell.chars().all(|c| {
            c.is_ascii_digit()
                || matches!(c, ' ' | '\u{a0}' | '+' | '-' | '(' | ')' | '.' | ',' | ';')
        })
}

/// The cell as a spreadsheet should show it: with a `'` in front when it would otherwise run.
pub fn spreadsheet_text(cell: &str) -> Cow<'_, str> {
    if starts_like_formula(cell) && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
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

/// The columns, in order.
pub const CSV_HEADER: [&str; 9] = [
    "id", "at", "seat_id", "seat", "action", "target", "outcome", "code", "detail",
];

fn cells(entry: &AuditEntry) -> [String; 9] {
    let e = &entry.entry;
    [
        entry.id.to_string(),
        e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        e.seat_id.to_string(),
        e.seat_name.clone(),
        e.action.clone(),
        e.target.clone(),
        e.outcome.as_str().to_owned(),
        e.code.clone().unwrap_or_default(),
        e.detail.clone(),
    ]
}

/// Writes the entries as CSV, a header first.
pub fn write_csv(entries: &[AuditEntry], out: &mut impl Write) -> io::Result<()> {
    let line = |cells: &[String]| {
        cells
            .iter()
            .map(|cell| csv_cell(cell))
            .collect::<Vec<_>>()
            .join(",")
    };
    let header: Vec<String> = CSV_HEADER.iter().map(|h| (*h).to_owned()).collect();
    write!(out, "{}\r\n", line(&header))?;
    for entry in entries {
        write!(out, "{}\r\n", line(&cells(entry)))?;
    }
    Ok(())
}

/// One line per entry, tab-separated, for the terminal (control characters shown as spaces).
pub fn line(entry: &AuditEntry) -> String {
    cells(entry)
        .iter()
        .map(|cell| cell.replace(|c: char| c.is_control(), " "))
        .collect::<Vec<_>>()
        .join("\t")
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::store::audit::{NewAuditEntry, Outcome};

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        assert_eq!(spreadsheet_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(spreadsheet_text(" @SUM(A1)"), "' @SUM(A1)");
        assert_eq!(spreadsheet_text("+79001234567"), "+79001234567");
        assert_eq!(
            spreadsheet_text("-cmd|' /C calc'!A0"),
            "'-cmd|' /C calc'!A0"
        );
        assert_eq!(spreadsheet_text("Анна"), "Анна");
        let entry = AuditEntry {
            id: 1,
            entry: NewAuditEntry {
                at: Utc::now(),
                seat_id: 2,
                seat_name: "=cmd|x, \"y\"".into(),
                action: "dial".into(),
                target: "+79001234567 from 883140000000001".into(),
                outcome: Outcome::Done,
                code: None,
                detail: "placed".into(),
            },
        };
        let mut out = Vec::new();
        write_csv(&[entry], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(",\"'=cmd|x, \"\"y\"\"\","), "{text}");
        assert!(text.starts_with("id,at,seat_id,seat,action,target,outcome,code,detail\r\n"));
    }
}
