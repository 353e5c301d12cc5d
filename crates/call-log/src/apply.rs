//! Applying relay events to the call log.
//!
//! Every event is stored raw in `events` (unique by relay id, so a replay changes nothing) and,
//! when it is a call event, merged into its leg's row in `calls`. The merge is built so that the
//! row is a function of the *set* of events seen for the leg, never of their order: each column is
//! either a minimum or maximum over the events (first seen, answered at, the furthest state) or is
//! taken from one winning event chosen by a total order that ends in the unique relay id (the
//! parties, the end of the call, the recording). Merging is therefore commutative, associative and
//! idempotent, which is what lets the relay replay, reorder or repeat events freely.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use mtt_api::notification::{CallEvent, CallState, Direction, Notification, Party};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::number::{normalize_number, sip_id_of};

/// One event as the relay delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// The relay's sequence number: unique, and the cursor to resume from.
    pub relay_id: i64,
    /// When the relay received it; this orders events.
    pub received_at: DateTime<Utc>,
    /// What was received.
    pub body: EventBody,
}

/// The body of a relayed event.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every body is a notification; boxing would add an allocation to each"
)]
pub enum EventBody {
    /// A JSON object, read as a notification (possibly [`Notification::Unknown`]).
    Notification(Notification),
    /// A body that was not a JSON object, kept as text so that nothing the PBX sent is lost.
    Raw(String),
}

impl EventBody {
    /// Reads a webhook body; anything that is not a JSON object is kept as raw text.
    pub fn parse(body: &[u8]) -> Self {
        match Notification::parse(body) {
            Ok(notification) => EventBody::Notification(notification),
            Err(_) => EventBody::Raw(String::from_utf8_lossy(body).into_owned()),
        }
    }
}

/// What one `apply` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ApplyReport {
    /// Events stored for the first time.
    pub applied: usize,
    /// Events already in the log (same relay id), skipped.
    pub duplicates: usize,
    /// Stored events that are not call events we understand (PBX settings changes, unknown
    /// notifications, bodies that were not JSON).
    pub not_call_events: usize,
    /// Call legs created or changed.
    pub calls_changed: usize,
    /// The relay cursor after the batch.
    pub cursor: Option<i64>,
}

/// The order of states along a leg's life; a leg's state is the furthest one seen. States the
/// document does not list rank lowest so that they never hide a known one.
pub(crate) fn state_rank(state: &CallState) -> i64 {
    match state {
        CallState::Other(_) => 0,
        CallState::Trying => 1,
        CallState::Showing => 2,
        CallState::Connected => 3,
        CallState::Hiding => 4,
        CallState::Finished => 5,
        CallState::Recorded => 6,
    }
}

/// The wire name stored for a direction.
pub(crate) fn direction_text(direction: &Direction) -> String {
    match direction {
        Direction::Incoming => "incoming".to_owned(),
        Direction::Outgoing => "outgoing".to_owned(),
        Direction::Other(s) => s.clone(),
    }
}

/// A leg's row as held in memory while a batch is merged.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CallRow {
    pub id: Option<i64>,
    pub leg: String,
    pub direction: Option<String>,
    pub state: String,
    pub state_rank: i64,
    pub caller_number: Option<String>,
    pub caller_name: Option<String>,
    pub caller_key: Option<String>,
    pub callee_number: Option<String>,
    pub callee_name: Option<String>,
    pub callee_key: Option<String>,
    pub peer_number: Option<String>,
    pub peer_key: Option<String>,
    pub line_number: Option<String>,
    pub parties_rank: i64,
    pub parties_relay: i64,
    pub tag: Option<String>,
    pub transport_id: Option<String>,
    pub first_seen_at: i64,
    pub last_event_at: i64,
    pub pbx_start_raw: Option<String>,
    pub pbx_start_utc: Option<i64>,
    pub pbx_start_from_trying: bool,
    pub answered_at: Option<i64>,
    pub answered_by: Option<String>,
    pub hidden_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub finished_relay: Option<i64>,
    pub duration: Option<i64>,
    pub end_reason: Option<String>,
    pub end_reason_code: Option<String>,
    pub recorded_at: Option<i64>,
    pub recorded_relay: Option<i64>,
    pub recording_url: Option<String>,
    pub routed: bool,
    pub transfer_target: Option<String>,
    pub missed: bool,
}

const CALL_COLUMNS: &str = "id, leg, direction, state, state_rank, caller_number, caller_name, \
    caller_key, callee_number, callee_name, callee_key, peer_number, peer_key, line_number, \
    parties_rank, parties_relay, tag, transport_id, first_seen_at, last_event_at, pbx_start_raw, \
    pbx_start_utc, pbx_start_from_trying, answered_at, answered_by, hidden_at, ended_at, \
    finished_relay, duration, end_reason, end_reason_code, recorded_at, recorded_relay, \
    recording_url, routed, transfer_target, missed";

