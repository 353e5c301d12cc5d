//! The core's domain events, forwarded to the main window as they happen.

use std::sync::Arc;

use companion::Companion;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::broadcast::error::RecvError;

use crate::core::AppCore;
use crate::ipc::events::DOMAIN_EVENT;
use crate::ipc::{AppEvent, LinkState};

/// Forwards the core's events to the window until the core stops, remembering the link's
/// latest report for a window that asks later. A window that falls behind
/// hears `resync` and re-reads, rather than showing a call that silently stopped changing.
pub fn forward<R: Runtime>(app: AppHandle<R>, companion: &Arc<Companion>) {
    let mut events = companion.subscribe();
    let me = companion.team().map(|team| team.seat.id);
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => AppEvent::from_domain_for(&event, me),
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the window fell behind the core's events");
                    Some(AppEvent::Resync)
                }
                Err(RecvError::Closed) => break,
            };
            if let Some(AppEvent::Link { state, reason }) = &event {
                app.state::<AppCore>().set_link(LinkState {
                    state: state.clone(),
                    reason: reason.clone(),
                });
            }
            if let Some(event) = event
                && let Err(e) = DOMAIN_EVENT.emit(&app, &event)
            {
                tracing::warn!(error = %e, "could not pass an event to the window");
            }
        }
    });
}
