//! Team mode: the colleagues (the Team panel, the transfer picker) and this seat's availability.

use tauri::{AppHandle, Runtime, State};

use crate::core::AppCore;
use crate::ipc::{Availability, Colleague, IpcError};

/// The team's seats with their presence and availability (this seat marked `me`); changes then
/// arrive as `colleague` events.
#[tauri::command]
pub(crate) async fn colleagues(core: State<'_, AppCore>) -> Result<Vec<Colleague>, IpcError> {
    let companion = core.companion().await?;
    let me = companion.team().map(|team| team.seat.id);
    let list = companion.colleagues().await?;
    Ok(list.iter().map(|c| Colleague::new(c, me)).collect())
}

/// Sets this seat's availability (available, break or away); answers what colleagues now see.
#[tauri::command]
pub(crate) async fn set_availability<R: Runtime>(
    app: AppHandle<R>,
    core: State<'_, AppCore>,
    availability: Availability,
) -> Result<Availability, IpcError> {
    let companion = core.companion().await?;
    let now = companion.set_availability(availability.into()).await?;
    crate::desktop::tray::follow_availability(&app, Some(now));
    Ok(now.into())
}
