//! Numbers that came from outside the window (a link, the hotkey, the tray).

use tauri::State;

use crate::desktop::links::{PendingDial, PendingJoin};
use crate::ipc::DialRequest;

/// The dial request that arrived before the window listened (a link that started the app), once.
#[tauri::command]
pub(crate) fn take_dial_request(pending: State<'_, PendingDial>) -> Option<DialRequest> {
    pending.take()
}

/// The team invite link that arrived before the window listened, once.
#[tauri::command]
pub(crate) fn take_join_request(pending: State<'_, PendingJoin>) -> Option<String> {
    pending.take()
}
