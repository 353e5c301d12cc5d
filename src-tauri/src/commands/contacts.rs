//! Contacts: the phonebook listed and searched, edited, imported from CSV or vCard, exported.

use tauri::State;

use crate::core::AppCore;
use crate::downloads::Downloads;
use crate::ipc::{ContactDraft, ContactRow, ImportFormat, ImportOutcome, IpcError, SavedFile};

/// The most contacts one listing returns; a longer phonebook is narrowed with the search.
pub(crate) const LIST_LIMIT: usize = 500;

/// Contacts matching part (3+ characters) of a name, company or number, or the first
/// [`LIST_LIMIT`] by name without a search.
#[tauri::command]
pub(crate) async fn contacts(
    core: State<'_, AppCore>,
    search: Option<String>,
) -> Result<Vec<ContactRow>, IpcError> {
    let companion = core.companion().await?;
    let search = search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let found = companion.log().contacts(search, LIST_LIMIT).await?;
    let edits = companion.edits_team_contacts();
    Ok(found
        .iter()
        .map(|c| ContactRow::from(c).for_seat(edits))
        .collect())
}

/// Adds a contact: the operator's own, or (asked by a supervisor's or an admin's app) the
/// team's, on the team's server.
#[tauri::command]
pub(crate) async fn add_contact(
    core: State<'_, AppCore>,
    contact: ContactDraft,
) -> Result<ContactRow, IpcError> {
    let companion = core.companion().await?;
    let added = if contact.team == Some(true) {
        companion.add_team_contact(contact.into()).await?
    } else {
        companion.log().add_contact(contact.into()).await?
    };
    Ok(ContactRow::from(&added).for_seat(companion.edits_team_contacts()))
}

/// Replaces a contact's fields and numbers (a team contact's on the team's server).
#[tauri::command]
pub(crate) async fn update_contact(
    core: State<'_, AppCore>,
    id: i64,
    contact: ContactDraft,
) -> Result<ContactRow, IpcError> {
    let companion = core.companion().await?;
    let updated = companion.update_contact(id, contact.into()).await?;
    Ok(ContactRow::from(&updated).for_seat(companion.edits_team_contacts()))
}

/// Deletes a contact (a team contact on the team's server).
#[tauri::command]
pub(crate) async fn delete_contact(core: State<'_, AppCore>, id: i64) -> Result<(), IpcError> {
    let companion = core.companion().await?;
    Ok(companion.delete_contact(id).await?)
}

/// Imports a phonebook file the window read, as the bytes it holds: the core reads any encoding
/// (Windows-1251 from Outlook and Excel included), and bad rows or cards come back with their
/// lines while the rest are stored.
#[tauri::command]
pub(crate) async fn import_contacts(
    core: State<'_, AppCore>,
    format: ImportFormat,
    data: Vec<u8>,
) -> Result<ImportOutcome, IpcError> {
    let companion = core.companion().await?;
    let report = match format {
        ImportFormat::Csv => companion.log().import_contacts_csv(data).await?,
        ImportFormat::Vcard => companion.log().import_contacts_vcard(data).await?,
    };
    Ok(ImportOutcome::from(&report))
}

/// Writes the whole phonebook as CSV into the Downloads folder.
#[tauri::command]
pub(crate) async fn export_contacts(
    core: State<'_, AppCore>,
    downloads: State<'_, Downloads>,
) -> Result<SavedFile, IpcError> {
    let companion = core.companion().await?;
    let stem = format!(
        "trubka-contacts-{}",
        chrono::Local::now().format("%Y-%m-%d-%H%M%S")
    );
    let path = downloads.fresh_path(&stem, "csv")?;
    let rows = companion.log().export_contacts_csv(&path).await?;
    Ok(SavedFile {
        path: path.display().to_string(),
        rows: u32::try_from(rows).unwrap_or(u32::MAX),
    })
}
