//! Calls: dial, hang up, transfer, and the calls live now.

use tauri::State;

use crate::core::AppCore;
use crate::ipc::{Dialled, IpcError, LinkState, LiveCall};

/// Dials what the operator typed, from my workplace.
#[tauri::command]
pub(crate) async fn dial(core: State<'_, AppCore>, number: String) -> Result<Dialled, IpcError> {
    let (target, placed) = core.companion().await?.dial(&number, None).await?;
    Ok(Dialled {
        number: target.display,
        leg: placed.id.to_string(),
    })
}

/// Hangs up a live leg.
#[tauri::command]
pub(crate) async fn hang_up(core: State<'_, AppCore>, leg: String) -> Result<(), IpcError> {
    Ok(core.companion().await?.hang_up(&leg).await?)
}

/// Transfers a live leg to a workplace SIP ID or a number.
#[tauri::command]
pub(crate) async fn transfer(
    core: State<'_, AppCore>,
    leg: String,
    target: String,
) -> Result<(), IpcError> {
    Ok(core.companion().await?.transfer(&leg, &target).await?)
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
