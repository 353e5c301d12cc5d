//! `park` and `routing …`. The rules are snake_case (they are the settings file's `[routing]`
//! table, which `routing set-rules` reads back); the journal is camelCase.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// `park`: parking was turned on or off.
#[derive(Debug, Serialize)]
pub struct Parking {
    /// The external numbers, as given.
    pub numbers: Vec<String>,
    /// Whether parking is now on for them.
    pub parking: bool,
}

/// `routing router`: whether this app now decides parked calls.
#[derive(Debug, Serialize)]
pub struct Router {
    /// The switch as set.
    pub router: bool,
}

/// `routing rules` and `routing set-rules`: the rules, business hours and deadline.
#[derive(Debug, Serialize)]
pub struct RoutingRules {
    /// The rules, tried in order.
    pub rules: Vec<Rule>,
    /// What happens when a rule picks a workplace that is on a call now.
    pub when_busy: WhenBusy,
    /// Business hours, for the `outside_hours` rule.
    pub hours: BusinessHours,
    /// Milliseconds from the parking leg's arrival to the decision reaching the PBX.
    pub deadline_ms: u64,
    /// When parking was last applied to the PBX.
    pub parking_applied_at: Option<DateTime<Utc>>,
}

impl From<&companion::RoutingSettings> for RoutingRules {
    fn from(s: &companion::RoutingSettings) -> Self {
        RoutingRules {
            rules: s.rules.iter().map(Rule::from).collect(),
            when_busy: WhenBusy::from(s.when_busy),
            hours: BusinessHours::from(&s.hours),
            deadline_ms: s.deadline_ms,
            parking_applied_at: s.parking_applied_at,
        }
    }
}

/// One rule, by its `kind`.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// The caller's contact's personal manager.
    Manager {
        /// Whether the rule is tried.
        enabled: bool,
    },
    /// The workplace that last talked to the number within `days`.
    LastOperator {
        /// Whether the rule is tried.
        enabled: bool,
        /// How far back to look, in days.
        days: u32,
    },
    /// Outside business hours: release the call.
    OutsideHours {
        /// Whether the rule is tried.
        enabled: bool,
    },
    /// An unknown or hidden caller: release the call, or send it to `to`.
    UnknownCaller {
        /// Whether the rule is tried.
        enabled: bool,
        /// The default workplace; absent when the call is released.
        #[serde(skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
}

impl From<&companion::Rule> for Rule {
    fn from(r: &companion::Rule) -> Self {
        match r {
            companion::Rule::Manager { enabled } => Rule::Manager { enabled: *enabled },
            companion::Rule::LastOperator { enabled, days } => Rule::LastOperator {
                enabled: *enabled,
                days: *days,
            },
            companion::Rule::OutsideHours { enabled } => Rule::OutsideHours { enabled: *enabled },
            companion::Rule::UnknownCaller { enabled, to } => Rule::UnknownCaller {
                enabled: *enabled,
                to: to.clone(),
            },
        }
    }
}

/// What to do when a rule picks a busy workplace.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenBusy {
    /// Try the next rule.
    NextRule,
    /// Release the call.
    Release,
    /// Transfer anyway.
    Ignore,
}

impl From<companion::WhenBusy> for WhenBusy {
    fn from(w: companion::WhenBusy) -> Self {
        match w {
            companion::WhenBusy::NextRule => WhenBusy::NextRule,
            companion::WhenBusy::Release => WhenBusy::Release,
            companion::WhenBusy::Ignore => WhenBusy::Ignore,
        }
    }
}

/// Opening hours per weekday (`"09:00-18:00"`, several spans separated by commas, `""` for
/// closed) and dates closed all day.
#[derive(Debug, Serialize)]
pub struct BusinessHours {
    /// Monday.
    pub mon: String,
    /// Tuesday.
    pub tue: String,
    /// Wednesday.
    pub wed: String,
    /// Thursday.
    pub thu: String,
    /// Friday.
    pub fri: String,
    /// Saturday.
    pub sat: String,
    /// Sunday.
    pub sun: String,
    /// Dates closed all day (`"2027-01-01"`).
    pub holidays: Vec<NaiveDate>,
}

