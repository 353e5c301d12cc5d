//! The calls happening now, as the operator sees them, built from the PBX's leg notifications.
//!
//! The call log remembers every leg for ever; this module keeps only the live ones in memory and
//! turns each notification into what the UI needs to hear: a call started ringing (and whether
//! it is *mine*), its state changed, it ended (missed or not), its recording arrived. A leg is
//! mine when one of its parties (by `id` or `accountId`) is my workplace or one of my workplace's
//! terminals. Hang-up and transfer use the leg's latest id, tag and transport id, which is why
//! they are kept here as each notification brings them.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use mtt_api::notification::{CallEvent, CallState, Direction};
use mtt_api::{LegRef, SipId};
use serde::Serialize;

/// Which way a call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CallDirection {
    /// From outside to the account.
    Incoming,
    /// From the account outwards (click-to-call included).
    Outgoing,
    /// The PBX did not say.
    Unknown,
}

/// Where a live call stands, in the operator's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CallPhase {
    /// Click-to-call: the PBX is ringing the operator's own phone ("your phone is ringing — pick
    /// up").
    PickUp,
    /// Click-to-call: the operator has picked up and the number is being called ("calling
    /// <number>"). The document gives no notification for the operator's pick-up; the project
    /// reads `showing` on an outgoing leg as that moment (see `mtt-sim`'s notes, which model it).
    Calling,
    /// An incoming call is ringing at one or more workplaces.
    Ringing,
    /// The parties are talking.
    Connected,
    /// The leg has ended.
    Ended,
}

impl CallPhase {
    /// Order along a call's life, so that notifications arriving late cannot undo progress.
    fn rank(self) -> u8 {
        match self {
            CallPhase::PickUp | CallPhase::Ringing => 0,
            CallPhase::Calling => 1,
            CallPhase::Connected => 2,
            CallPhase::Ended => 3,
        }
    }
}

/// One live leg.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveCall {
    /// The leg's id (`call.id`).
    pub leg: String,
    /// The latest tag seen.
    pub tag: Option<String>,
    /// The latest transport id seen.
    pub transport_id: Option<String>,
    /// Which way it goes.
    pub direction: CallDirection,
    /// Where it stands.
    pub phase: CallPhase,
    /// The other side's number (the caller for incoming calls, the callee for outgoing).
    pub remote_number: Option<String>,
    /// The other side's name as the PBX gave it.
    pub remote_name: Option<String>,
    /// The workplaces (and terminals) this leg has involved.
    pub workplaces: BTreeSet<String>,
    /// Who answered, when someone did.
    pub answered_by: Option<String>,
    /// Whether the leg involves my workplace.
    pub mine: bool,
    /// Whose call it is when it is not mine: a colleague's workplace the leg involves (a
    /// supervisor's app sees the whole team's calls). `None` for my own calls, and for calls
    /// that touch no workplace the directory knows.
    pub whose: Option<Whose>,
    /// When the relay first saw the leg.
    pub started_at: DateTime<Utc>,
    /// When it was answered.
    pub connected_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// How long it lasted, from `finished`.
    pub duration_secs: Option<u64>,
    /// Why it ended.
    pub end_reason: Option<String>,
}

impl LiveCall {
    /// What hang-up and transfer need, if the PBX has told us all of it.
    pub fn leg_ref(&self) -> Option<LegRef> {
        LegRef::new(
            self.leg.clone(),
            self.tag.clone()?,
            self.transport_id.clone()?,
        )
        .ok()
    }
}

/// A colleague's workplace a call involves, named as the directory names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Whose {
    /// The workplace's SIP ID.
    pub workplace: String,
    /// The workplace's name in the directory (in team mode the relay's directory).
    pub name: Option<String>,
}

/// What changed, for the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallChange {
    /// A call started ringing (incoming, or the operator's phone for click-to-call). Comes once
    /// per leg, before any `Updated` for it.
    Started(LiveCall),
    /// A live call's state changed.
    Updated(LiveCall),
    /// A call ended. `missed` is an incoming call nobody answered.
    Ended {
        /// The call as it ended.
        call: LiveCall,
        /// Nobody answered an incoming call.
        missed: bool,
    },
    /// A recording became available.
    Recorded {
        /// The leg.
        leg: String,
        /// The mp3's address.
        url: String,
    },
}