impl CallRow {
    fn empty(leg: &str, at: i64) -> Self {
        CallRow {
            id: None,
            leg: leg.to_owned(),
            direction: None,
            state: String::new(),
            state_rank: -1,
            caller_number: None,
            caller_name: None,
            caller_key: None,
            callee_number: None,
            callee_name: None,
            callee_key: None,
            peer_number: None,
            peer_key: None,
            line_number: None,
            parties_rank: -1,
            parties_relay: i64::MAX,
            tag: None,
            transport_id: None,
            first_seen_at: at,
            last_event_at: at,
            pbx_start_raw: None,
            pbx_start_utc: None,
            pbx_start_from_trying: false,
            answered_at: None,
            answered_by: None,
            hidden_at: None,
            ended_at: None,
            finished_relay: None,
            duration: None,
            end_reason: None,
            end_reason_code: None,
            recorded_at: None,
            recorded_relay: None,
            recording_url: None,
            routed: false,
            transfer_target: None,
            missed: false,
        }
    }

    fn from_sql(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(CallRow {
            id: Some(r.get(0)?),
            leg: r.get(1)?,
            direction: r.get(2)?,
            state: r.get(3)?,
            state_rank: r.get(4)?,
            caller_number: r.get(5)?,
            caller_name: r.get(6)?,
            caller_key: r.get(7)?,
            callee_number: r.get(8)?,
            callee_name: r.get(9)?,
            callee_key: r.get(10)?,
            peer_number: r.get(11)?,
            peer_key: r.get(12)?,
            line_number: r.get(13)?,
            parties_rank: r.get(14)?,
            parties_relay: r.get(15)?,
            tag: r.get(16)?,
            transport_id: r.get(17)?,
            first_seen_at: r.get(18)?,
            last_event_at: r.get(19)?,
            pbx_start_raw: r.get(20)?,
            pbx_start_utc: r.get(21)?,
            pbx_start_from_trying: r.get(22)?,
            answered_at: r.get(23)?,
            answered_by: r.get(24)?,
            hidden_at: r.get(25)?,
            ended_at: r.get(26)?,
            finished_relay: r.get(27)?,
            duration: r.get(28)?,
            end_reason: r.get(29)?,
            end_reason_code: r.get(30)?,
            recorded_at: r.get(31)?,
            recorded_relay: r.get(32)?,
            recording_url: r.get(33)?,
            routed: r.get(34)?,
            transfer_target: r.get(35)?,
            missed: r.get(36)?,
        })
    }

    /// Folds one event into the row. See the module comment for why every rule here is a
    /// minimum, a maximum or a choice by a total order.
    pub(crate) fn merge(&mut self, relay_id: i64, at: i64, event: &CallEvent, zone: Tz) {
        let rank = state_rank(&event.state);
        self.first_seen_at = self.first_seen_at.min(at);
        self.last_event_at = self.last_event_at.max(at);

        if (rank, event.state.as_wire()) > (self.state_rank, self.state.as_str()) {
            self.state_rank = rank;
            self.state = event.state.as_wire().to_owned();
        }

        // The parties come from the richest event; between equally rich ones the earlier state
        // (the set-up event names the numbers as dialled), then the lower relay id.
        let parties_rank = parties_score(event) * 16 + (15 - rank);
        if (parties_rank, -relay_id) > (self.parties_rank, -self.parties_relay) {
            self.parties_rank = parties_rank;
            self.parties_relay = relay_id;
            self.set_parties(event);
        }

        self.tag = max_text(self.tag.take(), nonblank(event.tag.as_deref()));
        self.transport_id = max_text(
            self.transport_id.take(),
            nonblank(event.transport_id.as_deref()),
        );

        if let Some(start) = event
            .start_time
            .as_ref()
            .filter(|t| !t.raw.trim().is_empty())
        {
            let from_trying = event.state == CallState::Trying;
            let better = match &self.pbx_start_raw {
                None => true,
                Some(current) => {
                    (from_trying, std::cmp::Reverse(start.raw.as_str()))
                        > (
                            self.pbx_start_from_trying,
                            std::cmp::Reverse(current.as_str()),
                        )
                }
            };
            if better {
                self.pbx_start_raw = Some(start.raw.clone());
                self.pbx_start_utc = start.to_utc(zone).map(|t| t.timestamp_micros());
                self.pbx_start_from_trying = from_trying;
            }
        }

        match event.state {
            CallState::Connected => {
                self.answered_at = min_opt(self.answered_at, Some(at));
                let operator = our_side_sip_ids(event).into_iter().min();
                self.answered_by = min_text(self.answered_by.take(), operator);
            }
            CallState::Hiding => self.hidden_at = min_opt(self.hidden_at, Some(at)),
            CallState::Finished => {
                let better = match (self.ended_at, self.finished_relay) {
                    (Some(ended), Some(relay)) => (at, relay_id) < (ended, relay),
                    _ => true,
                };
                if better {
                    self.ended_at = Some(at);
                    self.finished_relay = Some(relay_id);
                    self.duration = event.duration.map(|d| i64::try_from(d).unwrap_or(i64::MAX));
                    self.end_reason = nonblank(event.reason.as_deref());
                    self.end_reason_code = event.reason_code.as_ref().map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                }
            }
            CallState::Recorded => {
                if let Some(url) = nonblank(event.url_record.as_deref()) {
                    let better = match (self.recorded_at, self.recorded_relay) {
                        (Some(recorded), Some(relay)) => (at, relay_id) < (recorded, relay),
                        _ => true,
                    };
                    if better {
                        self.recorded_at = Some(at);
                        self.recorded_relay = Some(relay_id);
                        self.recording_url = Some(url);
                    }
                }
            }
            CallState::Trying | CallState::Showing | CallState::Other(_) => {}
        }
        self.derive_missed();
    }