impl From<&companion::BusinessHours> for BusinessHours {
    fn from(h: &companion::BusinessHours) -> Self {
        BusinessHours {
            mon: h.mon.clone(),
            tue: h.tue.clone(),
            wed: h.wed.clone(),
            thu: h.thu.clone(),
            fri: h.fri.clone(),
            sat: h.sat.clone(),
            sun: h.sun.clone(),
            holidays: h.holidays.clone(),
        }
    }
}

/// `routing journal`: the latest decisions and how many met their deadline.
#[derive(Debug, Serialize)]
pub struct Journal {
    /// Newest first.
    pub decisions: Vec<JournalEntry>,
    /// Of them, how many met the deadline.
    pub met: usize,
    /// `met / decisions`, or `null` with no decisions.
    pub share: Option<f64>,
}

impl From<&companion::RoutingJournal> for Journal {
    fn from(j: &companion::RoutingJournal) -> Self {
        Journal {
            decisions: j.decisions.iter().map(JournalEntry::from).collect(),
            met: j.met,
            share: j.share,
        }
    }
}

/// One journalled decision.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// The journal row.
    pub id: i64,
    /// The parking leg.
    pub leg: String,
    /// Who called.
    pub caller_number: Option<String>,
    /// The parked external number.
    pub external_number: Option<String>,
    /// The rule that decided.
    pub rule: Option<String>,
    /// Where the call was sent, for a transfer.
    pub target: Option<String>,
    /// How it ended.
    pub outcome: RoutingResult,
    /// Why, in words.
    pub detail: Option<String>,
    /// When it was carried out.
    pub decided_at: DateTime<Utc>,
    /// Milliseconds from the parking leg's arrival to the API's answer.
    pub took_ms: i64,
    /// The deadline it had.
    pub deadline_ms: i64,
    /// Whether it met the deadline.
    pub met_deadline: bool,
}

impl From<&companion::RoutingJournalEntry> for JournalEntry {
    fn from(e: &companion::RoutingJournalEntry) -> Self {
        JournalEntry {
            id: e.id,
            leg: e.leg.clone(),
            caller_number: e.caller_number.clone(),
            external_number: e.external_number.clone(),
            rule: e.rule.clone(),
            target: e.target.clone(),
            outcome: RoutingResult::from(e.outcome),
            detail: e.detail.clone(),
            decided_at: e.decided_at,
            took_ms: e.took_ms,
            deadline_ms: e.deadline_ms,
            met_deadline: e.met_deadline,
        }
    }
}

/// How a routing decision ended.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingResult {
    /// The call went to the target.
    Transferred,
    /// The call was released to the cabinet's routing.
    Released,
    /// No decision in time: the PBX followed the cabinet's routing.
    TimedOut,
    /// The API refused even the release.
    Failed,
    /// It rang while the app was away; nothing was sent and the PBX followed the cabinet's
    /// routing.
    MissedOffline,
}

impl RoutingResult {
    /// The word JSON uses, for the text output too.
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingResult::Transferred => "transferred",
            RoutingResult::Released => "released",
            RoutingResult::TimedOut => "timed_out",
            RoutingResult::Failed => "failed",
            RoutingResult::MissedOffline => "missed_offline",
        }
    }
}

impl From<call_log::RoutingOutcome> for RoutingResult {
    fn from(o: call_log::RoutingOutcome) -> Self {
        match o {
            call_log::RoutingOutcome::Transferred => RoutingResult::Transferred,
            call_log::RoutingOutcome::Released => RoutingResult::Released,
            call_log::RoutingOutcome::TimedOut => RoutingResult::TimedOut,
            call_log::RoutingOutcome::Failed => RoutingResult::Failed,
            call_log::RoutingOutcome::MissedOffline => RoutingResult::MissedOffline,
        }
    }
}