/// My workplace and its terminals: what makes a call mine; and the account's other workplaces,
/// which say whose a call that is not mine is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Me {
    /// My workplace's SIP ID.
    pub workplace: Option<String>,
    /// Its terminals' SIP IDs.
    pub terminals: HashSet<String>,
    /// Every workplace of the account, and every terminal, by SIP ID: the workplace it is (or
    /// belongs to) with its name.
    pub colleagues: HashMap<String, Whose>,
}

impl Me {
    /// Whether `id` is my workplace or one of its terminals.
    pub fn owns(&self, id: &str) -> bool {
        self.workplace.as_deref() == Some(id) || self.terminals.contains(id)
    }

    /// Whose a leg involving `workplaces` is, when it is not mine: the first of them the
    /// directory knows, else the first workplace-like id (a workplace the directory has not
    /// listed yet).
    fn whose(&self, workplaces: &BTreeSet<String>) -> Option<Whose> {
        if workplaces.iter().any(|w| self.owns(w)) {
            return None;
        }
        workplaces
            .iter()
            .find_map(|w| self.colleagues.get(w).cloned())
            .or_else(|| {
                workplaces.iter().next().map(|w| Whose {
                    workplace: w.clone(),
                    name: None,
                })
            })
    }
}

/// How many ended legs are remembered so that late notifications for them (a `recorded` after
/// `finished`, a duplicate `finished`) do not resurrect them as live calls.
const ENDED_MEMORY: usize = 4096;

/// The live calls.
#[derive(Debug, Default)]
pub struct LiveCalls {
    calls: HashMap<String, LiveCall>,
    ended: HashSet<String>,
    ended_order: std::collections::VecDeque<String>,
}

impl LiveCalls {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The live calls, oldest first.
    pub fn snapshot(&self) -> Vec<LiveCall> {
        let mut calls: Vec<_> = self.calls.values().cloned().collect();
        calls.sort_by(|a, b| {
            a.started_at
                .cmp(&b.started_at)
                .then_with(|| a.leg.cmp(&b.leg))
        });
        calls
    }

    /// One live call.
    pub fn get(&self, leg: &str) -> Option<&LiveCall> {
        self.calls.get(leg)
    }

    /// Applies one notification received at `at`, returning what changed.
    pub fn apply(&mut self, event: &CallEvent, at: DateTime<Utc>, me: &Me) -> Vec<CallChange> {
        let leg = event.leg.as_str().to_owned();
        if event.state == CallState::Recorded {
            // Only an address the call log keeps as the recording is announced (the log warns
            // about the others): the window would make a Recording button of it.
            return event
                .url_record
                .as_deref()
                .and_then(|url| call_log::recording_link(url).ok())
                .map(|url| {
                    vec![CallChange::Recorded {
                        leg,
                        url: url.to_owned(),
                    }]
                })
                .unwrap_or_default();
        }
        if self.ended.contains(&leg) {
            return Vec::new();
        }
        let mut changes = Vec::new();
        let is_new = !self.calls.contains_key(&leg);
        let call = self.calls.entry(leg.clone()).or_insert_with(|| LiveCall {
            leg: leg.clone(),
            tag: None,
            transport_id: None,
            direction: CallDirection::Unknown,
            phase: CallPhase::Ringing,
            remote_number: None,
            remote_name: None,
            workplaces: BTreeSet::new(),
            answered_by: None,
            mine: false,
            whose: None,
            started_at: at,
            connected_at: None,
            ended_at: None,
            duration_secs: None,
            end_reason: None,
        });
        let before = call.clone();
        absorb(call, event, me);
        match &event.state {
            CallState::Trying | CallState::Showing => {
                // A late or repeated ringing notification never moves a call backwards.
                let phase = match (call.direction, &event.state) {
                    (CallDirection::Outgoing, CallState::Showing) => CallPhase::Calling,
                    (CallDirection::Outgoing, _) => CallPhase::PickUp,
                    _ => CallPhase::Ringing,
                };
                if phase.rank() > call.phase.rank() || is_new {
                    call.phase = phase;
                }
            }
            CallState::Connected => {
                call.phase = CallPhase::Connected;
                call.connected_at.get_or_insert(at);
                if call.direction != CallDirection::Outgoing {
                    call.answered_by = event
                        .callee
                        .as_ref()
                        .and_then(|p| p.id.clone().or_else(|| p.account_id.clone()))
                        .filter(|id| SipId::looks_like(id));
                }
            }
            CallState::Hiding | CallState::Other(_) | CallState::Recorded => {}
            CallState::Finished => {
                call.phase = CallPhase::Ended;
                call.ended_at = Some(at);
                call.duration_secs = event.duration;
                call.end_reason = event.reason.clone();
            }
        }
        if event.state == CallState::Finished {
            let call = self.calls.remove(&leg).unwrap_or(before);
            let missed = call.direction == CallDirection::Incoming && call.connected_at.is_none();
            self.remember_ended(leg);
            changes.push(CallChange::Ended { call, missed });
        } else if is_new {
            changes.push(CallChange::Started(call.clone()));
        } else if *call != before {
            changes.push(CallChange::Updated(call.clone()));
        }
        changes
    }

