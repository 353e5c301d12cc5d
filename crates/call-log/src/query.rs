//! What the screens ask of the log: history pages, search, the screen-pop summary, the callback
//! queue and today's figures. Every query returns typed rows.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use mtt_api::notification::{CallState, Direction};
use rusqlite::{Connection, OptionalExtension, ToSql, params};
use serde::{Deserialize, Serialize};

use crate::apply::direction_text;
use crate::contacts::{Contact, contact_for_key};
use crate::error::Result;
use crate::number::normalize_number;
use crate::search::search_phrase;
use crate::timestamp::{from_micros, micros};
use crate::wrapup::{self, WrapUp};

/// One call leg as the history shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    /// The row id, stable for the life of the row.
    pub id: i64,
    /// The PBX leg id.
    pub leg: String,
    /// Incoming or outgoing, when the PBX said.
    pub direction: Option<Direction>,
    /// The furthest state the leg reached.
    pub state: CallState,
    /// Party A's number as shown.
    pub caller_number: Option<String>,
    /// Party A's name, when the PBX gave one.
    pub caller_name: Option<String>,
    /// Party B's number as shown.
    pub callee_number: Option<String>,
    /// Party B's name, when the PBX gave one.
    pub callee_name: Option<String>,
    /// The number outside the company (the caller of an incoming call, the callee of an outgoing
    /// one), as shown.
    pub peer_number: Option<String>,
    /// The same, normalised for matching (see [`normalize_number`]).
    pub peer_key: Option<String>,
    /// The company's external number that was dialled or shown.
    pub line_number: Option<String>,
    /// The phonebook name of the peer, if the phonebook knows the number.
    pub contact_name: Option<String>,
    /// When the relay received the leg's first event.
    pub started_at: DateTime<Utc>,
    /// The PBX's `startTime`, exactly as sent.
    pub pbx_start_raw: Option<String>,
    /// The PBX's `startTime` read in the configured zone.
    pub pbx_start: Option<DateTime<Utc>>,
    /// When the leg was first reported connected.
    pub answered_at: Option<DateTime<Utc>>,
    /// The workplace SIP ID that answered, when the event named one.
    pub answered_by: Option<String>,
    /// When the leg was reported finished.
    pub ended_at: Option<DateTime<Utc>>,
    /// The talk duration the PBX reported, in seconds.
    pub duration_secs: Option<i64>,
    /// Why the call ended, as the PBX wrote it.
    pub end_reason: Option<String>,
    /// The end reason's code, as text.
    pub end_reason_code: Option<String>,
    /// The recording's address.
    pub recording_url: Option<String>,
    /// Where our routing transferred the leg.
    pub transfer_target: Option<String>,
    /// An incoming leg that ended unanswered and was not handed on by our routing.
    pub missed: bool,
    /// For a missed call: whether the number has since been reached by a connected call.
    pub called_back: bool,
    /// The leg's tag, which hang-up and transfer need.
    pub tag: Option<String>,
    /// The leg's transport id, which hang-up and transfer need.
    pub transport_id: Option<String>,
    /// The operator's wrap-up note, empty when none.
    pub note: String,
    /// The operator's wrap-up tags, in the order given.
    pub wrapup_tags: Vec<String>,
    /// When the wrap-up asked to call back.
    pub follow_up_at: Option<DateTime<Utc>>,
}

const RECORD_COLUMNS: &str = "c.id, c.leg, c.direction, c.state, c.caller_number, c.caller_name, \
    c.callee_number, c.callee_name, c.peer_number, c.peer_key, c.line_number, \
    (SELECT k.name FROM contact_numbers n JOIN contacts k ON k.id = n.contact_id \
       WHERE n.key = c.peer_key ORDER BY k.id LIMIT 1), \
    c.first_seen_at, c.pbx_start_raw, c.pbx_start_utc, c.answered_at, c.answered_by, c.ended_at, \
    c.duration, c.end_reason, c.end_reason_code, c.recording_url, c.transfer_target, c.missed, \
    (c.missed AND EXISTS (SELECT 1 FROM calls b WHERE b.peer_key = c.peer_key \
       AND b.first_seen_at > c.first_seen_at AND b.answered_at IS NOT NULL)), \
    c.tag, c.transport_id, \
    (SELECT w.note FROM wrapups w WHERE w.leg = c.leg), \
    (SELECT json_group_array(t.tag) FROM \
       (SELECT tag FROM wrapup_tags WHERE leg = c.leg ORDER BY position, tag) t), \
    (SELECT w.follow_up_at FROM wrapups w WHERE w.leg = c.leg)";