    fn set_parties(&mut self, event: &CallEvent) {
        let (caller_number, caller_name, caller_key) = party_columns(event.caller.as_ref());
        let (callee_number, callee_name, callee_key) = party_columns(event.callee.as_ref());
        self.direction = event.direction.as_ref().map(direction_text);
        let outgoing = event.direction == Some(Direction::Outgoing);
        if outgoing {
            self.peer_number = callee_number.clone();
            self.peer_key = callee_key.clone();
            self.line_number = caller_number.clone();
        } else {
            self.peer_number = caller_number.clone();
            self.peer_key = caller_key.clone();
            self.line_number = callee_number.clone();
        }
        self.caller_number = caller_number;
        self.caller_name = caller_name;
        self.caller_key = caller_key;
        self.callee_number = callee_number;
        self.callee_name = callee_name;
        self.callee_key = callee_key;
    }

    /// Missed: an incoming leg that ended without ever being answered and that our routing did
    /// not hand on (a parked leg that routing transferred or released continues elsewhere).
    pub(crate) fn derive_missed(&mut self) {
        self.missed = self.direction.as_deref() == Some("incoming")
            && self.answered_at.is_none()
            && self.ended_at.is_some()
            && !self.routed;
    }

    /// The text the trigram index holds for this call: every number as shown and as normalised,
    /// and every name, each once.
    pub(crate) fn search_text(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for part in [
            &self.caller_number,
            &self.caller_key,
            &self.caller_name,
            &self.callee_number,
            &self.callee_key,
            &self.callee_name,
        ]
        .into_iter()
        .flatten()
        {
            if !parts.contains(&part.as_str()) {
                parts.push(part);
            }
        }
        // A separator nobody types keeps a fragment from matching across two numbers.
        parts.join("\u{1f}")
    }
}

/// How much an event says about the parties: one point per non-blank field.
fn parties_score(event: &CallEvent) -> i64 {
    let mut score = i64::from(event.direction.is_some());
    for party in [&event.caller, &event.callee].into_iter().flatten() {
        for field in [
            &party.display_id,
            &party.display_name,
            &party.id,
            &party.account_id,
        ] {
            score += i64::from(field.as_deref().is_some_and(|s| !s.trim().is_empty()));
        }
    }
    score
}

fn party_columns(party: Option<&Party>) -> (Option<String>, Option<String>, Option<String>) {
    let Some(party) = party else {
        return (None, None, None);
    };
    let number = party.number().map(|n| n.trim().to_owned());
    let key = number.as_deref().and_then(normalize_number);
    (number, party.name().map(|n| n.trim().to_owned()), key)
}

/// Workplace SIP IDs on the company's side of the call: the callee of an incoming leg, the caller
/// of an outgoing one; any SIP ID in the event when that side names none.
fn our_side_sip_ids(event: &CallEvent) -> BTreeSet<String> {
    let ours = if event.direction == Some(Direction::Outgoing) {
        event.caller.as_ref()
    } else {
        event.callee.as_ref()
    };
    let mut ids = BTreeSet::new();
    if let Some(party) = ours {
        collect_party_sip_ids(party, &mut ids);
    }
    if ids.is_empty() {
        ids = event_sip_ids(event);
    }
    ids
}

fn collect_party_sip_ids(party: &Party, ids: &mut BTreeSet<String>) {
    for field in [&party.id, &party.account_id, &party.display_id]
        .into_iter()
        .flatten()
    {
        if let Some(id) = sip_id_of(field) {
            ids.insert(id.to_owned());
        }
    }
    for forwarder in &party.forwarder_list {
        if let Some(id) = sip_id_of(forwarder) {
            ids.insert(id.to_owned());
        }
    }
}

/// Every workplace or terminal SIP ID an event mentions.
pub(crate) fn event_sip_ids(event: &CallEvent) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for party in [&event.caller, &event.callee].into_iter().flatten() {
        collect_party_sip_ids(party, &mut ids);
    }
    if let Some(id) = event.account_id.as_deref().and_then(sip_id_of) {
        ids.insert(id.to_owned());
    }
    ids
}

