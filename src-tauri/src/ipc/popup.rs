//! What the incoming-call popup shows.

use call_log::{CallOutcome, ScreenPop};
use serde::Serialize;
use ts_rs::TS;

use super::{CallWay, InterfaceLanguage, readable};

/// One call as the popup shows it: who is calling (phonebook first, then the PBX's name) and
/// how earlier calls with the number went.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "PopupView.ts")]
pub struct PopupView {
    /// The leg that hang-up and transfer take.
    pub leg: String,
    /// Which way the call goes.
    pub direction: CallWay,
    /// The caller's number as a person reads it.
    pub number: Option<String>,
    /// The caller's number as the PBX sent it.
    pub number_raw: Option<String>,
    /// The name: the phonebook's, else the PBX's (external text: render as text only).
    pub name: Option<String>,
    /// The phonebook's company.
    pub company: Option<String>,
    /// Calls with this number before this one.
    pub earlier_calls: f64,
    /// How the last of them went: `answered`, `missed`, `routed`, `not_answered`,
    /// `in_progress`.
    pub last_outcome: Option<String>,
    /// When the last of them started, in ms since the epoch.
    pub last_at_ms: Option<f64>,
    /// The note of the latest wrap-up about this number, empty when none (render as text only).
    pub last_note: String,
    /// Its tags.
    pub last_tags: Vec<String>,
    /// Whether a CRM address template is set, so "open in CRM" can be offered.
    pub crm: bool,
    /// Whether the call has been answered (at my workplace: the popup stays for transfer and
    /// hang-up).
    pub answered: bool,
    /// The language the interface speaks: the settings' choice, or the platform's for
    /// "System" (what the tray and the notifications speak).
    pub language: InterfaceLanguage,
    /// The theme chosen in the settings: `system`, `light` or `dark`.
    pub theme: String,
}

impl PopupView {
    /// The view of a call that just started ringing, with what the log knows of the number.
    pub fn new(
        call: &companion::LiveCall,
        summary: Option<&ScreenPop>,
        settings: &companion::Settings,
    ) -> Self {
        let contact = summary.and_then(|s| s.contact.as_ref());
        let pbx_name = call.remote_name.clone().filter(|n| !n.trim().is_empty());
        let last = summary.and_then(|s| s.last_call.as_ref());
        PopupView {
            leg: call.leg.clone(),
            direction: call.direction.into(),
            number: call.remote_number.as_deref().map(readable),
            number_raw: call.remote_number.clone(),
            name: contact
                .map(|c| c.name.clone())
                .filter(|n| !n.trim().is_empty())
                .or(pbx_name),
            company: contact.and_then(|c| c.company.clone()),
            earlier_calls: summary.map_or(0.0, |s| s.earlier_calls as f64),
            last_outcome: last.map(|l| outcome_word(l.outcome).to_owned()),
            last_at_ms: last.map(|l| l.at.timestamp_millis() as f64),
            last_note: summary
                .and_then(|s| s.last_wrapup.as_ref())
                .map(|w| w.note.clone())
                .unwrap_or_default(),
            last_tags: summary
                .and_then(|s| s.last_wrapup.as_ref())
                .map(|w| w.tags.clone())
                .unwrap_or_default(),
            crm: settings.crm_url_template.is_some(),
            answered: call.connected_at.is_some(),
            language: InterfaceLanguage::of(settings.language),
            theme: word(&settings.theme),
        }
    }
}

/// A settings enum as its serde name (`system`, `ru`, `dark`, …).
fn word<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "system".to_owned())
}

fn outcome_word(outcome: CallOutcome) -> &'static str {
    match outcome {
        CallOutcome::Answered => "answered",
        CallOutcome::Missed => "missed",
        CallOutcome::Routed => "routed",
        CallOutcome::NotAnswered => "not_answered",
        CallOutcome::InProgress => "in_progress",
    }
}
