//! The phonebook: importing a CSV or vCard file, listing and searching.

use std::path::Path;

use companion::CompanionError;

use crate::args::{ContactsAction, Global};
use crate::output::{self, say};
use crate::profile::open;

/// The most contacts `contacts list` prints.
const LIST_LIMIT: usize = 200;

/// `trubka contacts import|list`.
pub async fn contacts(g: &Global, action: ContactsAction) -> Result<(), CompanionError> {
    match action {
        ContactsAction::Import { file } => import(g, &file).await,
        ContactsAction::List { search } => list(g, search.as_deref()).await,
    }
}

async fn import(g: &Global, file: &Path) -> Result<(), CompanionError> {
    let c = open(g)?;
    let data = std::fs::read(file).map_err(|e| {
        CompanionError::InvalidInput(format!("cannot read {}: {e}", file.display()))
    })?;
    let is_vcard = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("vcf") || e.eq_ignore_ascii_case("vcard"));
    // The bytes as they are: the call log reads any encoding (Windows-1251 from Outlook and
    // Excel included).
    let report = if is_vcard {
        c.log().import_contacts_vcard(data).await?
    } else {
        c.log().import_contacts_csv(data).await?
    };
    let report = output::ImportReport::from(&report);
    say(g.json, &report, || report.for_people());
    Ok(())
}

async fn list(g: &Global, search: Option<&str>) -> Result<(), CompanionError> {
    let c = open(g)?;
    let contacts = c.log().contacts(search, LIST_LIMIT).await?;
    let value: Vec<_> = contacts.iter().map(output::Contact::from).collect();
    say(g.json, &value, || {
        value
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
