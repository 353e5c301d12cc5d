//! Merging a call leg's events into its row, without SQL.
//!
//! The row is a function of the *set* of events seen for the leg, never of their order: each
//! column is either a minimum or maximum over the events (first seen, answered at, the furthest
//! state) or is taken from one winning event chosen by a total order that ends in the unique relay
//! id (the parties, the end of the call, the recording). Merging is therefore commutative,
//! associative and idempotent, which is what lets the relay replay, reorder or repeat events
//! freely. How the row is stored is [`super::calls_table`]'s business.

use std::collections::BTreeSet;

use chrono_tz::Tz;
use mtt_api::notification::{CallEvent, CallState, Direction, Party};
use serde_json::Value;

use crate::number::{normalize_number, sip_id_of};
use crate::recording::recording_link;

/// The order of states along a leg's life; a leg's state is the furthest one seen. States the
/// document does not list rank lowest so that they never hide a known one.
fn state_rank(state: &CallState) -> i64 {
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

/// A leg's row as held in memory while a batch is merged: one field per column of `calls` but
/// the row id. `Default` is only the all-empty base of [`CallRow::empty`], not a merge identity.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct CallRow {
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

impl CallRow {
    /// The row before any event: the identity of [`CallRow::merge`]. The ranks start below any
    /// event's so that the first event always wins; every other column starts empty.
    pub(super) fn empty(leg: &str, at: i64) -> Self {
        CallRow {
            leg: leg.to_owned(),
            state_rank: -1,
            parties_rank: -1,
            parties_relay: i64::MAX,
            first_seen_at: at,
            last_event_at: at,
            ..CallRow::default()
        }
    }
    /// Folds one event into the row. See the module comment for why every rule here is a
    /// minimum, a maximum or a choice by a total order.
    pub(super) fn merge(&mut self, relay_id: i64, at: i64, event: &CallEvent, zone: Tz) {
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
                // A refused address counts as none: the merge stays a function of the set of
                // events, and a valid `recorded` wins whenever it comes.
                if let Some(url) = nonblank(event.url_record.as_deref())
                    .and_then(|url| accepted_recording(&url, relay_id, event))
                {
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
    pub(super) fn derive_missed(&mut self) {
        self.missed = self.direction.as_deref() == Some("incoming")
            && self.answered_at.is_none()
            && self.ended_at.is_some()
            && !self.routed;
    }

    /// The text the trigram index holds for this call: every number as shown and as normalised,
    /// and every name, each once.
    pub(super) fn search_text(&self) -> String {
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

/// The recording address to keep, or `None` (with a warning) when it is refused.
fn accepted_recording(url: &str, relay_id: i64, event: &CallEvent) -> Option<String> {
    match recording_link(url) {
        Ok(url) => Some(url.to_owned()),
        Err(why) => {
            let shown: String = url.chars().take(80).collect();
            tracing::warn!(
                leg = %event.leg,
                relay_id,
                why,
                url = ?shown,
                "a recording address was refused: the event is kept, the call gets no link"
            );
            None
        }
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
pub(super) fn event_sip_ids(event: &CallEvent) -> BTreeSet<String> {
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
