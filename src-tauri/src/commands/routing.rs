//! Routing: which app decides parked calls, parking per external number, the rules and the
//! journal of decisions, for the Settings screen's Routing section.

use std::collections::BTreeSet;
use std::sync::Arc;

use companion::routing::api::JOURNAL_PAGE;
use companion::{Companion, ErrorCode};
use tauri::State;

use crate::core::AppCore;
use crate::ipc::{IpcError, ParkedNumber, RoutingDecisionRow, RoutingView, readable};

#[allow(
    clippy::cast_precision_loss,
    reason = "milliseconds stay far below 2^53"
)]
async fn view(companion: &Arc<Companion>) -> Result<RoutingView, IpcError> {
    let mut parking = companion.parking_state();
    let mut settings = companion.routing_settings();
    // In a team the team's server decides; an admin sees and edits the team's rules and
    // parking (read from the server), anyone else only the decisions.
    let decider = match companion.team() {
        None => "app",
        Some(team) if team.seat.role == "admin" => {
            if let Some(team) = companion.team_routing().await? {
                parking.numbers = team.parked;
                parking.applied_at = team.settings.parking_applied_at;
                settings = team.settings;
            }
            "team"
        }
        Some(_) => "team_readonly",
    };
    let parked: BTreeSet<&str> = parking.numbers.iter().map(String::as_str).collect();
    let mut numbers: Vec<String> = companion
        .directory()
        .numbers
        .iter()
        .map(|n| n.number.clone())
        .collect();
    numbers.extend(parking.numbers.iter().cloned());
    numbers.sort();
    numbers.dedup();
    let journal = companion.routing_journal(JOURNAL_PAGE).await?;
    let rules = settings
        .to_toml()
        .map_err(|e| IpcError::new(ErrorCode::Routing, e))?;
    Ok(RoutingView {
        is_router: parking.is_router,
        deciding: parking.deciding,
        numbers: numbers
            .into_iter()
            .map(|number| ParkedNumber {
                parked: parked.contains(number.as_str()),
                display: readable(&number),
                number,
            })
            .collect(),
        applied_at_ms: parking.applied_at.map(|t| t.timestamp_millis() as f64),
        rules,
        decisions: journal
            .decisions
            .iter()
            .map(RoutingDecisionRow::from)
            .collect(),
        share_in_time: journal.share,
        decider: decider.to_owned(),
    })
}

/// The Routing section's state.
#[tauri::command]
pub(crate) async fn routing(core: State<'_, AppCore>) -> Result<RoutingView, IpcError> {
    view(&core.companion().await?).await
}

/// Marks or unmarks this app as the one that decides the account's parked calls.
#[tauri::command]
pub(crate) async fn set_router(
    core: State<'_, AppCore>,
    on: bool,
) -> Result<RoutingView, IpcError> {
    let companion = core.companion().await?;
    companion.set_is_router(on)?;
    view(&companion).await
}

/// Turns parking on or off for one external number. With parking on, the PBX holds each call
/// to it for five seconds, waiting for this app's decision (in a team: the team server's, and
/// only an admin may change it).
#[tauri::command]
pub(crate) async fn set_parking(
    core: State<'_, AppCore>,
    number: String,
    on: bool,
) -> Result<RoutingView, IpcError> {
    let companion = core.companion().await?;
    if companion.team().is_some() {
        companion
            .set_team_routing(None, Some((&number, on)))
            .await?;
    } else {
        companion.set_parking(&[number], on).await?;
    }
    view(&companion).await
}

/// Replaces the routing rules with the TOML text from the editor, after checking them.
#[tauri::command]
pub(crate) async fn save_routing_rules(
    core: State<'_, AppCore>,
    rules: String,
) -> Result<RoutingView, IpcError> {
    let companion = core.companion().await?;
    if companion.team().is_some() {
        companion.set_team_routing(Some(&rules), None).await?;
    } else {
        companion.set_routing_settings_toml(&rules)?;
    }
    view(&companion).await
}
