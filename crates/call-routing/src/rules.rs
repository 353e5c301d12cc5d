//! The routing rules: data the operator edits in Settings (or a TOML file through the CLI), and
//! the pure function that applies them to what is known about a caller.
//!
//! Rules are tried in order; the first that decides wins. A rule that picks a workplace (the
//! personal manager, the last operator, the default workplace for unknown callers) is checked
//! against the live calls: a workplace on a call now is passed over (`when_busy = "next_rule"`,
//! the default) or the call is released at once (`"release"`). When no rule decides, the call is
//! released at once with `terminateCall`, so a caller never waits out the parking window for
//! nothing. In `settings.toml` the rules look like this:
//!
//! ```toml
//! [routing]
//! deadline_ms = 4000
//! when_busy = "next_rule"
//! rules = [
//!     { kind = "manager" },
//!     { kind = "last_operator", days = 30 },
//!     { kind = "outside_hours" },
//!     { kind = "unknown_caller" },                        # release at once
//!     # { kind = "unknown_caller", to = "883140777551401" }  # or a default workplace
//! ]
//!
//! [routing.hours]          # in the account's time zone (`pbx_time_zone`)
//! mon = "09:00-18:00"
//! tue = "09:00-18:00"
//! wed = "09:00-13:00, 14:00-18:00"
//! thu = "09:00-18:00"
//! fri = "09:00-17:00"
//! sat = ""                 # closed
//! sun = ""
//! holidays = ["2027-01-01", "2027-01-07"]
//! ```

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::choice::{Decision, NO_RULE, RoutingChoice};

/// The PBX waits this long for a decision before it falls back to the cabinet's routing.
pub const PARKING_WINDOW_MS: u64 = 5_000;
/// The longest deadline allowed: the decision must reach the PBX before its window closes.
pub const MAX_DEADLINE_MS: u64 = 4_500;
/// The shortest deadline allowed: below this even a healthy API call would miss it.
pub const MIN_DEADLINE_MS: u64 = 100;

/// Everything about deciding parked calls that the operator sets, kept in the profile's
/// settings under `[routing]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, rename_all = "snake_case")]
#[ts(export_to = "RoutingSettings.ts")]
pub struct RoutingSettings {
    /// The rules, tried in order.
    pub rules: Vec<Rule>,
    /// What happens when a rule picks a workplace that is on a call now.
    pub when_busy: WhenBusy,
    /// Business hours, for the `outside_hours` rule.
    pub hours: BusinessHours,
    /// Milliseconds from the relay's receipt of the parking leg to the decision reaching the
    /// PBX; past it the call is released.
    pub deadline_ms: u64,
    /// When parking was last applied to the PBX (set by this app, after a change or a
    /// sign-in). The API cannot read parking back, so this is the only evidence.
    #[ts(type = "string | null")]
    pub parking_applied_at: Option<DateTime<Utc>>,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            rules: vec![
                Rule::Manager { enabled: true },
                Rule::LastOperator {
                    enabled: true,
                    days: 30,
                },
                Rule::OutsideHours { enabled: true },
                Rule::UnknownCaller {
                    enabled: true,
                    to: None,
                },
            ],
            when_busy: WhenBusy::NextRule,
            hours: BusinessHours::default(),
            deadline_ms: 4_000,
            parking_applied_at: None,
        }
    }
}

fn on() -> bool {
    true
}

/// One routing rule: `{"kind": "<name>", "enabled": …, …}` (serde's internally tagged form;
/// `enabled` may be left out of what is read, and is then on). The TypeScript type follows the
/// serde attributes; `tests.rs` checks a sample of every kind against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export_to = "Rule.ts")]
pub enum Rule {
    /// The caller's contact has a personal manager: that manager's workplace.
    Manager {
        /// Whether the rule is tried.
        #[serde(default = "on")]
        enabled: bool,
    },
    /// The workplace that last had a connected call with this number within `days`.
    LastOperator {
        /// Whether the rule is tried.
        #[serde(default = "on")]
        enabled: bool,
        /// How far back to look, in days (1–365).
        days: u32,
    },
    /// Outside business hours: release the call to the cabinet's routing.
    OutsideHours {
        /// Whether the rule is tried.
        #[serde(default = "on")]
        enabled: bool,
    },
    /// A caller the phonebook and the history do not know (or a hidden number): release the
    /// call, or send it to `to`, a default workplace.
    UnknownCaller {
        /// Whether the rule is tried.
        #[serde(default = "on")]
        enabled: bool,
        /// The default workplace; `None` releases the call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        to: Option<String>,
    },
}

