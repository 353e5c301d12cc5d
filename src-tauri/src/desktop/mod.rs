//! The desktop around the window: what the operator meets outside the web UI — the incoming-call
//! popup, the tray, native notifications, links handed over by the system or a second instance,
//! and the global hotkey. Everything here reacts to the core's domain events or to the settings;
//! none of it decides anything about calls.

use companion::Settings;
use tauri::{AppHandle, Emitter, Runtime};

/// The event every window receives after the settings were saved, with the new settings, so
/// that the language and theme follow at once everywhere.
pub const SETTINGS_CHANGED: &str = "settings-changed";

/// Brings the desktop in line with newly saved settings. Commands that save settings call it.
pub fn settings_changed<R: Runtime>(app: &AppHandle<R>, settings: &Settings) {
    if let Err(e) = app.emit(SETTINGS_CHANGED, settings) {
        tracing::warn!(error = %e, "the windows were not told about the new settings");
    }
}
