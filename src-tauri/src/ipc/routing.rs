//! The Settings screen's Routing section: whether this app decides parked calls, which external
//! numbers are parked, the rules as TOML text, and the latest decisions.

use serde::Serialize;
use ts_rs::TS;

use super::readable;

/// An external number of the account and whether this app parked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ParkedNumber.ts")]
pub struct ParkedNumber {
    /// The number as the PBX knows it (what parking takes).
    pub number: String,
    /// The number as a person reads it.
    pub display: String,
    /// Parking is on for it.
    pub parked: bool,
}

/// One routing decision, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "RoutingDecisionRow.ts")]
pub struct RoutingDecisionRow {
    /// The journal's id (the list's key).
    pub id: f64,
    /// Who called, as a person reads it (external text: render as text only).
    pub caller: Option<String>,
    /// The external number called, as a person reads it.
    pub external_number: Option<String>,
    /// Which rule decided.
    pub rule: Option<String>,
    /// Where the call went.
    pub target: Option<String>,
    /// `transferred`, `released`, `timed_out`, `failed` or `missed_offline`.
    pub outcome: String,
    /// The API's refusal or a note.
    pub detail: Option<String>,
    /// When, in ms since the epoch.
    pub decided_at_ms: f64,
    /// How long the decision took, in ms from the relay's receipt.
    pub took_ms: f64,
    /// Whether it met the deadline.
    pub met_deadline: bool,
}

/// The Routing section.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "RoutingView.ts")]
pub struct RoutingView {
    /// This app is marked as the account's router.
    pub is_router: bool,
    /// This app decides parked calls now (router and signed in).
    pub deciding: bool,
    /// The account's external numbers (and any parked one the PBX no longer lists).
    pub numbers: Vec<ParkedNumber>,
    /// When parking was last applied to the PBX, in ms since the epoch.
    pub applied_at_ms: Option<f64>,
    /// The rules, business hours and deadline as TOML text, for the editor.
    pub rules: String,
    /// The latest decisions (at most 100), newest first.
    pub decisions: Vec<RoutingDecisionRow>,
    /// The share of them that met the deadline, 0–1, when there are any.
    pub share_in_time: Option<f64>,
    /// Who decides parked calls: `app` (personal mode: the app marked as router), `team`
    /// (the team's server, and this seat is an admin: rules and parking here are the team's)
    /// or `team_readonly` (the team's server; this seat only sees the decisions).
    pub decider: String,
}

impl From<&companion::routing::RoutingJournalEntry> for RoutingDecisionRow {
    #[allow(
        clippy::cast_precision_loss,
        reason = "ids and milliseconds stay far below 2^53"
    )]
    fn from(d: &companion::routing::RoutingJournalEntry) -> Self {
        RoutingDecisionRow {
            id: d.id as f64,
            caller: d.caller_number.as_deref().map(readable),
            external_number: d.external_number.as_deref().map(readable),
            rule: d.rule.clone(),
            target: d.target.clone(),
            outcome: serde_json::to_value(d.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            detail: d.detail.clone(),
            decided_at_ms: d.decided_at.timestamp_millis() as f64,
            took_ms: d.took_ms as f64,
            met_deadline: d.met_deadline,
        }
    }
}