impl Rule {
    /// The rule's name as the journal and the screens show it.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Manager { .. } => "manager",
            Rule::LastOperator { .. } => "last_operator",
            Rule::OutsideHours { .. } => "outside_hours",
            Rule::UnknownCaller { .. } => "unknown_caller",
        }
    }

    /// Whether the rule is tried.
    pub fn enabled(&self) -> bool {
        match self {
            Rule::Manager { enabled }
            | Rule::LastOperator { enabled, .. }
            | Rule::OutsideHours { enabled }
            | Rule::UnknownCaller { enabled, .. } => *enabled,
        }
    }
}

/// What to do when a rule picks a workplace that is on a call now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "WhenBusy.ts")]
pub enum WhenBusy {
    /// Try the next rule.
    NextRule,
    /// Release the call to the cabinet's routing at once.
    Release,
    /// Transfer anyway (the workplace's own call waiting decides).
    Ignore,
}

/// Opening hours per weekday, as `"09:00-18:00"` or several spans `"09:00-13:00, 14:00-18:00"`
/// (an empty string: closed all day; `"00:00-24:00"`: open all day), and dates closed all day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, rename_all = "snake_case")]
#[ts(export_to = "BusinessHours.ts")]
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
    #[ts(as = "Vec<String>")]
    pub holidays: Vec<NaiveDate>,
}

impl Default for BusinessHours {
    fn default() -> Self {
        let weekday = || "09:00-18:00".to_owned();
        BusinessHours {
            mon: weekday(),
            tue: weekday(),
            wed: weekday(),
            thu: weekday(),
            fri: weekday(),
            sat: String::new(),
            sun: String::new(),
            holidays: Vec::new(),
        }
    }
}

impl BusinessHours {
    fn day(&self, day: Weekday) -> (&'static str, &str) {
        match day {
            Weekday::Mon => ("mon", &self.mon),
            Weekday::Tue => ("tue", &self.tue),
            Weekday::Wed => ("wed", &self.wed),
            Weekday::Thu => ("thu", &self.thu),
            Weekday::Fri => ("fri", &self.fri),
            Weekday::Sat => ("sat", &self.sat),
            Weekday::Sun => ("sun", &self.sun),
        }
    }

    /// Whether `now` falls within business hours in `zone`. Hours that do not parse count as
    /// closed (validation refuses them before they are saved).
    pub fn is_open(&self, now: DateTime<Utc>, zone: Tz) -> bool {
        let local = now.with_timezone(&zone);
        if self.holidays.contains(&local.date_naive()) {
            return false;
        }
        let minute = local.hour() * 60 + local.minute();
        let (_, text) = self.day(local.weekday());
        parse_spans(text)
            .map(|spans| {
                spans
                    .iter()
                    .any(|&(from, to)| from <= minute && minute < to)
            })
            .unwrap_or(false)
    }

    fn validate(&self) -> Result<(), String> {
        for day in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ] {
            let (name, text) = self.day(day);
            parse_spans(text).map_err(|e| format!("routing.hours.{name} {text:?}: {e}"))?;
        }
        Ok(())
    }
}

/// Reads `"09:00-13:00, 14:00-18:00"` as minutes since midnight, end exclusive.
fn parse_spans(text: &str) -> Result<Vec<(u32, u32)>, String> {
    let mut spans = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (from, to) = part
            .split_once('-')
            .ok_or_else(|| format!("{part:?} must be a span like 09:00-18:00"))?;
        let (from, to) = (minutes(from.trim())?, minutes(to.trim())?);
        if from >= to {
            return Err(format!("{part:?} must end after it starts"));
        }
        spans.push((from, to));
    }
    Ok(spans)
}

