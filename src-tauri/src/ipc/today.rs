//! Today's card on the Calls screen: the day's figures and its calls hour by hour.

use serde::Serialize;
use ts_rs::TS;

/// Today's figures for the small card on the Calls screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "Today.ts")]
pub struct Today {
    /// Calls that started today.
    pub calls: u32,
    /// Of them answered.
    pub answered: u32,
    /// Of them missed.
    pub missed: u32,
    /// Talk time of the answered ones, in seconds.
    pub talk_secs: u32,
    /// Every hour of the day from midnight (in the PBX's zone), empty ones included.
    pub hours: Vec<TodayHour>,
}

/// The calls that started in one hour of today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "TodayHour.ts")]
pub struct TodayHour {
    /// The hour on the clock, 0–23.
    pub hour: u32,
    /// Calls that started in it.
    pub calls: u32,
    /// Of them answered.
    pub answered: u32,
    /// Of them missed.
    pub missed: u32,
}

fn small(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

impl Today {
    /// The card from the call log's day figures and hours.
    pub fn new(stats: call_log::DayStats, hours: &[call_log::HourStats]) -> Self {
        Today {
            calls: small(stats.calls),
            answered: small(stats.answered),
            missed: small(stats.missed),
            talk_secs: small(stats.talk_secs),
            hours: hours
                .iter()
                .map(|h| TodayHour {
                    hour: h.hour,
                    calls: small(h.calls),
                    answered: small(h.answered),
                    missed: small(h.missed),
                })
                .collect(),
        }
    }
}
