//! The phonebook written as CSV.

use rusqlite::Connection;

use super::store::list;
use crate::error::Result;
use crate::spreadsheet::SpreadsheetCsv;

/// Writes every contact as CSV with the headers the importer reads back. No cell runs as a
/// formula in a spreadsheet (see `crate::spreadsheet`); the importer takes the guard off again.
pub(crate) fn export_csv<W: std::io::Write>(conn: &Connection, out: W) -> Result<usize> {
    let mut writer = SpreadsheetCsv::new(out);
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
    writer.flush()?;
    Ok(contacts.len())
}