fn minutes(text: &str) -> Result<u32, String> {
    let bad = || format!("{text:?} is not a time like 09:00");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl RoutingSettings {
    /// Parses a `[routing]` table on its own (the CLI's `routing set-rules <file>`): either the
    /// table's keys at the top level or the same under `[routing]`.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Wrapped {
            routing: RoutingSettings,
        }
        let value: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let parsed = if value.contains_key("routing") {
            toml::from_str::<Wrapped>(text).map(|w| w.routing)
        } else {
            toml::from_str::<RoutingSettings>(text)
        }
        .map_err(|e| e.to_string())?;
        parsed.validate()?;
        Ok(parsed)
    }

    /// The settings as TOML, under `[routing]`.
    pub fn to_toml(&self) -> Result<String, String> {
        #[derive(Serialize)]
        struct Wrapped<'a> {
            routing: &'a RoutingSettings,
        }
        toml::to_string_pretty(&Wrapped { routing: self }).map_err(|e| e.to_string())
    }

    /// Checks values that parse but cannot be right, naming the rule and the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(MIN_DEADLINE_MS..=MAX_DEADLINE_MS).contains(&self.deadline_ms) {
            return Err(format!(
                "routing.deadline_ms must be {MIN_DEADLINE_MS}–{MAX_DEADLINE_MS} ms (the PBX waits {PARKING_WINDOW_MS} ms), not {}",
                self.deadline_ms
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let at = format!("routing.rules[{}] ({})", i + 1, rule.name());
            if !seen.insert(rule.name()) {
                return Err(format!("{at} appears twice; each rule may appear once"));
            }
            match rule {
                Rule::LastOperator { days, .. } if !(1..=365).contains(days) => {
                    return Err(format!("{at}: days must be 1–365, not {days}"));
                }
                Rule::UnknownCaller { to: Some(to), .. } => {
                    mtt_api::SipId::parse(to)
                        .map_err(|e| format!("{at}: the default workplace {to:?}: {e}"))?;
                }
                _ => {}
            }
        }
        self.hours.validate()
    }
}

/// What the rules ask about a workplace a rule picked. Both deciders answer from memory (the
/// app from its live calls and directory, the relay from its call view and the seats'
/// availability), so these are plain calls.
pub trait WorkplaceFacts {
    /// Whether `id` is one of the account's workplaces.
    fn is_workplace(&self, id: &str) -> bool;
    /// Whether the workplace is on a connected call now.
    fn is_busy(&self, workplace: &str) -> bool;
    /// Whether the workplace's operator is available (not on a break, away or offline); a
    /// decider that does not know says yes.
    fn is_available(&self, workplace: &str) -> bool {
        let _ = workplace;
        true
    }
}

/// What the routing rules look at for one parked call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerView {
    /// The caller's contact has this personal manager.
    pub manager: Option<String>,
    /// This workplace had the latest connected call with the number within the rule's days.
    pub last_operator: Option<String>,
    /// The number is in the phonebook or called before.
    pub known: bool,
}

impl RoutingSettings {
    /// Applies the rules in order. `workplaces` says whether a SIP ID is one of the account's
    /// workplaces (a stale manager in the phonebook is passed over rather than sent to the
    /// PBX), whether its operator is available (one on a break or away is passed over to the
    /// next rule, whatever `when_busy` says: nobody would answer) and whether it is on a call
    /// now (`when_busy` decides).
    pub fn evaluate(
        &self,
        caller: &CallerView,
        now: DateTime<Utc>,
        zone: Tz,
        workplaces: &dyn WorkplaceFacts,
    ) -> Decision {
        let mut notes = Vec::new();
        for rule in self.rules.iter().filter(|r| r.enabled()) {
            let name = rule.name();
            let target = match rule {
                Rule::Manager { .. } => caller.manager.clone(),
                Rule::LastOperator { .. } => caller.last_operator.clone(),
                Rule::OutsideHours { .. } => {
                    if self.hours.is_open(now, zone) {
                        continue;
                    }
                    notes.push("outside business hours".to_owned());
                    return Decision::release(name, notes);
                }
                Rule::UnknownCaller { to, .. } => {
                    if caller.known {
                        continue;
                    }
                    notes.push("unknown caller".to_owned());
                    match to {
                        None => return Decision::release(name, notes),
                        Some(to) => Some(to.clone()),
                    }
                }
            };
            let Some(target) = target else { continue };
            if !workplaces.is_workplace(&target) {
                notes.push(format!(
                    "{name}: {target} is not a workplace of this account"
                ));
                continue;
            }
            if !workplaces.is_available(&target) {
                notes.push(format!("{name}: {target} is not available; next rule"));
                continue;
            }
            if workplaces.is_busy(&target) {
                match self.when_busy {
                    WhenBusy::NextRule => {
                        notes.push(format!("{name}: {target} is on a call; next rule"));
                        continue;
                    }
                    WhenBusy::Release => {
                        notes.push(format!("{name}: {target} is on a call; released"));
                        return Decision::release(name, notes);
                    }
                    WhenBusy::Ignore => {
                        notes.push(format!("{name}: {target} is on a call; sent anyway"));
                    }
                }
            }
            return Decision {
                choice: RoutingChoice::Transfer {
                    to: target,
                    rule: name.to_owned(),
                },
                notes,
            };
        }
        notes.push("no rule matched".to_owned());
        Decision::release(NO_RULE, notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const MANAGER: &str = "883140777446532";
    const OPERATOR: &str = "883140777551201";
    const RECEPTION: &str = "883140777551401";
    const MOSCOW: Tz = chrono_tz::Europe::Moscow;

    /// Wednesday 2026-03-04 at `hour`:`minute` in Moscow.
    fn moscow(hour: u32, minute: u32) -> DateTime<Utc> {
        MOSCOW
            .with_ymd_and_hms(2026, 3, 4, hour, minute, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    /// Workplaces are the SIP IDs starting 8831; `busy` are on a call, `away` not available.
    struct Office<'a> {
        busy: &'a [&'a str],
        away: &'a [&'a str],
    }

    impl WorkplaceFacts for Office<'_> {
        fn is_workplace(&self, id: &str) -> bool {
            id.starts_with("8831")
        }
        fn is_busy(&self, workplace: &str) -> bool {
            self.busy.contains(&workplace)
        }
        fn is_available(&self, workplace: &str) -> bool {
            !self.away.contains(&workplace)
        }
    }

