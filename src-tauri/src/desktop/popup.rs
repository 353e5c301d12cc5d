//! The incoming-call popup: a small window on top, at the bottom-right of the monitor under the
//! pointer, that never takes the keyboard from what the operator is typing.
//!
//! The window is made once, hidden, as the app starts (just after the main window's first
//! paint, see `startup`), so that showing it for a call is a move and a show rather than a new
//! web view (which takes a few hundred milliseconds). It goes
//! again when the call is answered somewhere else or ends, or when the operator dismisses it.
//!
//! On Linux the popup's page lives in the main window's web process (a WebKit "related view"):
//! a web process of its own would cost the idle app a whole WebKit renderer, about 160 MiB
//! resident, for a page that is hidden nearly all the time. The price is that the two pages
//! share one thread: the median popup shows in 44–50 ms instead of 17 (BENCHMARKS.md).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use call_log::ScreenPop;
use companion::{CallPhase, Companion, DomainEvent, LiveCall};
use tauri::{
    AppHandle, Manager, PhysicalPosition, Runtime, WebviewUrl, WebviewWindow, WebviewWindowBuilder,
};

use crate::ipc::PopupView;
use crate::ipc::events::POPUP_CALL;

/// The popup window's label.
pub const POPUP: &str = "popup";

/// The popup's size in logical pixels.
const WIDTH: f64 = 380.0;
const HEIGHT: f64 = 236.0;
/// Its distance from the work area's edges.
const MARGIN: f64 = 16.0;

/// How many ringing calls are remembered for a popup they may still need.
const PENDING_KEPT: usize = 256;

/// The call the popup shows now (for a popup page that asks after it has loaded), and the
/// calls that started but have not popped up yet: an incoming call usually becomes mine only
/// when the PBX rings my workplace, one notification after it started.
#[derive(Debug, Default)]
pub struct PopupState {
    current: Mutex<Option<PopupView>>,
    pending: Mutex<VecDeque<(String, Option<Box<ScreenPop>>)>>,
}

impl PopupState {
    /// The call shown now.
    pub fn current(&self) -> Option<PopupView> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set(&self, view: Option<PopupView>) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = view;
    }

    fn leg(&self) -> Option<String> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|v| v.leg.clone())
    }

    fn remember(&self, leg: &str, summary: Option<Box<ScreenPop>>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.push_back((leg.to_owned(), summary));
        while pending.len() > PENDING_KEPT {
            pending.pop_front();
        }
    }

    /// The started call's summary, once: a call pops up at most once.
    fn take(&self, leg: &str) -> Option<Option<Box<ScreenPop>>> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let at = pending.iter().position(|(l, _)| l == leg)?;
        pending.remove(at).map(|(_, summary)| summary)
    }
}

/// Makes the hidden popup window, ready to be shown.
pub fn prepare<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<WebviewWindow<R>> {
    if let Some(window) = app.get_webview_window(POPUP) {
        return Ok(window);
    }
    builder(app).build()
}

/// Makes the hidden popup window in the web process of the window labelled `beside` (see the
/// module's note), or in one of its own when there is no such window.
#[cfg(target_os = "linux")]
pub fn prepare_beside(app: &AppHandle<tauri::Wry>, beside: &str) {
    let Some(main) = app.get_webview_window(beside) else {
        if let Err(e) = prepare(app) {
            tracing::warn!(error = %e, "the popup window could not be prepared");
        }
        return;
    };
    let handle = app.clone();
    // A web view can only be touched on the main thread; this runs there, once the loop turns.
    // A call that needs the popup before then gets one in a web process of its own.
    let done = main.with_webview(move |view| {
        if handle.get_webview_window(POPUP).is_some() {
            return;
        }
        match builder(&handle).with_related_view(view.inner()).build() {
            Ok(_) => tracing::debug!("the popup window is prepared"),
            Err(e) => tracing::warn!(error = %e, "the popup window could not be prepared"),
        }
    });
    if let Err(e) = done {
        tracing::warn!(error = %e, "the popup window could not be prepared");
    }
}

fn builder<R: Runtime>(app: &AppHandle<R>) -> WebviewWindowBuilder<'_, R, AppHandle<R>> {
    WebviewWindowBuilder::new(app, POPUP, WebviewUrl::App("popup.html".into()))
        .title("Trubka")
        .inner_size(WIDTH, HEIGHT)
        .resizable(false)
        .decorations(false)
        .always_on_top(true)
        .skip_taskbar(true)
        .focused(false)
        .visible(false)
}

