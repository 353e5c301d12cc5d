//! Settings: the operator's preferences, my workplace, and About.

use tauri::{AppHandle, Runtime, State};

use crate::core::AppCore;
use crate::desktop;
use crate::downloads::Downloads;
use crate::ipc::{About, IpcError, Preferences, PruneSummary, SavedFile};

/// The preferences as saved.
#[tauri::command]
pub(crate) async fn settings(core: State<'_, AppCore>) -> Result<Preferences, IpcError> {
    Ok(Preferences::from(&core.companion().await?.settings()))
}

/// Checks and saves the preferences, then brings the desktop (theme, language, hotkey, start
/// at login) in line with them. A value that cannot be right is refused with code `invalid`,
/// the field that is wrong, and why.
#[tauri::command]
pub(crate) async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    core: State<'_, AppCore>,
    preferences: Preferences,
) -> Result<Preferences, IpcError> {
    let saved = core
        .companion()
        .await?
        .edit_settings(|s| preferences.apply_to(s))?;
    desktop::settings_changed(&app, &saved);
    Ok(Preferences::from(&saved))
}

/// The app's version for Settings' About. It needs no core, so About shows even when the core
/// could not start.
#[tauri::command]
pub(crate) fn about() -> About {
    About::of_this_build()
}

/// Chooses my workplace (one of the account's) and saves it.
#[tauri::command]
pub(crate) async fn set_workplace<R: Runtime>(
    app: AppHandle<R>,
    core: State<'_, AppCore>,
    workplace: String,
) -> Result<(), IpcError> {
    let companion = core.companion().await?;
    companion.set_workplace(workplace.trim())?;
    desktop::settings_changed(&app, &companion.settings());
    Ok(())
}

/// What the call log's last clean-up did (it runs by itself: soon after start, then daily).
#[tauri::command]
pub(crate) async fn last_prune(core: State<'_, AppCore>) -> Result<Option<PruneSummary>, IpcError> {
    Ok(core
        .companion()
        .await?
        .last_prune()
        .as_ref()
        .map(PruneSummary::from))
}

/// Saves a diagnostics zip (the logs, the settings and a summary, without secrets) into the
/// Downloads folder under a fresh name, and says where.
#[tauri::command]
pub(crate) async fn save_diagnostics(
    core: State<'_, AppCore>,
    downloads: State<'_, Downloads>,
) -> Result<SavedFile, IpcError> {
    let companion = core.companion().await?;
    let stem = format!(
        "trubka-diagnostics-{}",
        chrono::Local::now().format("%Y-%m-%d-%H%M%S")
    );
    let path = downloads.fresh_path(&stem, "zip")?;
    // Without a log folder (no home) the zip still has the summary and the settings.
    let logs = companion::diagnostics::app_log_dir().ok();
    let zip = companion
        .save_diagnostics(path, env!("CARGO_PKG_VERSION"), logs)
        .await?;
    Ok(SavedFile {
        path: zip.path.display().to_string(),
        rows: 0,
    })
}