    fn decide(settings: &RoutingSettings, caller: &CallerView, busy: &[&str]) -> Decision {
        settings.evaluate(caller, moscow(12, 0), MOSCOW, &Office { busy, away: &[] })
    }

    #[test]
    fn an_unavailable_workplace_passes_to_the_next_rule_even_when_busy_means_release() {
        let strict = RoutingSettings {
            when_busy: WhenBusy::Release,
            ..RoutingSettings::default()
        };
        let caller = CallerView {
            manager: Some(MANAGER.into()),
            last_operator: Some(OPERATOR.into()),
            known: true,
        };
        let office = Office {
            busy: &[],
            away: &[MANAGER],
        };
        let d = strict.evaluate(&caller, moscow(12, 0), MOSCOW, &office);
        assert_eq!(d.choice, transfer(OPERATOR, "last_operator"));
        assert!(d.notes[0].contains("not available"), "{d:?}");
    }

    fn transfer(to: &str, rule: &str) -> RoutingChoice {
        RoutingChoice::Transfer {
            to: to.into(),
            rule: rule.into(),
        }
    }

    fn release(rule: &str) -> RoutingChoice {
        RoutingChoice::Release { rule: rule.into() }
    }

    #[test]
    fn rules_are_tried_in_order_and_a_busy_workplace_passes_to_the_next() {
        let s = RoutingSettings::default();
        let caller = CallerView {
            manager: Some(MANAGER.into()),
            last_operator: Some(OPERATOR.into()),
            known: true,
        };
        assert_eq!(
            decide(&s, &caller, &[]).choice,
            transfer(MANAGER, "manager")
        );
        let busy = decide(&s, &caller, &[MANAGER]);
        assert_eq!(busy.choice, transfer(OPERATOR, "last_operator"));
        assert!(busy.notes[0].contains("on a call"), "{busy:?}");
        // Both busy, in hours, known: nothing matches, so the call is released at once.
        assert_eq!(
            decide(&s, &caller, &[MANAGER, OPERATOR]).choice,
            release(crate::NO_RULE)
        );
        let strict = RoutingSettings {
            when_busy: WhenBusy::Release,
            ..RoutingSettings::default()
        };
        assert_eq!(
            decide(&strict, &caller, &[MANAGER]).choice,
            release("manager")
        );
        let anyway = RoutingSettings {
            when_busy: WhenBusy::Ignore,
            ..RoutingSettings::default()
        };
        assert_eq!(
            decide(&anyway, &caller, &[MANAGER]).choice,
            transfer(MANAGER, "manager")
        );
    }

