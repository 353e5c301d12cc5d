//! The desktop around the window: what the operator meets outside the web UI — the incoming-call
//! popup, the tray, native notifications, links handed over by the system or a second instance,
//! and the global hotkey. Everything here reacts to the core's domain events or to the settings;
//! none of it decides anything about calls.

pub mod links;
pub mod notify;
pub mod popup;
pub mod raise;
pub mod tray;

use std::str::FromStr;
use std::sync::Arc;

use companion::settings::Language;
use companion::{Companion, Settings};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_global_shortcut::{GlobalShortcutExt, Shortcut, ShortcutState};
use tokio::sync::broadcast::error::RecvError;

use crate::ipc::Preferences;
use crate::ipc::events::SETTINGS_CHANGED;

/// The main window's label, as tauri.conf.json names it.
pub const MAIN_WINDOW: &str = "main";

/// Brings the desktop in line with newly saved settings, and tells every window (so that the
/// language and theme follow at once everywhere). Commands that save settings call it.
pub fn settings_changed<R: Runtime>(app: &AppHandle<R>, settings: &Settings) {
    if let Err(e) = SETTINGS_CHANGED.emit(app, &Preferences::from(settings)) {
        tracing::warn!(error = %e, "the windows were not told about the new settings");
    }
    apply_settings(app, settings);
}

/// What the settings decide outside the windows: the tray's language and do-not-disturb mark, the hotkey
/// and start at login.
fn apply_settings<R: Runtime>(app: &AppHandle<R>, settings: &Settings) {
    tray::follow_settings(app, settings);
    if let Err(why) = register_hotkey(app, &settings.hotkey) {
        tracing::warn!(%why, "the hotkey is not active");
    }
    apply_autostart(app, settings.autostart);
}

/// Follows the core's events for the popup, the notifications and the tray, until the core
/// stops. What an event may raise (a popup, a notification) is [`raise::raised`]: nothing for a
/// late one.
pub fn follow<R: Runtime>(app: AppHandle<R>, companion: Arc<Companion>) {
    let mut events = companion.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    for popped in popup::on_event(&app, &companion, &event) {
                        notify::incoming(&companion, &popped);
                        popup::add_team_wrapup(app.clone(), Arc::clone(&companion), &popped);
                    }
                    notify::on_event(&companion, &event);
                    tray::on_event(&app, &companion, &event);
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the desktop fell behind the core's events");
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Sets up what the desktop needs once the core is up: the settings' hotkey and start at
/// login, and the tray's do-not-disturb mark.
pub fn core_started<R: Runtime>(app: &AppHandle<R>, companion: &Companion) {
    apply_settings(app, &companion.settings());
}

/// Brings the main window forward (it may be hidden in the tray).
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let shown = window
            .show()
            .and_then(|()| window.unminimize())
            .and_then(|()| window.set_focus());
        if let Err(e) = shown {
            tracing::warn!(error = %e, "the main window could not be brought forward");
        }
    }
}

/// Puts the selected text (the primary selection, where the system has one) or else the copied
/// text in the dialer, to be dialled after the operator confirms.
pub fn dial_copied<R: Runtime>(app: &AppHandle<R>, source: &'static str) {
    let app = app.clone();
    // The clipboard is read on a thread of its own: X11 answers through a round trip.
    tauri::async_runtime::spawn_blocking(move || match copied_number() {
        Some(number) => links::request_dial(&app, number, true, source),
        None => {
            links::request_dial(&app, String::new(), true, source);
            tracing::info!("neither the selection nor the clipboard holds a number");
        }
    });
}

/// The selection's text when it reads as a number to dial, else the clipboard's.
fn copied_number() -> Option<String> {
    let mut clipboard = arboard::Clipboard::new().ok()?;
    let usable = |text: String| {
        let text = text.trim().to_owned();
        companion::dial_target(&text, companion::dialer::DEFAULT_REGION)
            .is_ok()
            .then_some(text)
    };
    #[cfg(target_os = "linux")]
    {
        use arboard::{GetExtLinux, LinuxClipboardKind};
        if let Some(text) = clipboard
            .get()
            .clipboard(LinuxClipboardKind::Primary)
            .text()
            .ok()
            .and_then(usable)
        {
            return Some(text);
        }
    }
    clipboard.get_text().ok().and_then(usable)
}

/// Registers the global hotkey (replacing the one before), saying why when it cannot be.
pub fn register_hotkey<R: Runtime>(app: &AppHandle<R>, hotkey: &str) -> Result<(), String> {
    let Some(shortcuts) = app.try_state::<tauri_plugin_global_shortcut::GlobalShortcut<R>>() else {
        return Ok(());
    };
    shortcuts
        .unregister_all()
        .map_err(|e| format!("the old hotkey could not be released: {e}"))?;
    // An empty hotkey in the settings means none.
    if hotkey.trim().is_empty() {
        return Ok(());
    }
    let shortcut = Shortcut::from_str(hotkey)
        .map_err(|e| format!("{hotkey:?} is not a key combination: {e}"))?;
    app.global_shortcut()
        .on_shortcut(shortcut, |app, _shortcut, event| {
            if event.state == ShortcutState::Pressed {
                dial_copied(app, "hotkey");
            }
        })
        .map_err(|e| format!("{hotkey} could not be taken (another program may hold it): {e}"))
}

fn apply_autostart<R: Runtime>(app: &AppHandle<R>, on: bool) {
    use tauri_plugin_autostart::ManagerExt;
    if app
        .try_state::<tauri_plugin_autostart::AutoLaunchManager>()
        .is_none()
    {
        return;
    }
    let launcher = app.autolaunch();
    let result = match (on, launcher.is_enabled()) {
        (true, Ok(false)) => launcher.enable(),
        (false, Ok(true)) => launcher.disable(),
        (_, Ok(_)) => Ok(()),
        (_, Err(e)) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "start at login was not changed");
    }
}

/// Whether the interface speaks Russian: the setting, or the platform's locale when it follows
/// the system (the same answer the web UI gets, see [`crate::locale`]).
pub fn is_russian(language: Language) -> bool {
    crate::locale::is_russian(language)
}