    /// Re-evaluates which calls are mine after my workplace changed.
    pub fn set_me(&mut self, me: &Me) {
        for call in self.calls.values_mut() {
            call.mine = call.workplaces.iter().any(|w| me.owns(w));
            call.whose = me.whose(&call.workplaces);
        }
    }

    fn remember_ended(&mut self, leg: String) {
        if self.ended.insert(leg.clone()) {
            self.ended_order.push_back(leg);
        }
        while self.ended_order.len() > ENDED_MEMORY {
            if let Some(old) = self.ended_order.pop_front() {
                self.ended.remove(&old);
            }
        }
    }
}

/// Copies what a notification knows into the call, never erasing what an earlier one said.
fn absorb(call: &mut LiveCall, event: &CallEvent, me: &Me) {
    if let Some(tag) = &event.tag {
        call.tag = Some(tag.clone());
    }
    if let Some(t) = &event.transport_id {
        call.transport_id = Some(t.clone());
    }
    match &event.direction {
        Some(Direction::Incoming) => call.direction = CallDirection::Incoming,
        Some(Direction::Outgoing) => call.direction = CallDirection::Outgoing,
        _ => {}
    }
    let remote = match call.direction {
        CallDirection::Outgoing => event.callee.as_ref(),
        _ => event.caller.as_ref(),
    };
    if let Some(party) = remote {
        if call.remote_number.is_none() {
            call.remote_number = party.number().map(str::to_owned);
        }
        if let Some(name) = party.name() {
            call.remote_name = Some(name.to_owned());
        }
    }
    for party in [&event.caller, &event.callee].into_iter().flatten() {
        for id in [&party.id, &party.account_id].into_iter().flatten() {
            if SipId::looks_like(id) {
                call.workplaces.insert(id.clone());
            }
        }
    }
    call.mine = call.workplaces.iter().any(|w| me.owns(w));
    call.whose = me.whose(&call.workplaces);
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtt_api::Notification;

    fn event(json: serde_json::Value) -> CallEvent {
        match Notification::from_value(json).unwrap() {
            Notification::Call(c) => c,
            other => panic!("{other:?}"),
        }
    }

    fn incoming(state: &str, callee_id: &str) -> CallEvent {
        event(
            serde_json::json!({"event":"callNotifications","result":{"callInfo":{
                "call":{"id":"leg-1","tag":"t1"},"state":state,"type":"incoming","transportId":"10.0.0.1:5070",
                "caller":{"id":"79219462761","displayName":"Иван"},
                "callee":{"id":callee_id,"accountId":callee_id}
            }}}),
        )
    }

    fn me() -> Me {
        Me {
            workplace: Some("883140000000001".into()),
            terminals: ["883140000000011".to_owned()].into(),
            colleagues: Default::default(),
        }
    }

    #[test]
    fn an_incoming_call_rings_connects_and_ends_with_one_change_each() {
        let mut live = LiveCalls::new();
        let t = Utc::now();
        let started = live.apply(&incoming("showing", "883140000000011"), t, &me());
        let [CallChange::Started(call)] = started.as_slice() else {
            panic!("{started:?}")
        };
        assert!(call.mine, "ringing my terminal makes it mine");
        assert_eq!(call.phase, CallPhase::Ringing);
        assert_eq!(call.remote_number.as_deref(), Some("79219462761"));
        assert_eq!(call.remote_name.as_deref(), Some("Иван"));
        assert!(call.leg_ref().is_some());

        let connected = live.apply(&incoming("connected", "883140000000099"), t, &me());
        let [CallChange::Updated(call)] = connected.as_slice() else {
            panic!("{connected:?}")
        };
        assert_eq!(call.phase, CallPhase::Connected);
        assert_eq!(
            call.answered_by.as_deref(),
            Some("883140000000099"),
            "answered elsewhere"
        );

        let ended = live.apply(&incoming("finished", "883140000000099"), t, &me());
        assert!(matches!(
            ended.as_slice(),
            [CallChange::Ended { missed: false, .. }]
        ));
        assert!(live.snapshot().is_empty());
        // A late duplicate does not bring it back.
        assert!(
            live.apply(&incoming("finished", "883140000000099"), t, &me())
                .is_empty()
        );
        assert!(
            live.apply(&incoming("hiding", "883140000000099"), t, &me())
                .is_empty()
        );
    }

    #[test]
    fn an_unanswered_incoming_call_is_missed_and_not_mine_elsewhere() {
        let mut live = LiveCalls::new();
        let t = Utc::now();
        let started = live.apply(&incoming("trying", "74996497803"), t, &me());
        let [CallChange::Started(call)] = started.as_slice() else {
            panic!()
        };
        assert!(!call.mine);
        let ended = live.apply(&incoming("finished", "74996497803"), t, &me());
        assert!(matches!(
            ended.as_slice(),
            [CallChange::Ended { missed: true, .. }]
        ));
    }

    #[test]
    fn click_to_call_reads_pick_up_then_calling_then_connected() {
        let mut live = LiveCalls::new();
        let t = Utc::now();
        let out = |state: &str| {
            event(
                serde_json::json!({"event":"callNotifications","result":{"callInfo":{
                    "call":{"id":"out-1","tag":"x"},"state":state,"type":"outgoing","transportId":"10.0.0.1:5070",
                    "caller":{"accountId":"883140000000001","id":"78005560251"},
                    "callee":{"id":"+79219462761"}
                }}}),
            )
        };
        let changes = live.apply(&out("trying"), t, &me());
        let [CallChange::Started(call)] = changes.as_slice() else {
            panic!()
        };
        assert_eq!(call.phase, CallPhase::PickUp);
        assert!(call.mine);
        assert_eq!(call.remote_number.as_deref(), Some("+79219462761"));
        let changes = live.apply(&out("showing"), t, &me());
        let [CallChange::Updated(call)] = changes.as_slice() else {
            panic!("{changes:?}")
        };
        assert_eq!(call.phase, CallPhase::Calling, "the operator picked up");
        let changes = live.apply(&out("connected"), t, &me());
        let [CallChange::Updated(call)] = changes.as_slice() else {
            panic!()
        };
        assert_eq!(call.phase, CallPhase::Connected);
        // A late `showing` or `trying` does not move the call backwards.
        assert!(live.apply(&out("showing"), t, &me()).is_empty());
        assert!(live.apply(&out("trying"), t, &me()).is_empty());
        let recorded = event(
            serde_json::json!({"event":"callNotifications","result":{"callInfo":{
            "accountId":"883140000000001","call":{"id":"out-1"},"state":"recorded","urlRecord":"https://x/y.mp3"}}}),
        );
        assert_eq!(
            live.apply(&recorded, t, &me()),
            vec![CallChange::Recorded {
                leg: "out-1".into(),
                url: "https://x/y.mp3".into()
            }]
        );
    }

    #[test]
    fn only_a_recording_address_the_history_keeps_is_announced() {
        let mut live = LiveCalls::new();
        let recorded = |url: &str| {
            event(
                serde_json::json!({"event":"callNotifications","result":{"callInfo":{
                    "call":{"id":"leg-1","tag":"t1"},"state":"recorded","urlRecord":url
                }}}),
            )
        };
        let t = Utc::now();
        assert!(
            live.apply(&recorded("javascript:alert(1)"), t, &me())
                .is_empty()
        );
        assert!(
            live.apply(&recorded("http://records.example.com/1.mp3"), t, &me())
                .is_empty()
        );
        assert_eq!(
            live.apply(&recorded(" https://records.mtt.ru/1.mp3 "), t, &me()),
            [CallChange::Recorded {
                leg: "leg-1".into(),
                url: "https://records.mtt.ru/1.mp3".into()
            }]
        );
    }
}
