//! How long the call log keeps calls and raw events, and what the last clean-up removed.
//!
//! A company keeps its call history for years (accounting, disputes) but needs the PBX's raw
//! notifications only to diagnose a recent problem, and those are the bulk of the file: so the two
//! have separate periods. Each is a number of days or "forever". The core prunes in the background
//! (`core/retention.rs`); this module holds the settings, the cutoffs they give, the schedule and
//! the record of the last run, kept beside the call log so that Settings can show it after a
//! restart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use call_log::{PruneCutoffs, PruneReport};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// The longest period that can be set, in days (a hundred years; longer is "forever").
pub const MAX_DAYS: u32 = 36_500;

/// How long one kind of record is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "KeepForText", into = "KeepForText")]
pub enum KeepFor {
    /// This many days (1 to [`MAX_DAYS`]).
    Days(u32),
    /// Never removed.
    Forever,
}

impl KeepFor {
    /// The days, or `None` for ever.
    pub fn days(self) -> Option<u32> {
        match self {
            KeepFor::Days(d) => Some(d),
            KeepFor::Forever => None,
        }
    }

    /// The period from a number of days, `None` being for ever; 0 or more than [`MAX_DAYS`] is
    /// refused with the reason.
    pub fn from_days(days: Option<u32>) -> Result<Self, String> {
        match days {
            None => Ok(KeepFor::Forever),
            Some(d) if (1..=MAX_DAYS).contains(&d) => Ok(KeepFor::Days(d)),
            Some(d) => Err(format!(
                "{d} days cannot be kept: choose 1 to {MAX_DAYS} days, or \"forever\""
            )),
        }
    }

    /// The oldest time kept at `now`, or `None` when everything is.
    pub fn cutoff(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.days().map(|d| now - TimeDelta::days(i64::from(d)))
    }
}

/// How a period is written in the settings file: a number of days, or the word `forever`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum KeepForText {
    Days(i64),
    Word(String),
}

impl TryFrom<KeepForText> for KeepFor {
    type Error = String;

    fn try_from(text: KeepForText) -> Result<Self, String> {
        match text {
            KeepForText::Word(w) if w.eq_ignore_ascii_case("forever") => Ok(KeepFor::Forever),
            KeepForText::Word(w) => Err(format!(
                "{w:?} is not a period: write a number of days, or \"forever\""
            )),
            KeepForText::Days(d) => {
                let days = u32::try_from(d).map_err(|_| {
                    format!("{d} days cannot be kept: choose 1 to {MAX_DAYS} days, or \"forever\"")
                })?;
                KeepFor::from_days(Some(days))
            }
        }
    }
}

impl From<KeepFor> for KeepForText {
    fn from(keep: KeepFor) -> Self {
        match keep {
            KeepFor::Days(d) => KeepForText::Days(i64::from(d)),
            KeepFor::Forever => KeepForText::Word("forever".into()),
        }
    }
}

/// How long the call log keeps what it holds. Settings files from before these existed load
/// with the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct RetentionSettings {
    /// Calls (the history, with their workplaces and routing decisions): three years.
    pub calls: KeepFor,
    /// The PBX's raw notifications, also those of calls that stay: 90 days.
    pub raw_events: KeepFor,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            calls: KeepFor::Days(3 * 365),
            raw_events: KeepFor::Days(90),
        }
    }
}

impl RetentionSettings {
    /// What the call log removes at `now`.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> PruneCutoffs {
        PruneCutoffs {
            calls: self.calls.cutoff(now),
            events: self.raw_events.cutoff(now),
        }
    }
}

/// When the background clean-up runs: once soon after start (not during the first catch-up
/// with the relay), then every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionSchedule {
    /// The wait after start, so that start-up and the first sync have the disk to themselves.
    pub first_after: Duration,
    /// The wait between runs.
    pub every: Duration,
}

impl Default for RetentionSchedule {
    fn default() -> Self {
        RetentionSchedule {
            first_after: Duration::from_secs(120),
            every: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// What the last clean-up did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct LastPrune {
    /// When it ran.
    pub at: DateTime<Utc>,
    /// Calls removed.
    pub calls: u64,
    /// Raw events removed.
    pub raw_events: u64,
    /// Routing decisions removed.
    pub routing_decisions: u64,
    /// Why it failed, if it did (then nothing was removed).
    pub failed: Option<String>,
}

impl LastPrune {
    /// A run that removed what `report` says.
    pub fn done(at: DateTime<Utc>, report: PruneReport) -> Self {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        LastPrune {
            at,
            calls: count(report.calls),
            raw_events: count(report.events),
            routing_decisions: count(report.routing_decisions),
            failed: None,
        }
    }

    /// A run that failed.
    pub fn failed(at: DateTime<Utc>, reason: String) -> Self {
        LastPrune {
            at,
            calls: 0,
            raw_events: 0,
            routing_decisions: 0,
            failed: Some(reason),
        }
    }
}

/// The file beside the call log that remembers the last clean-up.
pub fn last_prune_path(data_dir: &Path) -> PathBuf {
    data_dir.join("last-prune.json")
}

/// Reads the last clean-up's record; a missing or unreadable one is none (it is only shown).
pub fn read_last_prune(data_dir: &Path) -> Option<LastPrune> {
    let text = std::fs::read_to_string(last_prune_path(data_dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes the last clean-up's record, replacing the old one whole.
pub fn write_last_prune(data_dir: &Path, last: &LastPrune) -> std::io::Result<()> {
    let path = last_prune_path(data_dir);
    let temporary = path.with_extension("json.tmp");
    let text = serde_json::to_vec_pretty(last).map_err(std::io::Error::other)?;
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_as_days_or_forever_and_refuse_the_rest() {
        #[derive(Debug, Deserialize, Serialize, PartialEq)]
        struct File {
            keep: KeepFor,
        }
        let read = |text: &str| toml::from_str::<File>(text).map(|f| f.keep);
        assert_eq!(read("keep = 90").unwrap(), KeepFor::Days(90));
        assert_eq!(read("keep = \"forever\"").unwrap(), KeepFor::Forever);
        assert_eq!(read("keep = \"Forever\"").unwrap(), KeepFor::Forever);
        for bad in ["keep = 0", "keep = -5", "keep = 36501", "keep = \"soon\""] {
            let err = read(bad).unwrap_err().to_string();
            assert!(err.contains("forever"), "{bad}: {err}");
        }
        for keep in [KeepFor::Days(1095), KeepFor::Forever] {
            let text = toml::to_string(&File { keep }).unwrap();
            assert_eq!(read(&text).unwrap(), keep, "{text}");
        }
    }

    #[test]
    fn the_cutoffs_follow_each_period() {
        let now = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let defaults = RetentionSettings::default().cutoffs(now);
        assert_eq!(defaults.calls, Some(now - TimeDelta::days(1095)));
        assert_eq!(defaults.events, Some(now - TimeDelta::days(90)));
        let forever = RetentionSettings {
            calls: KeepFor::Forever,
            raw_events: KeepFor::Forever,
        };
        assert_eq!(forever.cutoffs(now), PruneCutoffs::default());
    }

    #[test]
    fn the_last_run_is_remembered_beside_the_log() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_last_prune(dir.path()), None);
        let last = LastPrune::done(
            Utc::now(),
            PruneReport {
                calls: 2,
                events: 7,
                routing_decisions: 1,
                ..PruneReport::default()
            },
        );
        write_last_prune(dir.path(), &last).unwrap();
        assert_eq!(read_last_prune(dir.path()), Some(last));
    }
}