fn direction_from(text: Option<String>) -> Option<Direction> {
    text.map(|t| Direction::from_wire(&t))
}

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CallRecord> {
    Ok(CallRecord {
        id: r.get(0)?,
        leg: r.get(1)?,
        direction: direction_from(r.get(2)?),
        state: CallState::from_wire(&r.get::<_, String>(3)?),
        caller_number: r.get(4)?,
        caller_name: r.get(5)?,
        callee_number: r.get(6)?,
        callee_name: r.get(7)?,
        peer_number: r.get(8)?,
        peer_key: r.get(9)?,
        line_number: r.get(10)?,
        contact_name: r.get(11)?,
        started_at: from_micros(r.get(12)?),
        pbx_start_raw: r.get(13)?,
        pbx_start: r.get::<_, Option<i64>>(14)?.map(from_micros),
        answered_at: r.get::<_, Option<i64>>(15)?.map(from_micros),
        answered_by: r.get(16)?,
        ended_at: r.get::<_, Option<i64>>(17)?.map(from_micros),
        duration_secs: r.get(18)?,
        end_reason: r.get(19)?,
        end_reason_code: r.get(20)?,
        recording_url: r.get(21)?,
        transfer_target: r.get(22)?,
        missed: r.get(23)?,
        called_back: r.get(24)?,
        tag: r.get(25)?,
        transport_id: r.get(26)?,
        note: r.get::<_, Option<String>>(27)?.unwrap_or_default(),
        wrapup_tags: r
            .get::<_, Option<String>>(28)?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default(),
        follow_up_at: r.get::<_, Option<i64>>(29)?.map(from_micros),
    })
}

/// Which calls a history page shows. Every filter is optional; they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryFilter {
    /// Only incoming or only outgoing calls.
    pub direction: Option<Direction>,
    /// Only missed calls.
    pub missed_only: bool,
    /// Calls that started at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Calls that started before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Only calls in which this workplace (SIP ID) took part.
    pub workplace: Option<String>,
    /// Only calls with a recording.
    pub with_recording: bool,
    /// Any 3+ characters of a number (formatting ignored), of a name, or of a wrap-up's note
    /// or tags, anywhere in it.
    pub search: Option<String>,
    /// Only calls whose wrap-up carries this tag (case ignored for Latin letters).
    #[serde(default)]
    pub tag: Option<String>,
}

/// Where the next page starts: after the last call of the previous page. A search pages by `id`
/// alone (see [`CallLog::history`](crate::CallLog::history)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryCursor {
    /// The last call's start, in microseconds since the epoch.
    pub started_at_us: i64,
    /// The last call's id.
    pub id: i64,
}

/// One page of history, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPage {
    /// The calls.
    pub calls: Vec<CallRecord>,
    /// The cursor for the next page, when the page was full.
    pub next: Option<HistoryCursor>,
}

/// The filters other than search and workplace, as SQL over `c` (calls) with their values.
struct Conditions {
    sql: Vec<String>,
    values: Vec<Box<dyn ToSql>>,
}

impl Conditions {
    fn new() -> Self {
        Conditions {
            sql: Vec::new(),
            values: Vec::new(),
        }
    }

    /// Adds a condition whose single `?` takes `value`.
    fn bind(&mut self, sql: &str, value: Box<dyn ToSql>) {
        self.values.push(value);
        self.sql
            .push(sql.replace('?', &format!("?{}", self.values.len())));
    }

