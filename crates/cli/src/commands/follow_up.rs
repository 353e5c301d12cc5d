//! Follow-ups from the command line: `trubka follow-up <leg> <when>` asks to call a call's
//! number back at a time (part of the call's wrap-up, as the window's wrap-up panel sets it),
//! and `trubka follow-ups` lists the ones not yet done.

use chrono::{DateTime, Local, NaiveDateTime, TimeDelta, Utc};
use companion::CompanionError;

use crate::args::Global;
use crate::output::{self, say};
use crate::profile::open;

/// How far ahead a follow-up may be set.
const FURTHEST_DAYS: i64 = 366;

fn invalid(text: &str, why: &str) -> CompanionError {
    CompanionError::InvalidInput(format!(
        "{text:?} is not a follow-up time ({why}); give +30m, +2h, +1d, a local YYYY-MM-DD HH:MM or an RFC 3339 time"
    ))
}

/// Reads when a follow-up is due: `+<n>m|h|d` from `now`, a local `YYYY-MM-DD HH:MM` (or with
/// a `T`), or an RFC 3339 time; it must be in the future and within a year.
pub fn parse_when(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, CompanionError> {
    let trimmed = text.trim();
    let at = if let Some(relative) = trimmed.strip_prefix('+') {
        let split = relative.len().saturating_sub(1);
        let (count, unit) = relative.split_at(split);
        let count: i64 = count
            .parse()
            .map_err(|_| invalid(text, "the amount is not a whole number"))?;
        let step = match unit {
            "m" => TimeDelta::try_minutes(count),
            "h" => TimeDelta::try_hours(count),
            "d" => TimeDelta::try_days(count),
            _ => return Err(invalid(text, "the unit is not m, h or d")),
        }
        .ok_or_else(|| invalid(text, "too far ahead"))?;
        now.checked_add_signed(step)
            .ok_or_else(|| invalid(text, "too far ahead"))?
    } else if let Ok(at) = DateTime::parse_from_rfc3339(trimmed) {
        at.with_timezone(&Utc)
    } else {
        let local = NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M"))
            .map_err(|_| invalid(text, "not a time this command reads"))?;
        local
            .and_local_timezone(Local)
            .single()
            .ok_or_else(|| {
                invalid(
                    text,
                    "that local time is skipped or repeated by a clock change",
                )
            })?
            .with_timezone(&Utc)
    };
    if at <= now {
        return Err(invalid(text, "it is not in the future"));
    }
    if at - now > TimeDelta::days(FURTHEST_DAYS) {
        return Err(invalid(text, "it is more than a year ahead"));
    }
    Ok(at)
}

/// `trubka follow-up <leg> <when>` / `--clear`: prints the call's wrap-up as saved.
pub async fn set(
    g: &Global,
    leg: &str,
    when: Option<&str>,
    clear: bool,
) -> Result<(), CompanionError> {
    let due = match (when, clear) {
        (_, true) => None,
        (Some(text), false) => Some(parse_when(text, Utc::now())?),
        (None, false) => {
            return Err(CompanionError::InvalidInput(
                "give a time for the follow-up, or --clear".into(),
            ));
        }
    };
    let c = open(g)?;
    let edit = call_log::WrapUpEdit {
        follow_up_at: Some(due),
        ..call_log::WrapUpEdit::default()
    };
    let saved = c.save_wrapup(leg, edit).await?;
    let value = output::WrapUp::from(&saved);
    say(g.json, &value, || match value.follow_up_at {
        Some(at) => format!(
            "{}\tcall back at {}",
            value.leg,
            at.with_timezone(&Local).format("%Y-%m-%d %H:%M")
        ),
        None => format!("{}\tno follow-up", value.leg),
    });
    Ok(())
}

/// `trubka follow-ups`: the follow-ups not yet done, soonest first.
pub async fn list(g: &Global, limit: usize) -> Result<(), CompanionError> {
    let c = open(g)?;
    let open_ones = c.follow_ups(limit).await?;
    let value: Vec<_> = open_ones.iter().map(output::FollowUp::from).collect();
    say(g.json, &value, || {
        value
            .iter()
            .map(|f| {
                format!(
                    "{}\t{}\t{}\t{}",
                    f.due_at.with_timezone(&Local).format("%Y-%m-%d %H:%M"),
                    f.contact_name
                        .as_deref()
                        .or(f.number.as_deref())
                        .unwrap_or("?"),
                    f.tags
                        .iter()
                        .map(|t| format!("#{t}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    f.note.split_whitespace().collect::<Vec<_>>().join(" ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_when;
    use chrono::{TimeDelta, TimeZone as _, Utc};

    #[test]
    fn follow_up_times_are_read_and_bad_ones_refused() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap();
        assert_eq!(
            parse_when("+30m", now).unwrap(),
            now + TimeDelta::minutes(30)
        );
        assert_eq!(parse_when("+2h", now).unwrap(), now + TimeDelta::hours(2));
        assert_eq!(parse_when(" +1d ", now).unwrap(), now + TimeDelta::days(1));
        assert_eq!(
            parse_when("2026-12-04T09:30:00+03:00", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 4, 6, 30, 0).unwrap()
        );
        assert!(parse_when("2026-12-05 09:30", now).is_ok());
        for bad in [
            "",
            "+",
            "+2",
            "+2w",
            "+-1h",
            "+0m",
            "tomorrow",
            "2026-12-02 09:30",
            "+400d",
            "+99999999999999d",
        ] {
            assert!(parse_when(bad, now).is_err(), "{bad:?}");
        }
    }
}
