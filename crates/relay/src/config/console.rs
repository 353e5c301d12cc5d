//! The configuration file's `[console]` table: the admin console's time zone, sign-in lock and
//! stream caps ([`ConsoleSettings`]), each key optional and checked against a sane range.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::console_state::ConsoleSettings;
use crate::error::RelayError;

/// `[console]`. Every key may be left out and then takes its default; the table has no
/// environment variable or flag.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSection {
    /// The team's time zone, an IANA name: the wallboard's "today" (default `Europe/Moscow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Wrong console passwords in a row that lock the account (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_after: Option<u32>,
    /// How long that lock lasts, in seconds (default 900).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_for_secs: Option<u64>,
    /// Console sign-in attempts taken per minute, from everywhere together (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_ins_per_minute: Option<u32>,
    /// Live wallboards one console session may have open (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams_per_session: Option<usize>,
    /// Live wallboards open at once, all sessions together (default 64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams_max: Option<usize>,
}

/// The ranges a value must fall in. Beyond them a lock that never trips, one that shuts an
/// admin out for days, or caps that no longer cap are typos rather than choices.
const LOCK_AFTER: RangeInclusive<u32> = 1..=100;
const LOCK_FOR_SECS: RangeInclusive<u64> = 1..=24 * 3600;
const SIGN_INS_PER_MINUTE: RangeInclusive<u32> = 1..=10_000;
const STREAMS_PER_SESSION: RangeInclusive<usize> = 1..=1_000;
const STREAMS_MAX: RangeInclusive<usize> = 1..=10_000;

/// The console's settings `section` gives (the defaults without one), or the first key that is
/// wrong, named as `console.<key>`.
pub(super) fn console_settings(
    section: Option<&ConsoleSection>,
) -> Result<ConsoleSettings, RelayError> {
    let mut settings = ConsoleSettings::default();
    let Some(section) = section else {
        return Ok(settings);
    };
    if let Some(name) = &section.time_zone {
        settings.time_zone = name.parse().map_err(|_| RelayError::ConfigValue {
            field: "console.time_zone",
            reason: format!(
                "{name:?} is not a time zone the relay knows; use an IANA name such as Europe/Moscow"
            ),
        })?;
    }
    if let Some(count) = section.lock_after {
        settings.lock_after = within("console.lock_after", count, LOCK_AFTER)?;
    }
    if let Some(secs) = section.lock_for_secs {
        settings.lock_for =
            Duration::from_secs(within("console.lock_for_secs", secs, LOCK_FOR_SECS)?);
    }
    if let Some(rate) = section.sign_ins_per_minute {
        settings.sign_ins_per_minute =
            within("console.sign_ins_per_minute", rate, SIGN_INS_PER_MINUTE)?;
    }
    if let Some(count) = section.streams_per_session {
        settings.streams_per_session =
            within("console.streams_per_session", count, STREAMS_PER_SESSION)?;
    }
    if let Some(count) = section.streams_max {
        settings.streams_max = within("console.streams_max", count, STREAMS_MAX)?;
    }
    if settings.streams_per_session > settings.streams_max {
        return Err(RelayError::ConfigValue {
            field: "console.streams_per_session",
            reason: format!(
                "{} is more than console.streams_max ({}), which caps all sessions together",
                settings.streams_per_session, settings.streams_max
            ),
        });
    }
    Ok(settings)
}

fn within<T: PartialOrd + Display>(
    field: &'static str,
    value: T,
    range: RangeInclusive<T>,
) -> Result<T, RelayError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(RelayError::ConfigValue {
            field,
            reason: format!("must be {} to {}, not {value}", range.start(), range.end()),
        })
    }
}
