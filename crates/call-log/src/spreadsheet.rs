//! CSV that a spreadsheet opens as text and never runs.
//!
//! Excel, LibreOffice and Google Sheets read a cell that starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return as a formula, so a caller who names themselves `=HYPERLINK(…)` or a note
//! starting with `+cmd|…` would run in the operator's spreadsheet (CSV injection). Every CSV the
//! log writes (the history, the phonebook) goes through [`SpreadsheetCsv`], which applies the
//! OWASP rule: such a cell is written with a `'` in front, which spreadsheets take as "this is
//! text". Leading spaces are looked through, since some importers trim them.
//!
//! One exception keeps telephone numbers usable: a cell made only of ASCII digits, spaces and
//! `+ - ( ) . , ;` (`+7 921 946-27-61`, `+7 921 …; +7 812 …`) is written as it is. Without a
//! letter, `:`, `!` or `|` such a cell cannot call a function, name a cell or range, or reach
//! another program; at worst a spreadsheet does arithmetic on it.
//!
//! The phonebook's importer takes the guard off again (`phonebook::strip_spreadsheet_guard`), so an export
//! reads back as it was. A cell that already starts with `'` before a formula character gets one
//! more, so that stripping one is always exact.

use phonebook::spreadsheet_text;

use crate::error::{CallLogError, Result};

/// A CSV writer whose every cell goes through [`spreadsheet_text`].
pub(crate) struct SpreadsheetCsv<W: std::io::Write> {
    writer: csv::Writer<W>,
}

impl<W: std::io::Write> std::fmt::Debug for SpreadsheetCsv<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpreadsheetCsv")
    }
}

impl<W: std::io::Write> SpreadsheetCsv<W> {
    pub(crate) fn new(out: W) -> Self {
        SpreadsheetCsv {
            writer: csv::Writer::from_writer(out),
        }
    }

    /// Writes one row.
    pub(crate) fn write_record<I, T>(&mut self, cells: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        for cell in cells {
            self.writer
                .write_field(spreadsheet_text(cell.as_ref()).as_bytes())?;
        }
        // An empty record after the fields ends the row.
        self.writer.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// Writes out what is buffered.
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.writer.flush().map_err(|e| CallLogError::Csv(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guarded_row_reads_back_with_the_csv_reader() {
        let mut out = Vec::new();
        {
            let mut csv = SpreadsheetCsv::new(&mut out);
            csv.write_record(["name", "phone"]).unwrap();
            csv.write_record(["=1,2", "+79219462761"]).unwrap();
            csv.flush().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "name,phone\n\"'=1,2\",+79219462761\n"
        );
    }
}
