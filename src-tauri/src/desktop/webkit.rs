//! WebKitGTK tuned for a small, always-running app rather than a browser.
//!
//! Trubka's pages are forms and tables that never navigate, so the browser's defaults cost
//! memory for nothing: the back/forward page cache and the large memory cache (the "web browser"
//! cache model), and GPU compositing, which loads the graphics driver into the web process
//! (about 50 MB resident under a software renderer) and is behind the blank-window bugs some
//! drivers have with WebKitGTK. The popup's page is put in the main window's web process too.

use tauri::{AppHandle, Manager, Wry};
use webkit2gtk::{CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt};

use super::{MAIN_WINDOW, popup};

/// Settles the main window's web view and makes the hidden popup beside it. Without a main
/// window the popup gets a web process of its own.
pub fn settle(app: &AppHandle<Wry>) {
    let Some(main) = app.get_webview_window(MAIN_WINDOW) else {
        if let Err(e) = popup::prepare(app) {
            tracing::warn!(error = %e, "the popup window could not be prepared");
        }
        return;
    };
    let handle = app.clone();
    // A web view can only be touched on the main thread; this runs there, once the loop turns.
    let done = main.with_webview(move |view| {
        let view = view.inner();
        lean(&view);
        popup::prepare_related(&handle, view);
    });
    if let Err(e) = done {
        tracing::warn!(error = %e, "the main window's web view could not be reached");
    }
}

fn lean(view: &webkit2gtk::WebView) {
    if let Some(context) = view.context() {
        context.set_cache_model(CacheModel::DocumentViewer);
    }
    if let Some(settings) = WebViewExt::settings(view) {
        settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
    }
}
