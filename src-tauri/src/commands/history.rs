//! History: pages of past calls, filtered and searched; the callback queue; the current filter
//! exported as CSV; a call's recording saved; and today's figures.

use companion::{CompanionError, DownloadLimits, ErrorCode, RecordingFetch};
use tauri::State;

use crate::core::AppCore;
use crate::downloads::Downloads;
use crate::ipc::{
    CallWay, Callback, HistoryPage, HistoryQuery, IpcError, RoutingDecisionRow, SavedFile, Today,
};

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
        .history(query.filter()?, query.after.map(Into::into), PAGE_SIZE)
        .await?;
    let mut view = HistoryPage::from(&page);
    // Why a parked call went where it did: one indexed read per incoming row, and none at all
    // while this app has never decided a call.
    if companion.routing_journal(1).await?.decisions.is_empty() {
        return Ok(view);
    }
    for row in view
        .rows
        .iter_mut()
        .filter(|r| r.direction == CallWay::Incoming)
    {
        row.routing = companion
            .routing_reason(&row.leg)
            .await?
            .as_ref()
            .map(RoutingDecisionRow::from);
    }
    Ok(view)
}

/// Today's calls, answered, missed and talk time, and the calls of each hour (in team mode
/// mine only).
#[tauri::command]
pub(crate) async fn today(core: State<'_, AppCore>) -> Result<Today, IpcError> {
    let companion = core.companion().await?;
    let now = chrono::Utc::now();
    let (stats, hours) = companion.today(now).await?;
    Ok(Today::new(stats, &hours, companion.log().day_zone(), now))
}

/// How far back the callback queue looks for missed calls.
pub(crate) const CALLBACK_DAYS: i64 = 7;
/// The most numbers the callback queue lists.
pub(crate) const CALLBACK_LIMIT: usize = 200;

/// The numbers to call back: missed in the last [`CALLBACK_DAYS`] days and not reached since by
/// an answered call (in either direction), latest miss first. A number leaves the queue by
/// itself once such a call is logged.
#[tauri::command]
pub(crate) async fn callbacks(core: State<'_, AppCore>) -> Result<Vec<Callback>, IpcError> {
    let companion = core.companion().await?;
    let since = chrono::Utc::now() - chrono::Duration::days(CALLBACK_DAYS);
    let queue = companion.log().callbacks(since, CALLBACK_LIMIT).await?;
    Ok(queue.iter().map(Callback::from).collect())
}

/// Writes every call the query selects (not only the page on screen) as CSV into the
/// Downloads folder.
#[tauri::command]
pub(crate) async fn export_history(
    core: State<'_, AppCore>,
    downloads: State<'_, Downloads>,
    query: HistoryQuery,
) -> Result<SavedFile, IpcError> {
    let filter = query.filter()?;
    let companion = core.companion().await?;
    let stem = format!(
        "trubka-calls-{}",
        chrono::Local::now().format("%Y-%m-%d-%H%M%S")
    );
    let path = downloads.fresh_path(&stem, "csv")?;
    let rows = companion.log().export_history_csv(&path, filter).await?;
    Ok(SavedFile {
        path: path.display().to_string(),
        rows: u32::try_from(rows).unwrap_or(u32::MAX),
    })
}

/// Saves a call's recording into the Downloads folder. The address is the one the PBX sent for
/// the leg (the window cannot name another); the core fetches it under its rules (https, checked
/// redirects, a size cap, never over an existing file).
#[tauri::command]
pub(crate) async fn save_recording(
    core: State<'_, AppCore>,
    downloads: State<'_, Downloads>,
    leg: String,
) -> Result<SavedFile, IpcError> {
    let companion = core.companion().await?;
    let call = companion.log().call(&leg).await?;
    let Some(url) = call.and_then(|c| c.recording_url) else {
        return Err(IpcError::new(
            ErrorCode::NotFound,
            format!("the call {leg:?} has no recording"),
        ));
    };
    let dir = downloads.dir()?;
    let saved = RecordingFetch::new(DownloadLimits::default())
        .save(&url, &dir, &format!("trubka-recording-{leg}"), "mp3")
        .await
        .map_err(CompanionError::from)?;
    Ok(SavedFile {
        path: saved.path.display().to_string(),
        rows: 0,
    })
}
