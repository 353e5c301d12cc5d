//! CSV that a spreadsheet opens as text and never runs.
//!
//! Excel, LibreOffice and Google Sheets read a cell that starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return as a formula, so a caller who names themselves `=HYPERLINK(…)` or a note
//! starting with `+cmd|…` would run in the operator's spreadsheet (CSV injection). Every CSV
//! export (the app's history and phonebook, the relay's team phonebook) puts each cell through
//! [`spreadsheet_text`], which applies the OWASP rule: such a cell is written with a `'` in
//! front, which spreadsheets take as "this is text". Leading spaces are looked through, since
//! some importers trim them.
//!
//! One exception keeps telephone numbers usable: a cell made only of ASCII digits, spaces and
//! `+ - ( ) . , ;` (`+7 921 946-27-61`, `+7 921 …; +7 812 …`) is written as it is. Without a
//! letter, `:`, `!` or `|` such a cell cannot call a function, name a cell or range, or reach
//! another program; at worst a spreadsheet does arithmetic on it.
//!
//! The phonebook's importer takes the guard off again ([`strip_spreadsheet_guard`]), so an export
//! reads back as it was. A cell that already starts with `'` before a formula character gets one
//! more, so that stripping one is always exact.

use std::borrow::Cow;

/// The first characters that make a spreadsheet read a cell as a formula (OWASP's list).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether the text after any leading `'` and spaces starts like a formula.
fn starts_like_formula(cell: &str) -> bool {
    cell.trim_start_matches('\'')
        .trim_start_matches(' ')
        .starts_with(FORMULA_STARTS)
}

/// A telephone number or a list of them: nothing a spreadsheet could run.
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

/// Undoes [`spreadsheet_text`]: the cell as it was before the export guarded it.
pub fn strip_spreadsheet_guard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if starts_like_formula(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_would_run_are_quoted_and_numbers_are_not() {
        for (cell, written) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3+cmd|x", "'-2+3+cmd|x"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tsecret", "'\tsecret"),
            ("\r=1", "'\r=1"),
            ("  =1+1", "'  =1+1"),
            ("'=1+1", "''=1+1"),
            ("-", "'-"),
            ("+7 921 946-27-61", "+7 921 946-27-61"),
            (
                "+7 (921) 946-27-61; +7 812 424.15.00",
                "+7 (921) 946-27-61; +7 812 424.15.00",
            ),
            ("-5", "-5"),
            ("Иван = друг", "Иван = друг"),
            ("'quoted'", "'quoted'"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_text(cell), written, "{cell:?}");
            assert_eq!(strip_spreadsheet_guard(written), cell, "{written:?}");
        }
    }
}
