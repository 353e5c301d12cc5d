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
    /// The PBX's zone the day and its hours are counted in (an IANA name).
    pub zone: String,
    /// That zone's offset from UTC now, in minutes east, so the window can tell whether its own
    /// clock (which History's times follow) shows other hours.
    pub zone_offset_minutes: i32,
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
    /// The card from the call log's day figures and hours, counted in `zone` at `now`.
    pub fn new(
        stats: call_log::DayStats,
        hours: &[call_log::HourStats],
        zone: chrono_tz::Tz,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        use chrono::Offset as _;
        let offset = now.with_timezone(&zone).offset().fix().local_minus_utc() / 60;
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
            zone: zone.name().to_owned(),
            zone_offset_minutes: offset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_names_its_zone_and_that_zones_offset_at_the_time() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-07-01T12:00:00Z")
            .unwrap()
            .to_utc();
        let moscow = Today::new(Default::default(), &[], chrono_tz::Europe::Moscow, now);
        assert_eq!(
            (moscow.zone.as_str(), moscow.zone_offset_minutes),
            ("Europe/Moscow", 180)
        );
        // A zone with summer time gives the offset of the day asked about.
        let berlin = Today::new(Default::default(), &[], chrono_tz::Europe::Berlin, now);
        assert_eq!(berlin.zone_offset_minutes, 120);
    }
}