    #[test]
    fn unknown_callers_are_released_or_sent_to_the_default_workplace() {
        let mut s = RoutingSettings::default();
        let stranger = CallerView::default();
        assert_eq!(decide(&s, &stranger, &[]).choice, release("unknown_caller"));
        s.rules[3] = Rule::UnknownCaller {
            enabled: true,
            to: Some(RECEPTION.into()),
        };
        assert_eq!(
            decide(&s, &stranger, &[]).choice,
            transfer(RECEPTION, "unknown_caller")
        );
        // A disabled rule is skipped.
        s.rules[3] = Rule::UnknownCaller {
            enabled: false,
            to: Some(RECEPTION.into()),
        };
        assert_eq!(decide(&s, &stranger, &[]).choice, release(crate::NO_RULE));
    }

    #[test]
    fn a_manager_who_is_not_a_workplace_is_passed_over() {
        let s = RoutingSettings::default();
        let caller = CallerView {
            manager: Some("100".into()),
            known: true,
            ..CallerView::default()
        };
        let d = decide(&s, &caller, &[]);
        assert_eq!(d.choice, release(crate::NO_RULE));
        assert!(d.notes[0].contains("not a workplace"), "{d:?}");
    }

    #[test]
    fn business_hours_follow_the_zone_the_weekday_and_holidays() {
        let mut hours = BusinessHours::default();
        assert!(hours.is_open(moscow(9, 0), MOSCOW));
        assert!(hours.is_open(moscow(17, 59), MOSCOW));
        assert!(
            !hours.is_open(moscow(18, 0), MOSCOW),
            "the end is exclusive"
        );
        assert!(!hours.is_open(moscow(8, 59), MOSCOW));
        // 06:30 UTC is 09:30 in Moscow but 07:30 in Berlin.
        let t = Utc.with_ymd_and_hms(2026, 3, 4, 6, 30, 0).unwrap();
        assert!(hours.is_open(t, MOSCOW));
        assert!(!hours.is_open(t, chrono_tz::Europe::Berlin));
        // Saturday is closed by default.
        let saturday = MOSCOW.with_ymd_and_hms(2026, 3, 7, 12, 0, 0).unwrap();
        assert!(!hours.is_open(saturday.with_timezone(&Utc), MOSCOW));
        hours.wed = "09:00-13:00, 14:00-24:00".into();
        assert!(!hours.is_open(moscow(13, 30), MOSCOW));
        assert!(hours.is_open(moscow(23, 59), MOSCOW));
        hours.holidays = vec![NaiveDate::from_ymd_opt(2026, 3, 4).unwrap()];
        assert!(!hours.is_open(moscow(10, 0), MOSCOW));

        let mut s = RoutingSettings::default();
        s.hours.wed = String::new();
        let known = CallerView {
            known: true,
            ..CallerView::default()
        };
        let d = decide(&s, &known, &[]);
        assert_eq!(d.choice, release("outside_hours"));
    }

    #[test]
    fn settings_round_trip_through_toml_and_bad_values_are_named() {
        let s = RoutingSettings::default();
        let text = s.to_toml().unwrap();
        assert_eq!(RoutingSettings::from_toml(&text).unwrap(), s);
        let bare = "deadline_ms = 3000\nrules = [{ kind = \"manager\" }, { kind = \"unknown_caller\", to = \"883140777551401\" }]\n";
        let parsed = RoutingSettings::from_toml(bare).unwrap();
        assert_eq!(parsed.deadline_ms, 3000);
        assert_eq!(parsed.rules.len(), 2);
        assert!(parsed.rules[0].enabled(), "enabled by default");
        for (text, needle) in [
            ("deadline_ms = 6000", "deadline_ms"),
            (
                "rules = [{ kind = \"last_operator\", days = 0 }]",
                "days must be",
            ),
            ("rules = [{ kind = \"last_operator\" }]", "days"),
            (
                "rules = [{ kind = \"manager\" }, { kind = \"manager\" }]",
                "twice",
            ),
            (
                "rules = [{ kind = \"unknown_caller\", to = \"reception\" }]",
                "default workplace",
            ),
            ("rules = [{ kind = \"astrology\" }]", "astrology"),
            ("[hours]\nmon = \"9-18\"", "routing.hours.mon"),
            ("[hours]\ntue = \"18:00-09:00\"", "end after"),
            ("[hours]\nholidays = [\"31.12.2026\"]", "holidays"),
        ] {
            let err = RoutingSettings::from_toml(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
