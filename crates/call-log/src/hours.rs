//! Today's calls hour by hour, for the chart on the stats card: how many calls started in each
//! hour of the day and how many of them were answered or missed.

use chrono::{DateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::error::Result;
use crate::timestamp::micros;

/// The calls that started in one hour of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HourStats {
    /// The hour's start.
    pub start: DateTime<Utc>,
    /// The hour's start on the clock of the day zone (0–23; a day that changes the clock has a
    /// repeated or a missing hour).
    pub hour: u32,
    /// Legs that started in the hour.
    pub calls: i64,
    /// Of them answered.
    pub answered: i64,
    /// Of them missed.
    pub missed: i64,
}

/// Midnight of the local day containing `now`, and the next midnight, as instants.
fn day_bounds(now: DateTime<Utc>, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let local = now.with_timezone(&zone).date_naive();
    let midnight = |d: chrono::NaiveDate| {
        zone.from_local_datetime(&d.and_time(NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    let start = midnight(local).unwrap_or(now);
    let end = local.succ_opt().and_then(midnight).unwrap_or(now);
    (start, end)
}

const HOUR_US: i64 = 3_600_000_000;

/// Every hour of the day containing `now` in `zone`, in order, empty hours included. Hours are
/// counted from the day's midnight in elapsed time, so a day that changes the clock has 23 or
/// 25 of them; the day's calls are read once, off the start-time index.
pub(crate) fn hour_stats(
    conn: &Connection,
    now: DateTime<Utc>,
    zone: Tz,
    only: Option<&str>,
) -> Result<Vec<HourStats>> {
    let (start, end) = day_bounds(now, zone);
    let hours = usize::try_from((micros(end) - micros(start) + HOUR_US - 1) / HOUR_US)
        .unwrap_or(0)
        .min(25);
    let mut stats: Vec<HourStats> = (0..hours)
        .map(|i| {
            let at = start + chrono::Duration::hours(i64::try_from(i).unwrap_or(0));
            HourStats {
                start: at,
                hour: at.with_timezone(&zone).hour(),
                calls: 0,
                answered: 0,
                missed: 0,
            }
        })
        .collect();
    let mut stmt = conn.prepare_cached(
        "SELECT (first_seen_at - ?1) / ?3, count(*), \
           coalesce(sum(answered_at IS NOT NULL), 0), coalesce(sum(missed), 0) \
         FROM calls WHERE first_seen_at >= ?1 AND first_seen_at < ?2 \
           AND (?4 IS NULL OR EXISTS (SELECT 1 FROM call_workplaces w \
             WHERE w.call_id = calls.id AND w.sip_id IN (SELECT value FROM json_each(?4)))) \
         GROUP BY 1",
    )?;
    let rows = stmt.query_map(params![micros(start), micros(end), HOUR_US, only], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for row in rows {
        let (index, calls, answered, missed) = row?;
        if let Some(hour) = usize::try_from(index).ok().and_then(|i| stats.get_mut(i)) {
            hour.calls = calls;
            hour.answered = answered;
            hour.missed = missed;
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use serde_json::json;

    use crate::{CallLog, CallLogConfig, EventBody, LoggedEvent};

    fn call_events(
        first_id: i64,
        leg: &str,
        start: DateTime<Utc>,
        states: &[&str],
    ) -> Vec<LoggedEvent> {
        states
            .iter()
            .zip(first_id..)
            .map(|(state, id)| {
                let mut info = json!({
                    "call": {"id": leg, "tag": "t"}, "state": state, "type": "incoming",
                    "caller": {"id": "79219462761", "displayId": "79219462761"},
                    "callee": {"id": "74996497803", "displayId": "74996497803"},
                });
                if *state == "finished" {
                    info["duration"] = json!(30);
                }
                let body = json!({"event": "callNotifications", "result": {"callInfo": info}});
                LoggedEvent {
                    relay_id: id,
                    received_at: start + Duration::seconds(id - first_id),
                    body: EventBody::parse(body.to_string().as_bytes()),
                }
            })
            .collect()
    }

    use super::*;

    #[tokio::test]
    async fn a_days_calls_fall_into_the_hours_of_the_day_zone() {
        let dir = tempfile::tempdir().unwrap();
        let log =
            CallLog::open(dir.path().join("calls.sqlite3"), CallLogConfig::default()).unwrap();
        let zone = CallLogConfig::default().day_zone;
        // 2026-03-02 09:10 and 09:50 UTC are 12:10 and 12:50 in Moscow; 10:05 UTC is 13:05.
        let nine = Utc.with_ymd_and_hms(2026, 3, 2, 9, 10, 0).unwrap();
        let answered = ["trying", "connected", "finished"];
        let missed = ["trying", "showing", "finished"];
        let mut events = call_events(1, "a", nine, &answered);
        events.extend(call_events(10, "b", nine + Duration::minutes(40), &missed));
        events.extend(call_events(20, "c", nine + Duration::minutes(55), &missed));
        // The day before, in Moscow: not today's.
        events.extend(call_events(30, "d", nine - Duration::hours(13), &answered));
        log.apply(events).await.unwrap();

        let hours = log.hour_stats(nine).await.unwrap();
        assert_eq!(hours.len(), 24);
        assert_eq!(hours[0].hour, 0);
        assert_eq!(hours[0].start.with_timezone(&zone).hour(), 0);
        let noon = &hours[12];
        assert_eq!(
            (noon.hour, noon.calls, noon.answered, noon.missed),
            (12, 2, 1, 1)
        );
        let one = &hours[13];
        assert_eq!(
            (one.hour, one.calls, one.answered, one.missed),
            (13, 1, 0, 1)
        );
        let total: i64 = hours.iter().map(|h| h.calls).sum();
        assert_eq!(total, 3, "yesterday's call is not counted");
        let stats = log.day_stats(nine).await.unwrap();
        assert_eq!(total, stats.calls, "the chart adds up to the card's figure");
    }

    #[test]
    fn a_day_that_moves_the_clock_has_as_many_hours_as_it_lasts() {
        let zone: Tz = "Europe/Berlin".parse().unwrap();
        let spring = Utc.with_ymd_and_hms(2026, 3, 29, 12, 0, 0).unwrap();
        let (start, end) = day_bounds(spring, zone);
        assert_eq!((end - start).num_hours(), 23);
        let plain = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
        let (start, end) = day_bounds(plain, zone);
        assert_eq!((end - start).num_hours(), 24);
    }
}