fn nonblank(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn max_text(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_text(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The kind stored in `events.kind`.
fn event_kind(body: &EventBody) -> &'static str {
    match body {
        EventBody::Notification(Notification::Call(_)) => "call",
        EventBody::Notification(Notification::Pbx(_)) => "pbx",
        EventBody::Notification(Notification::Unknown(_)) => "unknown",
        EventBody::Raw(_) => "raw",
    }
}

/// Applies a batch inside the caller's transaction.
pub(crate) fn apply_batch(
    tx: &Connection,
    zone: Tz,
    events: &[LoggedEvent],
) -> rusqlite::Result<ApplyReport> {
    // Ids from a replaced relay are moved past the old relay's (see `rebase_relay`).
    let offset = read_offset(tx)?;
    let shifted: Vec<LoggedEvent>;
    let events: &[LoggedEvent] = if offset == 0 {
        events
    } else {
        shifted = events
            .iter()
            .map(|e| LoggedEvent {
                relay_id: e.relay_id + offset,
                ..e.clone()
            })
            .collect();
        &shifted
    };
    let mut report = ApplyReport::default();
    let mut seen_in_batch = HashSet::with_capacity(events.len());
    let mut fresh: Vec<&LoggedEvent> = Vec::with_capacity(events.len());
    {
        let mut exists = tx.prepare_cached("SELECT 1 FROM events WHERE relay_id = ?1")?;
        for event in events {
            if !seen_in_batch.insert(event.relay_id) || exists.exists([event.relay_id])? {
                report.duplicates += 1;
            } else {
                fresh.push(event);
            }
        }
    }

    // Merge every fresh call event into its leg's row, each leg loaded once.
    let mut rows: HashMap<String, (Option<CallRow>, CallRow, BTreeSet<String>)> = HashMap::new();
    {
        let mut load =
            tx.prepare_cached(&format!("SELECT {CALL_COLUMNS} FROM calls WHERE leg = ?1"))?;
        for event in &fresh {
            let EventBody::Notification(Notification::Call(call)) = &event.body else {
                report.not_call_events += 1;
                continue;
            };
            let at = event.received_at.timestamp_micros();
            let leg = call.leg.as_str();
            if !rows.contains_key(leg) {
                let stored = load.query_row([leg], CallRow::from_sql).optional()?;
                let working = stored.clone().unwrap_or_else(|| CallRow::empty(leg, at));
                rows.insert(leg.to_owned(), (stored, working, BTreeSet::new()));
            }
            if let Some((_, row, workplaces)) = rows.get_mut(leg) {
                row.merge(event.relay_id, at, call, zone);
                workplaces.extend(event_sip_ids(call));
            }
        }
    }

    let mut call_ids: HashMap<String, i64> = HashMap::with_capacity(rows.len());
    {
        // Each statement is looked up once per batch: the statement cache hashes the whole SQL
        // text on every lookup, which shows in profiles when done per row.
        let mut statements = CallStatements {
            routing: tx.prepare_cached(ROUTING_FOR_LEG_SQL)?,
            insert: tx.prepare_cached(INSERT_CALL_SQL)?,
            update: tx.prepare_cached(UPDATE_CALL_SQL)?,
            unindex: tx.prepare_cached("DELETE FROM calls_search WHERE rowid = ?1")?,
            index: tx.prepare_cached("INSERT INTO calls_search (rowid, text) VALUES (?1, ?2)")?,
            workplace: tx.prepare_cached(
                "INSERT OR IGNORE INTO call_workplaces (sip_id, started_at, call_id) \
                 VALUES (?1, ?2, ?3)",
            )?,
            restart: tx
                .prepare_cached("UPDATE call_workplaces SET started_at = ?2 WHERE call_id = ?1")?,
        };
        // New rows take their ids in order of their start, so that row ids follow time within
        // a batch as they do across batches (search pages in id order).
        let mut rows: Vec<_> = rows.into_iter().collect();
        rows.sort_by(|(leg_a, (_, a, _)), (leg_b, (_, b, _))| {
            (a.first_seen_at, leg_a).cmp(&(b.first_seen_at, leg_b))
        });
        for (leg, (stored, mut row, workplaces)) in rows {
            let id = match &stored {
                None => {
                    attach_routing(&mut statements.routing, &mut row)?;
                    report.calls_changed += 1;
                    let id = insert_call(&mut statements.insert, tx, &row)?;
                    statements.index_call(id, None, &row)?;
                    id
                }
                Some(before) => {
                    let id = before.id.unwrap_or_default();
                    if *before != row {
                        report.calls_changed += 1;
                        update_call(&mut statements.update, id, &row)?;
                        if before.first_seen_at != row.first_seen_at {
                            statements.restart.execute(params![id, row.first_seen_at])?;
                        }
                        let old_text = before.search_text();
                        if old_text != row.search_text() {
                            let indexed = (!old_text.is_empty()).then_some(old_text.as_str());
                            statements.index_call(id, indexed, &row)?;
                        }
                    }
                    id
                }
            };
            for sip_id in &workplaces {
                statements
                    .workplace
                    .execute(params![sip_id, row.first_seen_at, id])?;
            }
            call_ids.insert(leg, id);
        }
    }

    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events (relay_id, received_at, kind, call_id, state, raw) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for event in &fresh {
            let (call_id, state, raw) = match &event.body {
                EventBody::Notification(n) => {
                    let (call_id, state) = match n {
                        Notification::Call(c) => (
                            call_ids.get(c.leg.as_str()).copied(),
                            Some(c.state.as_wire().to_owned()),
                        ),
                        _ => (None, None),
                    };
                    (call_id, state, n.raw().to_string())
                }
                EventBody::Raw(text) => (None, None, text.clone()),
            };
            insert.execute(params![
                event.relay_id,
                event.received_at.timestamp_micros(),
                event_kind(&event.body),
                call_id,
                state,
                raw
            ])?;
            report.applied += 1;
        }
    }

    if let Some(max) = fresh.iter().map(|e| e.relay_id).max() {
        tx.prepare_cached(
            "INSERT INTO relay_cursor (id, last_relay_id) VALUES (1, ?1) \
             ON CONFLICT (id) DO UPDATE SET last_relay_id = max(last_relay_id, excluded.last_relay_id)",
        )?
        .execute([max])?;
    }
    report.cursor = read_cursor(tx)?;
    Ok(report)
}

/// The relay cursor: the highest relay id applied, in the current relay's numbering.
pub(crate) fn read_cursor(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT last_relay_id - id_offset FROM relay_cursor WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()
}

/// What is added to the current relay's ids to store them.
fn read_offset(conn: &Connection) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT id_offset FROM relay_cursor WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Continues after a relay whose store was replaced: its next event, `resume_after + 1`, is
/// stored right after the newest event already in the log. Returns the cursor afterwards.
pub(crate) fn rebase_relay(conn: &Connection, resume_after: i64) -> rusqlite::Result<Option<i64>> {
    let stored: Option<i64> = conn
        .prepare_cached("SELECT last_relay_id FROM relay_cursor WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    if let Some(stored) = stored {
        conn.prepare_cached("UPDATE relay_cursor SET id_offset = ?1 WHERE id = 1")?
            .execute([stored - resume_after])?;
    }
    read_cursor(conn)
}

const ROUTING_FOR_LEG_SQL: &str = "SELECT target FROM routing_decisions WHERE leg = ?1 \
     ORDER BY outcome <> 'transferred', id LIMIT 1";

/// The statements the write phase of a batch uses for every call row.
struct CallStatements<'c> {
    routing: rusqlite::CachedStatement<'c>,
    insert: rusqlite::CachedStatement<'c>,
    update: rusqlite::CachedStatement<'c>,
    unindex: rusqlite::CachedStatement<'c>,
    index: rusqlite::CachedStatement<'c>,
    workplace: rusqlite::CachedStatement<'c>,
    restart: rusqlite::CachedStatement<'c>,
}

