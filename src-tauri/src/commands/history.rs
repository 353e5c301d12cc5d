//! History: pages of past calls, filtered and searched, and today's figures.

use tauri::State;

use crate::core::AppCore;
use crate::ipc::{HistoryPage, HistoryQuery, IpcError, Today};

/// How many rows a history page holds.
pub(crate) const PAGE_SIZE: usize = 50;

/// One page of history, newest first.
#[tauri::command]
pub(crate) async fn history(
    core: State<'_, AppCore>,
    query: HistoryQuery,
) -> Result<HistoryPage, IpcError> {
    let companion = core.companion().await?;
    let page = companion
        .log()
        .history(query.filter(), query.after.map(Into::into), PAGE_SIZE)
        .await?;
    Ok(HistoryPage::from(&page))
}

/// Today's calls, answered, missed and talk time.
#[tauri::command]
pub(crate) async fn today(core: State<'_, AppCore>) -> Result<Today, IpcError> {
    let companion = core.companion().await?;
    Ok(companion.log().day_stats(chrono::Utc::now()).await?.into())
}
