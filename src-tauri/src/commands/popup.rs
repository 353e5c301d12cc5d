//! The incoming-call popup's own commands: the call it shows, dismissing it, and the CRM.

use companion::ErrorCode;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::core::AppCore;
use crate::desktop::popup::{self, PopupState};
use crate::ipc::{IpcError, PopupView};

/// The call the popup shows now (the popup asks once it has loaded; changes then arrive as
/// events).
#[tauri::command]
pub(crate) fn popup_call(state: State<'_, PopupState>) -> Option<PopupView> {
    state.current()
}

/// Hides the popup (Esc, or its close button).
#[tauri::command]
pub(crate) fn dismiss_popup<R: Runtime>(app: AppHandle<R>) {
    popup::hide(&app);
}

/// Opens the caller's page in the CRM, from the address template in the settings. Only an
/// http(s) address made from the template is ever opened.
#[tauri::command]
pub(crate) async fn open_crm<R: Runtime>(
    app: AppHandle<R>,
    core: State<'_, AppCore>,
    number: String,
) -> Result<(), IpcError> {
    let settings = core.companion().await?.settings();
    let url = settings.crm_url(&number).ok_or_else(|| {
        IpcError::new(
            ErrorCode::NotConfigured,
            "no CRM address is set (Settings → CRM address), or the number is empty",
        )
    })?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| {
            IpcError::new(
                ErrorCode::Unavailable,
                format!("the browser did not open: {e}"),
            )
        })
}