impl CallStatements<'_> {
    /// Keeps the trigram index in step with a call's parties.
    fn index_call(
        &mut self,
        id: i64,
        old_text: Option<&str>,
        row: &CallRow,
    ) -> rusqlite::Result<()> {
        if old_text.is_some() {
            self.unindex.execute([id])?;
        }
        let text = row.search_text();
        if !text.is_empty() {
            self.index.execute(params![id, text])?;
        }
        Ok(())
    }
}

/// A routing decision may be journalled before the leg's first event is applied; a new row picks
/// it up here so that the result does not depend on which came first.
fn attach_routing(
    stmt: &mut rusqlite::CachedStatement<'_>,
    row: &mut CallRow,
) -> rusqlite::Result<()> {
    let found: Option<(Option<String>,)> = stmt
        .query_row([&row.leg], |r| Ok((r.get(0)?,)))
        .optional()?;
    if let Some((target,)) = found {
        row.routed = true;
        row.transfer_target = target;
    }
    row.derive_missed();
    Ok(())
}

const INSERT_CALL_SQL: &str = "INSERT INTO calls (leg, direction, state, state_rank, caller_number, caller_name, \
         caller_key, callee_number, callee_name, callee_key, peer_number, peer_key, line_number, \
         parties_rank, parties_relay, tag, transport_id, first_seen_at, last_event_at, \
         pbx_start_raw, pbx_start_utc, pbx_start_from_trying, answered_at, answered_by, hidden_at, \
         ended_at, finished_relay, duration, end_reason, end_reason_code, recorded_at, \
         recorded_relay, recording_url, routed, transfer_target, missed) VALUES (?1, ?2, ?3, ?4, \
         ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, \
         ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36)";

/// A row's values in the order both statements take them after their first parameter (the leg
/// for an insert, the row id for an update).
fn row_values(row: &CallRow) -> [&dyn rusqlite::ToSql; 35] {
    [
        &row.direction,
        &row.state,
        &row.state_rank,
        &row.caller_number,
        &row.caller_name,
        &row.caller_key,
        &row.callee_number,
        &row.callee_name,
        &row.callee_key,
        &row.peer_number,
        &row.peer_key,
        &row.line_number,
        &row.parties_rank,
        &row.parties_relay,
        &row.tag,
        &row.transport_id,
        &row.first_seen_at,
        &row.last_event_at,
        &row.pbx_start_raw,
        &row.pbx_start_utc,
        &row.pbx_start_from_trying,
        &row.answered_at,
        &row.answered_by,
        &row.hidden_at,
        &row.ended_at,
        &row.finished_relay,
        &row.duration,
        &row.end_reason,
        &row.end_reason_code,
        &row.recorded_at,
        &row.recorded_relay,
        &row.recording_url,
        &row.routed,
        &row.transfer_target,
        &row.missed,
    ]
}