    fn common(filter: &HistoryFilter, time_column: &str) -> Self {
        let mut c = Conditions::new();
        if let Some(direction) = &filter.direction {
            c.bind("c.direction = ?", Box::new(direction_text(direction)));
        }
        if filter.missed_only {
            c.sql.push("c.missed = 1".into());
        }
        if filter.with_recording {
            c.sql.push("c.recording_url IS NOT NULL".into());
        }
        if let Some(from) = filter.from {
            c.bind(&format!("{time_column} >= ?"), Box::new(micros(from)));
        }
        if let Some(to) = filter.to {
            c.bind(&format!("{time_column} < ?"), Box::new(micros(to)));
        }
        if let Some(tag) = filter
            .tag
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            c.bind(wrapup::HAS_TAG, Box::new(tag.to_owned()));
        }
        c
    }

    fn where_clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.sql.join(" AND "))
        }
    }

    fn run(
        mut self,
        conn: &Connection,
        from: &str,
        order: &str,
        limit: usize,
    ) -> Result<Vec<CallRecord>> {
        self.values
            .push(Box::new(i64::try_from(limit).unwrap_or(1_000)));
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM {from} {} ORDER BY {order} LIMIT ?{}",
            self.where_clause(),
            self.values.len()
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let refs: Vec<&dyn ToSql> = self.values.iter().map(|v| v.as_ref()).collect();
        Ok(stmt
            .query_map(refs.as_slice(), record_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// A page of history.
///
/// Without a search, calls come newest first by start (the receipt of their first event).
/// With a search they come newest first by arrival in the log (the row id), which is the same
/// order unless the relay delivered a leg's events out of order; this lets the trigram index be
/// walked backwards and stop after one page, however common the fragment. A workplace filter
/// pages straight off the workplace table's key.
pub(crate) fn history(
    conn: &Connection,
    filter: &HistoryFilter,
    cursor: Option<HistoryCursor>,
    limit: usize,
) -> Result<HistoryPage> {
    let limit = limit.clamp(1, 1_000);
    let calls = match (&filter.search, &filter.workplace) {
        (Some(text), workplace) => {
            search_page(conn, filter, text, workplace.as_deref(), cursor, limit)?
        }
        (None, Some(workplace)) => {
            let mut c = Conditions::common(filter, "w.started_at");
            c.bind("w.sip_id = ?", Box::new(workplace.trim().to_owned()));
            if let Some(cursor) = cursor {
                c.values.push(Box::new(cursor.started_at_us));
                c.values.push(Box::new(cursor.id));
                let n = c.values.len();
                c.sql
                    .push(format!("(w.started_at, w.call_id) < (?{}, ?{n})", n - 1));
            }
            // CROSS JOIN keeps the workplace table as the outer loop, walked in key order.
            c.run(
                conn,
                "call_workplaces w CROSS JOIN calls c ON c.id = w.call_id",
                "w.started_at DESC, w.call_id DESC",
                limit,
            )?
        }
        (None, None) => {
            let mut c = Conditions::common(filter, "c.first_seen_at");
            if let Some(cursor) = cursor {
                c.values.push(Box::new(cursor.started_at_us));
                c.values.push(Box::new(cursor.id));
                let n = c.values.len();
                c.sql
                    .push(format!("(c.first_seen_at, c.id) < (?{}, ?{n})", n - 1));
            }
            c.run(conn, "calls c", "c.first_seen_at DESC, c.id DESC", limit)?
        }
    };
    let next = (calls.len() == limit)
        .then(|| calls.last())
        .flatten()
        .map(|last| HistoryCursor {
            started_at_us: micros(last.started_at),
            id: last.id,
        });
    Ok(HistoryPage { calls, next })
}

/// Search: the calls whose numbers or PBX names contain the fragment, walked newest first off
/// the trigram index, merged with the calls whose wrap-up (note or tags) contains it and the
/// calls of phonebook contacts whose name, company or number contains it.
fn search_page(
    conn: &Connection,
    filter: &HistoryFilter,
    text: &str,
    workplace: Option<&str>,
    cursor: Option<HistoryCursor>,
    limit: usize,
) -> Result<Vec<CallRecord>> {
    let phrase = search_phrase(text)?;
    let restrict = |c: &mut Conditions| {
        if let Some(workplace) = workplace {
            c.bind(
                "EXISTS (SELECT 1 FROM call_workplaces w WHERE w.call_id = c.id AND w.sip_id = ?)",
                Box::new(workplace.trim().to_owned()),
            );
        }
        if let Some(cursor) = cursor {
            c.bind("c.id < ?", Box::new(cursor.id));
        }
    };
    let mut by_number = Conditions::common(filter, "c.first_seen_at");
    by_number.bind("calls_search MATCH ?", Box::new(phrase.clone()));
    restrict(&mut by_number);
    // CROSS JOIN keeps the index as the outer loop, so FTS5 walks its rowids backwards and the
    // LIMIT stops it after one page.
    let mut calls = by_number.run(
        conn,
        "calls_search CROSS JOIN calls c ON c.id = calls_search.rowid",
        "calls_search.rowid DESC",
        limit,
    )?;

    // Calls whose wrap-up's note or tags hold the fragment.
    let mut by_wrapup = Conditions::common(filter, "c.first_seen_at");
    by_wrapup.bind(wrapup::MATCHES_SEARCH, Box::new(phrase.clone()));
    restrict(&mut by_wrapup);
    let noted = by_wrapup.run(conn, "calls c", "c.id DESC", limit)?;
    if !noted.is_empty() {
        calls.extend(noted);
        calls.sort_by_key(|c| std::cmp::Reverse(c.id));
        calls.dedup_by_key(|c| c.id);
        calls.truncate(limit);
    }

    let keys: Vec<String> = conn
        .prepare_cached(
            "SELECT DISTINCT n.key FROM contact_numbers n WHERE n.contact_id IN \
             (SELECT rowid FROM contacts_search WHERE contacts_search MATCH ?1) LIMIT 1000",
        )?
        .query_map([&phrase], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if !keys.is_empty() {
        let mut by_contact = Conditions::common(filter, "c.first_seen_at");
        by_contact.bind(
            "c.peer_key IN (SELECT value FROM json_each(?))",
            Box::new(serde_json::Value::from(keys).to_string()),
        );
        restrict(&mut by_contact);
        calls.extend(by_contact.run(conn, "calls c", "c.id DESC", limit)?);
        calls.sort_by_key(|c| std::cmp::Reverse(c.id));
        calls.dedup_by_key(|c| c.id);
        calls.truncate(limit);
    }
    Ok(calls)
}

/// One call by its leg id.
pub(crate) fn call_by_leg(conn: &Connection, leg: &str) -> Result<Option<CallRecord>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM calls c WHERE c.leg = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([leg], record_from_row)
        .optional()?)
}

/// How the last call with a number went, in a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Someone answered.
    Answered,
    /// An incoming call nobody answered.
    Missed,
    /// Our routing handed the leg on (a parked call transferred or released).
    Routed,
    /// An outgoing call the other side did not answer.
    NotAnswered,
    /// Still ringing or talking (or its end was never reported).
    InProgress,
}

/// The last call with a number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastCall {
    /// When it started.
    pub at: DateTime<Utc>,
    /// Its direction.
    pub direction: Option<Direction>,
    /// How it went.
    pub outcome: CallOutcome,
    /// Its talk duration in seconds.
    pub duration_secs: Option<i64>,
}

