//! Calls: dial, hang up, transfer, and the calls live now.

use std::sync::Arc;

use companion::{Companion, CompanionError, ErrorCode};
use tauri::{AppHandle, Runtime, State};

use crate::core::AppCore;
use crate::desktop::tray;
use crate::ipc::{Dialled, IpcError, LinkState, LiveCall};

/// Dials what the operator typed, from my workplace.
#[tauri::command]
pub(crate) async fn dial<R: Runtime>(
    app: AppHandle<R>,
    core: State<'_, AppCore>,
    number: String,
) -> Result<Dialled, IpcError> {
    let companion = core.companion().await?;
    let (target, placed) = companion
        .dial(&number, None)
        .await
        .map_err(|e| failed(&app, &companion, e))?;
    tray::team_answered(&app, &companion);
    Ok(Dialled {
        number: target.display,
        leg: placed.id.to_string(),
    })
}

/// Hangs up a live leg.
#[tauri::command]
pub(crate) async fn hang_up<R: Runtime>(
    app: AppHandle<R>,
    core: State<'_, AppCore>,
    leg: String,
) -> Result<(), IpcError> {
    let companion = core.companion().await?;
    companion
        .hang_up(&leg)
        .await
        .map_err(|e| failed(&app, &companion, e))?;
    tray::team_answered(&app, &companion);
    Ok(())
}

/// Transfers a live leg to a workplace SIP ID or a number.
#[tauri::command]
pub(crate) async fn transfer<R: Runtime>(
    app: AppHandle<R>,
    core: State<'_, AppCore>,
    leg: String,
    target: String,
) -> Result<(), IpcError> {
    let companion = core.companion().await?;
    companion
        .transfer(&leg, &target)
        .await
        .map_err(|e| failed(&app, &companion, e))?;
    tray::team_answered(&app, &companion);
    Ok(())
}

/// An action's failure for the window; one that found the team server unreachable is the
/// tray's news too (the window's link indicator hears it from the answer itself), until an
/// action is answered again or the link reports (`tray::team_answered`).
fn failed<R: Runtime>(
    app: &AppHandle<R>,
    companion: &Arc<Companion>,
    e: CompanionError,
) -> IpcError {
    if e.code() == ErrorCode::RelayUnreachable {
        tray::team_unreachable(app, companion);
    }
    e.into()
}

/// The calls live now (the window's starting point; changes then arrive as events).
#[tauri::command]
pub(crate) async fn live_calls(core: State<'_, AppCore>) -> Result<Vec<LiveCall>, IpcError> {
    let calls = core.companion().await?.live_calls();
    Ok(calls.iter().map(LiveCall::from).collect())
}

/// The relay link's latest report, or none yet: the shell's own record of the reports it
/// forwarded, else the core's, which also holds the one sent before the window listened.
#[tauri::command]
pub(crate) async fn link_status(core: State<'_, AppCore>) -> Result<Option<LinkState>, IpcError> {
    if let Some(link) = core.link() {
        return Ok(Some(link));
    }
    let companion = core.companion().await?;
    Ok(companion.link_status().map(|l| LinkState {
        state: l.state,
        reason: l.reason,
    }))
}