fn insert_call(
    stmt: &mut rusqlite::CachedStatement<'_>,
    tx: &Connection,
    row: &CallRow,
) -> rusqlite::Result<i64> {
    let leg: &dyn rusqlite::ToSql = &row.leg;
    stmt.execute(rusqlite::params_from_iter(
        std::iter::once(leg).chain(row_values(row)),
    ))?;
    Ok(tx.last_insert_rowid())
}

const UPDATE_CALL_SQL: &str = "UPDATE calls SET direction = ?2, state = ?3, state_rank = ?4, caller_number = ?5, \
         caller_name = ?6, caller_key = ?7, callee_number = ?8, callee_name = ?9, callee_key = ?10, \
         peer_number = ?11, peer_key = ?12, line_number = ?13, parties_rank = ?14, \
         parties_relay = ?15, tag = ?16, transport_id = ?17, first_seen_at = ?18, \
         last_event_at = ?19, pbx_start_raw = ?20, pbx_start_utc = ?21, \
         pbx_start_from_trying = ?22, answered_at = ?23, answered_by = ?24, hidden_at = ?25, \
         ended_at = ?26, finished_relay = ?27, duration = ?28, end_reason = ?29, \
         end_reason_code = ?30, recorded_at = ?31, recorded_relay = ?32, recording_url = ?33, \
         routed = ?34, transfer_target = ?35, missed = ?36 WHERE id = ?1";