/// What the incoming-call popup shows about a number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScreenPop {
    /// The number as asked.
    pub number: String,
    /// Its matching key.
    pub key: Option<String>,
    /// The phonebook entry, if any.
    pub contact: Option<Contact>,
    /// Calls with this number before (not counting the leg being shown).
    pub earlier_calls: i64,
    /// The last of them.
    pub last_call: Option<LastCall>,
    /// The workplace that last talked to this number.
    pub last_operator: Option<String>,
    /// The latest wrap-up with a note or tags about this number (not the ringing leg's).
    pub last_wrapup: Option<WrapUp>,
}

fn outcome(direction: Option<&str>, answered: bool, ended: bool, routed: bool) -> CallOutcome {
    if answered {
        CallOutcome::Answered
    } else if routed {
        CallOutcome::Routed
    } else if !ended {
        CallOutcome::InProgress
    } else if direction == Some("outgoing") {
        CallOutcome::NotAnswered
    } else {
        CallOutcome::Missed
    }
}

/// The screen-pop summary for a number; `except_leg` is the ringing leg itself.
pub(crate) fn screen_pop(
    conn: &Connection,
    number: &str,
    except_leg: Option<&str>,
) -> Result<ScreenPop> {
    let key = normalize_number(number);
    let Some(k) = key.as_deref() else {
        return Ok(ScreenPop {
            number: number.to_owned(),
            key,
            contact: None,
            earlier_calls: 0,
            last_call: None,
            last_operator: None,
            last_wrapup: None,
        });
    };
    let except = except_leg.unwrap_or("");
    // Counted on the index alone, then the ringing leg taken off if it is one of them: a
    // `leg <> ?` test in the count would read every row of a busy number.
    let all_calls: i64 = conn
        .prepare_cached("SELECT count(*) FROM calls WHERE peer_key = ?1")?
        .query_row([k], |r| r.get(0))?;
    let ringing_is_counted: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM calls WHERE leg = ?1 AND peer_key = ?2)")?
        .query_row(params![except, k], |r| r.get(0))?;
    let earlier_calls = all_calls - i64::from(ringing_is_counted);
    let last_call = conn
        .prepare_cached(
            "SELECT first_seen_at, direction, answered_at IS NOT NULL, ended_at IS NOT NULL, \
             routed, duration FROM calls WHERE peer_key = ?1 AND leg <> ?2 \
             ORDER BY first_seen_at DESC LIMIT 1",
        )?
        .query_row(params![k, except], |r| {
            let direction: Option<String> = r.get(1)?;
            Ok(LastCall {
                at: from_micros(r.get(0)?),
                outcome: outcome(direction.as_deref(), r.get(2)?, r.get(3)?, r.get(4)?),
                direction: direction_from(direction),
                duration_secs: r.get(5)?,
            })
        })
        .optional()?;
    let last_operator: Option<String> = conn
        .prepare_cached(
            "SELECT answered_by FROM calls WHERE peer_key = ?1 AND leg <> ?2 \
             AND answered_by IS NOT NULL ORDER BY first_seen_at DESC LIMIT 1",
        )?
        .query_row(params![k, except], |r| r.get(0))
        .optional()?;
    let last_operator = match last_operator {
        Some(op) => Some(op),
        None => conn
            .prepare_cached(
                "SELECT w.sip_id FROM calls c JOIN call_workplaces w ON w.call_id = c.id \
                 WHERE c.peer_key = ?1 AND c.leg <> ?2 \
                 ORDER BY c.first_seen_at DESC, w.sip_id LIMIT 1",
            )?
            .query_row(params![k, except], |r| r.get(0))
            .optional()?,
    };
    Ok(ScreenPop {
        number: number.to_owned(),
        contact: contact_for_key(conn, k)?,
        last_wrapup: wrapup::last_for_key(conn, k, except)?,
        key,
        earlier_calls,
        last_call,
        last_operator,
    })
}