/// Follows the core's events: shows the popup for a call that should pop up (returning its
/// view, so the caller can notify once too), updates it, and hides it when the call is answered
/// elsewhere or ends. Late events (see [`super::raise`]) update and hide, but pop nothing up.
pub fn on_event<R: Runtime>(
    app: &AppHandle<R>,
    companion: &Companion,
    event: &DomainEvent,
) -> Vec<PopupView> {
    let state = app.state::<PopupState>();
    match event {
        // A started call is remembered even when late: it may pop up when the backlog ends.
        DomainEvent::CallStarted { call, summary, .. } => {
            state.remember(&call.leg, summary.clone());
        }
        DomainEvent::CallUpdated { call, .. } if state.leg().as_deref() == Some(&call.leg) => {
            if call.phase == CallPhase::Connected && companion.answered_elsewhere(call) {
                hide(app);
            } else if let Some(mut view) = state.current() {
                view.answered = call.connected_at.is_some();
                state.set(Some(view.clone()));
                emit(app, Some(&view));
            }
            return Vec::new();
        }
        DomainEvent::CallEnded { call, .. } => {
            state.take(&call.leg);
            if state.leg().as_deref() == Some(&call.leg) {
                hide(app);
            }
            return Vec::new();
        }
        _ => {}
    }
    super::raise::raised(event)
        .popups
        .into_iter()
        .filter_map(|call| pop(app, companion, call))
        .collect()
}

/// In team mode, what the team wrote last about the number of the call the popup shows
/// replaces what this computer knows (it may be a colleague's): asked after the popup is up,
/// so the popup never waits for the team's server.
pub fn add_team_wrapup<R: Runtime>(app: AppHandle<R>, companion: Arc<Companion>, view: &PopupView) {
    let (Some(number), leg) = (view.number_raw.clone(), view.leg.clone()) else {
        return;
    };
    tauri::async_runtime::spawn(async move {
        let Ok(Some(wrapup)) = companion.team_wrapup_for(&number, &leg).await else {
            return;
        };
        let state = app.state::<PopupState>();
        let Some(mut current) = state.current().filter(|v| v.leg == leg) else {
            return;
        };
        current.last_note = wrapup.note;
        current.last_tags = wrapup.tags;
        state.set(Some(current.clone()));
        emit(&app, Some(&current));
    });
}

/// Shows the popup for a started call the first time it should pop up.
fn pop<R: Runtime>(
    app: &AppHandle<R>,
    companion: &Companion,
    call: &LiveCall,
) -> Option<PopupView> {
    if !companion.wants_popup(call) {
        return None;
    }
    let summary = app.state::<PopupState>().take(&call.leg)?;
    let view = PopupView::new(call, summary.as_deref(), &companion.settings());
    show(app, view.clone());
    Some(view)
}

/// Shows `view` in the popup, placed by the pointer's monitor.
pub fn show<R: Runtime>(app: &AppHandle<R>, view: PopupView) {
    // The shell's part of a popup's way, for tests/e2e/measure.rs (at debug level).
    tracing::debug!(leg = %view.leg, "popup: showing");
    app.state::<PopupState>().set(Some(view.clone()));
    let window = match prepare(app) {
        Ok(window) => window,
        Err(e) => {
            tracing::warn!(error = %e, "the popup window could not be made");
            return;
        }
    };
    emit(app, Some(&view));
    if let Some(position) = corner(app)
        && let Err(e) = window.set_position(position)
    {
        tracing::debug!(error = %e, "the popup stays where it was");
    }
    if let Err(e) = window.show() {
        tracing::warn!(error = %e, "the popup could not be shown");
    }
    tracing::debug!(leg = %view.leg, "popup: shown");
}

/// Hides the popup and forgets its call.
pub fn hide<R: Runtime>(app: &AppHandle<R>) {
    app.state::<PopupState>().set(None);
    emit(app, None);
    if let Some(window) = app.get_webview_window(POPUP)
        && let Err(e) = window.hide()
    {
        tracing::warn!(error = %e, "the popup could not be hidden");
    }
}

fn emit<R: Runtime>(app: &AppHandle<R>, view: Option<&PopupView>) {
    if let Err(e) = POPUP_CALL.emit_to(app, POPUP, &view.cloned()) {
        tracing::warn!(error = %e, "the popup was not told about its call");
    }
}

/// The popup's top-left corner: the bottom-right of the work area of the monitor under the
/// pointer (the primary monitor when the pointer cannot be found).
fn corner<R: Runtime>(app: &AppHandle<R>) -> Option<PhysicalPosition<i32>> {
    let monitor = app
        .cursor_position()
        .ok()
        .and_then(|p| app.monitor_from_point(p.x, p.y).ok().flatten())
        .or_else(|| app.primary_monitor().ok().flatten())?;
    let scale = monitor.scale_factor();
    let area = monitor.work_area();
    let width = ((WIDTH + MARGIN) * scale).round() as i32;
    let height = ((HEIGHT + MARGIN) * scale).round() as i32;
    Some(PhysicalPosition::new(
        area.position.x + area.size.width as i32 - width,
        area.position.y + area.size.height as i32 - height,
    ))
}