fn update_call(
    stmt: &mut rusqlite::CachedStatement<'_>,
    id: i64,
    row: &CallRow,
) -> rusqlite::Result<()> {
    let id: &dyn rusqlite::ToSql = &id;
    stmt.execute(rusqlite::params_from_iter(
        std::iter::once(id).chain(row_values(row)),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The document's six complete notification examples, in its order.
    const DOCUMENT_EXAMPLES: [&str; 6] = [
        include_str!("../tests/fixtures/01_incoming_trying.json"),
        include_str!("../tests/fixtures/02_outgoing_trying.json"),
        include_str!("../tests/fixtures/03_recorded.json"),
        include_str!("../tests/fixtures/04_showing.json"),
        include_str!("../tests/fixtures/05_connected.json"),
        include_str!("../tests/fixtures/06_finished.json"),
    ];
    const DERIVED_RECORDED: &str = include_str!("../tests/fixtures/07_recorded_outgoing_leg.json");

    fn events(bodies: &[&str]) -> Vec<LoggedEvent> {
        let t0 = Utc.with_ymd_and_hms(2020, 6, 24, 12, 1, 45).unwrap();
        bodies
            .iter()
            .enumerate()
            .map(|(i, body)| LoggedEvent {
                relay_id: i64::try_from(i).unwrap() + 1,
                received_at: t0 + chrono::Duration::seconds(i64::try_from(i).unwrap() * 3),
                body: EventBody::parse(body.as_bytes()),
            })
            .collect()
    }

    /// Every permutation of `0..n` (Heap's algorithm).
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        fn heap(k: usize, a: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
            if k <= 1 {
                out.push(a.clone());
                return;
            }
            heap(k - 1, a, out);
            for i in 0..k - 1 {
                if k.is_multiple_of(2) {
                    a.swap(i, k - 1);
                } else {
                    a.swap(0, k - 1);
                }
                heap(k - 1, a, out);
            }
        }
        let mut out = Vec::new();
        heap(n, &mut (0..n).collect(), &mut out);
        out
    }

    type Snapshot = (
        Vec<CallRow>,
        Vec<(String, String)>,
        Vec<(i64, String)>,
        Option<i64>,
        i64,
    );

    fn snapshot(conn: &Connection) -> Snapshot {
        let rows = conn
            .prepare(&format!("SELECT {CALL_COLUMNS} FROM calls ORDER BY leg"))
            .unwrap()
            .query_map([], |r| {
                let mut row = CallRow::from_sql(r)?;
                row.id = None;
                Ok(row)
            })
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        let workplaces = conn
            .prepare(
                "SELECT c.leg, w.sip_id FROM call_workplaces w JOIN calls c ON c.id = w.call_id \
                 ORDER BY 1, 2",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        let events = conn
            .prepare("SELECT relay_id, raw FROM events ORDER BY relay_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        let found: i64 = conn
            .query_row(
                "SELECT count(*) FROM calls_search WHERE calls_search MATCH '\"9462761\"'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (rows, workplaces, events, read_cursor(conn).unwrap(), found)
    }

    #[test]
    fn the_document_examples_give_one_final_state_in_every_order_applied_twice() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrations().to_latest(&mut conn).unwrap();
        let events = events(&DOCUMENT_EXAMPLES);
        let mut expected: Option<Snapshot> = None;
        let orders = permutations(events.len());
        assert_eq!(orders.len(), 720);
        for order in orders {
            let tx = conn.transaction().unwrap();
            for &i in &order {
                let report = apply_batch(&tx, chrono_tz::Europe::Moscow, &events[i..=i]).unwrap();
                assert_eq!(report.applied, 1);
            }
            // The whole set again, as one batch in this order: nothing changes.
            let again: Vec<LoggedEvent> = order.iter().map(|&i| events[i].clone()).collect();
            let report = apply_batch(&tx, chrono_tz::Europe::Moscow, &again).unwrap();
            assert_eq!(
                (report.applied, report.duplicates, report.calls_changed),
                (0, 6, 0)
            );
            let got = snapshot(&tx);
            match &expected {
                None => expected = Some(got),
                Some(first) => assert_eq!(&got, first, "order {order:?}"),
            }
            tx.rollback().unwrap();
        }
        let (rows, workplaces, stored, cursor, found) = expected.unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(stored.len(), 6);
        assert_eq!(cursor, Some(6));
        assert_eq!(found, 1);
        let outgoing = rows
            .iter()
            .find(|r| r.leg.starts_with("SDfe2n901"))
            .unwrap();
        assert_eq!(outgoing.state, "finished");
        assert_eq!(outgoing.direction.as_deref(), Some("outgoing"));
        assert_eq!(outgoing.callee_number.as_deref(), Some("+79219462761"));
        assert_eq!(outgoing.peer_key.as_deref(), Some("79219462761"));
        assert_eq!(outgoing.line_number.as_deref(), Some("78005560251"));
        assert_eq!(
            outgoing.pbx_start_raw.as_deref(),
            Some("2020-06-24 15:01:45")
        );
        assert_eq!(outgoing.duration, Some(3));
        assert_eq!(
            outgoing.end_reason.as_deref(),
            Some("Originate leg disconnected")
        );
        assert_eq!(outgoing.answered_by.as_deref(), Some("883140582526566"));
        assert!(outgoing.answered_at.is_some() && !outgoing.missed);
        let incoming = rows.iter().find(|r| r.leg.starts_with("c166e238")).unwrap();
        assert_eq!(
            (incoming.state.as_str(), incoming.missed),
            ("trying", false)
        );
        assert_eq!(incoming.peer_key.as_deref(), Some("78124241500"));
        let recorded = rows
            .iter()
            .find(|r| r.leg.starts_with("SDvapac01"))
            .unwrap();
        assert_eq!(
            recorded.recording_url.as_deref(),
            Some("https://<serverhost>/<path>/<filename>.mp3")
        );
        assert_eq!(recorded.caller_number, None);
        assert!(workplaces.contains(&(recorded.leg.clone(), "883140777446532".into())));
        assert!(workplaces.contains(&(outgoing.leg.clone(), "883140582526566".into())));
    }

    #[test]
    fn a_whole_leg_merges_to_one_row_in_every_order_and_recorded_keeps_the_parties() {
        let bodies = [
            DOCUMENT_EXAMPLES[1],
            DOCUMENT_EXAMPLES[3],
            DOCUMENT_EXAMPLES[4],
            DOCUMENT_EXAMPLES[5],
            DERIVED_RECORDED,
        ];
        let events = events(&bodies);
        let calls: Vec<(i64, i64, CallEvent)> = events
            .iter()
            .map(|e| match &e.body {
                EventBody::Notification(Notification::Call(c)) => {
                    (e.relay_id, e.received_at.timestamp_micros(), c.clone())
                }
                other => panic!("not a call event: {other:?}"),
            })
            .collect();
        let mut first: Option<CallRow> = None;
        for order in permutations(calls.len()) {
            let (_, at0, c0) = &calls[order[0]];
            let mut row = CallRow::empty(c0.leg.as_str(), *at0);
            // Each event twice, the second time after all the others.
            for &i in order.iter().chain(order.iter()) {
                let (relay, at, call) = &calls[i];
                row.merge(*relay, *at, call, chrono_tz::Europe::Moscow);
            }
            match &first {
                None => first = Some(row),
                Some(expected) => assert_eq!(&row, expected, "order {order:?}"),
            }
        }
        let row = first.unwrap();
        assert_eq!(row.state, "recorded");
        assert_eq!(row.caller_number.as_deref(), Some("78005560251"));
        assert_eq!(row.callee_number.as_deref(), Some("+79219462761"));
        assert_eq!(
            row.recording_url.as_deref(),
            Some("https://<serverhost>/<path>/<filename>.mp3")
        );
        assert_eq!(row.duration, Some(3));
        assert!(row.answered_at.is_some());
    }

    #[test]
    fn an_incoming_leg_that_ends_unanswered_is_missed_unless_routed() {
        let body = |state: &str| {
            format!(
                r#"{{"event":"callNotifications","result":{{"callInfo":{{"call":{{"id":"in-1"}},
                "state":"{state}","type":"Incoming","caller":{{"id":"79219462761"}},
                "callee":{{"id":"883140777716581"}}}}}}}}"#
            )
        };
        let bodies = [
            body("trying"),
            body("showing"),
            body("hiding"),
            body("finished"),
        ];
        let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
        let evs = events(&refs);
        let mut row = CallRow::empty("in-1", 0);
        for e in &evs {
            let EventBody::Notification(Notification::Call(c)) = &e.body else {
                panic!()
            };
            row.merge(
                e.relay_id,
                e.received_at.timestamp_micros(),
                c,
                chrono_tz::Europe::Moscow,
            );
        }
        assert!(row.missed);
        row.routed = true;
        row.derive_missed();
        assert!(!row.missed);
    }

    #[test]
    fn bodies_that_are_not_notifications_are_kept_raw_and_do_not_fail_the_batch() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrations().to_latest(&mut conn).unwrap();
        let tx = conn.transaction().unwrap();
        let evs = events(&[
            "not json at all",
            "[1,2]",
            r#"{"event":"somethingElse"}"#,
            DOCUMENT_EXAMPLES[0],
        ]);
        let report = apply_batch(&tx, chrono_tz::Europe::Moscow, &evs).unwrap();
        assert_eq!(
            (report.applied, report.not_call_events, report.calls_changed),
            (4, 3, 1)
        );
        let kinds: Vec<String> = tx
            .prepare("SELECT kind || ':' || raw FROM events ORDER BY relay_id LIMIT 3")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            kinds,
            vec![
                "raw:not json at all".to_owned(),
                "raw:[1,2]".to_owned(),
                r#"unknown:{"event":"somethingElse"}"#.to_owned()
            ]
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use serde_json::json;

        /// A call event for leg `p` with any mix of the fields the merge looks at.
        fn arbitrary_event() -> impl Strategy<Value = Value> {
            let state = prop::sample::select(vec![
                "trying",
                "showing",
                "connected",
                "hiding",
                "finished",
                "recorded",
                "weird",
                "",
            ]);
            let number = prop::option::of(prop::sample::select(vec![
                "79219462761",
                "+79219462761",
                "883140777716581",
                "883140777716582",
                "74996497803",
            ]));
            let name = prop::option::of(prop::sample::select(vec!["", "Иван", "Anna"]));
            let direction = prop::option::of(prop::sample::select(vec!["incoming", "Outgoing"]));
            let start = prop::option::of(prop::sample::select(vec![
                "2020-06-24 15:01:45",
                "2020-06-24 15:01:55",
                "garbage",
            ]));
            (
                state,
                number.clone(),
                name,
                number,
                direction,
                start,
                prop::option::of(0u64..100),
            )
                .prop_map(
                    |(state, caller, name, callee, direction, start, duration)| {
                        let mut info = json!({"call": {"id": "p"}, "state": state});
                        if let Some(caller) = caller {
                            info["caller"] = json!({"id": caller, "displayName": name});
                        }
                        if let Some(callee) = callee {
                            info["callee"] = json!({"accountId": callee});
                        }
                        if let Some(direction) = direction {
                            info["type"] = json!(direction);
                        }
                        if let Some(start) = start {
                            info["startTime"] = json!(start);
                        }
                        if let Some(duration) = duration {
                            info["duration"] = json!(duration);
                            info["urlRecord"] = json!(format!("https://r/{duration}.mp3"));
                        }
                        json!({"event": "callNotifications", "result": {"callInfo": info}})
                    },
                )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]

            /// Any set of events, in any order and with repeats, merges to the same row.
            #[test]
            fn merging_is_order_independent_and_idempotent(
                bodies in prop::collection::vec((arbitrary_event(), 0i64..5), 1..7),
                order in Just(()).prop_perturb(|_, mut rng| rng.random::<u64>()),
            ) {
                let events: Vec<(i64, i64, CallEvent)> = bodies
                    .into_iter()
                    .enumerate()
                    .map(|(i, (body, at))| {
                        let Ok(Notification::Call(call)) = Notification::from_value(body) else {
                            panic!("not a call event")
                        };
                        (i64::try_from(i).unwrap() + 1, at * 1_000_000, call)
                    })
                    .collect();
                let merge = |sequence: &[usize]| {
                    let first = &events[sequence[0]];
                    let mut row = CallRow::empty("p", first.1);
                    for &i in sequence {
                        let (relay, at, call) = &events[i];
                        row.merge(*relay, *at, call, chrono_tz::Europe::Moscow);
                    }
                    row
                };
                let forward: Vec<usize> = (0..events.len()).collect();
                // A pseudo-random shuffle with repeats, from the drawn seed.
                let mut shuffled = forward.clone();
                let mut seed = order;
                for i in (1..shuffled.len()).rev() {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let j = usize::try_from(seed >> 33).unwrap() % (i + 1);
                    shuffled.swap(i, j);
                }
                shuffled.extend(forward.iter().rev());
                prop_assert_eq!(merge(&forward), merge(&shuffled));
            }
        }
    }
}