/// A number to call back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackEntry {
    /// The number as last shown.
    pub number: Option<String>,
    /// Its matching key.
    pub key: String,
    /// The phonebook name, if known.
    pub contact_name: Option<String>,
    /// The name the PBX showed with the latest missed call that had one (the caller's
    /// `displayName`), for a number the phonebook does not know.
    pub pbx_name: Option<String>,
    /// Missed calls from it not yet returned.
    pub missed_calls: i64,
    /// The latest of them.
    pub last_missed_at: DateTime<Utc>,
}

/// Missed incoming calls since `since` from numbers that no connected call (either direction)
/// has reached after the miss; one entry per number, latest first. A number leaves the queue by
/// itself once such a call happens.
pub(crate) fn callbacks(
    conn: &Connection,
    since: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<CallbackEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.peer_key, \
           (SELECT x.peer_number FROM calls x WHERE x.peer_key = m.peer_key AND x.missed = 1 \
             ORDER BY x.first_seen_at DESC LIMIT 1), \
           (SELECT k.name FROM contact_numbers n JOIN contacts k ON k.id = n.contact_id \
             WHERE n.key = m.peer_key ORDER BY k.id LIMIT 1), \
           (SELECT x.caller_name FROM calls x WHERE x.peer_key = m.peer_key AND x.missed = 1 \
             AND trim(coalesce(x.caller_name, '')) <> '' ORDER BY x.first_seen_at DESC LIMIT 1), \
           count(*), max(m.first_seen_at) \
         FROM calls m \
         WHERE m.missed = 1 AND m.first_seen_at >= ?1 AND m.peer_key IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM calls b WHERE b.peer_key = m.peer_key \
             AND b.first_seen_at > m.first_seen_at AND b.answered_at IS NOT NULL) \
         GROUP BY m.peer_key ORDER BY max(m.first_seen_at) DESC LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(
            params![micros(since), i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                Ok(CallbackEntry {
                    key: r.get(0)?,
                    number: r.get(1)?,
                    contact_name: r.get(2)?,
                    pbx_name: r.get(3)?,
                    missed_calls: r.get(4)?,
                    last_missed_at: from_micros(r.get(5)?),
                })
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The small stats card.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DayStats {
    /// Legs that started today.
    pub calls: i64,
    /// Of them incoming.
    pub incoming: i64,
    /// Of them outgoing.
    pub outgoing: i64,
    /// Of them answered.
    pub answered: i64,
    /// Of them missed.
    pub missed: i64,
    /// Talk time of the answered ones, in seconds.
    pub talk_secs: i64,
}

/// Figures for the day containing `now` in `zone`.
/// A choice of workplaces as the JSON array the statistics' queries read with `json_each`
/// (`None`: every call).
pub(crate) fn workplaces_json(workplaces: Option<&[String]>) -> Option<String> {
    workplaces.map(|ids| serde_json::Value::from(ids.to_vec()).to_string())
}

pub(crate) fn day_stats(
    conn: &Connection,
    now: DateTime<Utc>,
    zone: Tz,
    only: Option<&str>,
) -> Result<DayStats> {
    let local = now.with_timezone(&zone).date_naive();
    let start = zone
        .from_local_datetime(&local.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let end = local
        .succ_opt()
        .and_then(|d| {
            zone.from_local_datetime(&d.and_time(NaiveTime::MIN))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    let stats = conn
        .prepare_cached(
            "SELECT count(*), \
               coalesce(sum(direction = 'incoming'), 0), coalesce(sum(direction = 'outgoing'), 0), \
               coalesce(sum(answered_at IS NOT NULL), 0), coalesce(sum(missed), 0), \
               coalesce(sum(CASE WHEN answered_at IS NOT NULL THEN duration END), 0) \
             FROM calls WHERE first_seen_at >= ?1 AND first_seen_at < ?2 \
               AND (?3 IS NULL OR EXISTS (SELECT 1 FROM call_workplaces w \
                 WHERE w.call_id = calls.id AND w.sip_id IN (SELECT value FROM json_each(?3))))",
        )?
        .query_row(params![micros(start), micros(end), only], |r| {
            Ok(DayStats {
                calls: r.get(0)?,
                incoming: r.get(1)?,
                outgoing: r.get(2)?,
                answered: r.get(3)?,
                missed: r.get(4)?,
                talk_secs: r.get(5)?,
            })
        })?;
    Ok(stats)
}
