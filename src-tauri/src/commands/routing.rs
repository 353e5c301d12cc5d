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
    let parking = companion.parking_state();
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
    let rules = companion
        .routing_settings()
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
/// to it for five seconds, waiting for this app's decision.
#[tauri::command]
pub(crate) async fn set_parking(
    core: State<'_, AppCore>,
    number: String,
    on: bool,
) -> Result<RoutingView, IpcError> {
    let companion = core.companion().await?;
    companion.set_parking(&[number], on).await?;
    view(&companion).await
}

/// Replaces the routing rules with the TOML text from the editor, after checking them.
#[tauri::command]
pub(crate) async fn save_routing_rules(
    core: State<'_, AppCore>,
    rules: String,
) -> Result<RoutingView, IpcError> {
    let companion = core.companion().await?;
    companion.set_routing_settings_toml(&rules)?;
    view(&companion).await
}
