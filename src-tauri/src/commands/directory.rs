//! The account's directory: the workplaces the transfer picker offers.

use tauri::State;

use crate::core::AppCore;
use crate::ipc::{IpcError, Workplace};

/// The account's workplaces, named ones first, mine marked.
#[tauri::command]
pub(crate) async fn workplaces(core: State<'_, AppCore>) -> Result<Vec<Workplace>, IpcError> {
    let companion = core.companion().await?;
    let mine = companion.settings().workplace;
    let mut list: Vec<Workplace> = companion
        .directory()
        .workplaces
        .iter()
        .map(|w| Workplace {
            mine: mine.as_deref() == Some(w.workplace.as_str()),
            sip_id: w.workplace.clone(),
            name: w.name.trim().to_owned(),
        })
        .collect();
    list.sort_by(|a, b| {
        (a.name.is_empty(), &a.name, &a.sip_id).cmp(&(b.name.is_empty(), &b.name, &b.sip_id))
    });
    Ok(list)
}
