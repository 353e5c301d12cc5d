//! Team mode: reading an invite for confirmation, joining, the team in Settings, leaving.
//!
//! The team always belongs to the default profile (as a real account does): in demo mode the
//! running core is the demo's, so joining and leaving open the default profile's core for the
//! moment; the app then restarts (`restart_app`) into team mode, or out of it.

use std::sync::Arc;

use companion::{Companion, JoinOffer};
use tauri::State;

use crate::Mode;
use crate::commands::account::AccountHome;
use crate::core::AppCore;
use crate::ipc::{IpcError, TeamInvite, TeamJoined, TeamLeft, TeamView};

/// The default profile's core: the running one in account mode, else opened for this command.
async fn default_core(
    core: &AppCore,
    home: &AccountHome,
) -> Result<(Arc<Companion>, bool), IpcError> {
    if home.mode() == Mode::Account {
        return Ok((core.companion().await?, false));
    }
    let companion = Companion::open(home.profile()?.clone(), home.vault())?;
    Ok((Arc::new(companion), true))
}

/// The team this app is a seat of (state `none` in personal mode).
#[tauri::command]
pub(crate) async fn team(
    core: State<'_, AppCore>,
    home: State<'_, AccountHome>,
) -> Result<TeamView, IpcError> {
    let (companion, opened) = default_core(&core, &home).await?;
    let view = TeamView::new(companion.team_state(), companion.team().as_ref());
    if opened {
        companion.shutdown().await;
    }
    Ok(view)
}

/// Reads a pasted or linked invite (a `trubka://join` link, or a code with the server's
/// address) and answers the host to confirm; nothing is sent.
#[tauri::command]
pub(crate) fn read_invite(invite: String, server: Option<String>) -> Result<TeamInvite, IpcError> {
    let offer = JoinOffer::read(&invite, server.as_deref())?;
    Ok(TeamInvite {
        host: offer.host(),
        server: offer.server().to_owned(),
    })
}

/// Joins the team, once the person confirmed its host. The app then restarts into team mode.
#[tauri::command]
pub(crate) async fn join_team(
    core: State<'_, AppCore>,
    home: State<'_, AccountHome>,
    invite: String,
    server: Option<String>,
) -> Result<TeamJoined, IpcError> {
    let offer = JoinOffer::read(&invite, server.as_deref())?;
    let (companion, opened) = default_core(&core, &home).await?;
    let joined = companion.join_team(&offer).await;
    if opened {
        companion.shutdown().await;
    }
    Ok(TeamJoined::from(&joined?))
}

/// Leaves the team, deleting the team's history and contacts from this computer if asked. The
/// app then restarts.
#[tauri::command]
pub(crate) async fn leave_team(
    core: State<'_, AppCore>,
    home: State<'_, AccountHome>,
    delete_history: bool,
) -> Result<TeamLeft, IpcError> {
    let (companion, opened) = default_core(&core, &home).await?;
    let left = companion.leave_team(delete_history).await;
    if opened {
        companion.shutdown().await;
    }
    let left = left?;
    Ok(TeamLeft {
        deleted_calls: u32::try_from(left.deleted_calls).unwrap_or(u32::MAX),
        deleted_contacts: u32::try_from(left.deleted_contacts).unwrap_or(u32::MAX),
    })
}
