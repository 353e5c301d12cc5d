//! The calls the simulated PBX carries, as data: the registry of every call in progress (with
//! the sender of commands to its task, its legs by id and makeCall's id) and of recently ended
//! ones, the views of them the control API shows, and the commands a call's task accepts.
//!
//! The shared state holds the registry, and the PBX's entry points and call tasks (`pbx`) use
//! it through the state; so this module depends on neither.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::api_error::ApiError;

/// Calls kept after they end, for the control API.
const RECENT_CALLS: usize = 200;

/// Where a call can be sent. [`Target::resolve`] finds one from an id; it reads the account in
/// the shared state, which holds this registry, so it is written in `pbx`, above the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A workplace of the account.
    Workplace {
        /// SIP ID.
        id: String,
        /// Its name.
        name: String,
    },
    /// Any other number.
    Number(String),
}

impl Target {
    /// The SIP ID or number.
    pub fn id(&self) -> &str {
        match self {
            Self::Workplace { id, .. } | Self::Number(id) => id,
        }
    }
}

/// Commands a leg accepts through the Open API.
#[derive(Debug, Clone)]
pub enum LegCommand {
    /// terminateCall.
    Terminate,
    /// transferCall.
    Transfer(Target),
}

/// The answer to a command: done, or why the call refused it.
pub(crate) type Reply = oneshot::Sender<Result<(), ApiError>>;

/// What a call's task is asked to do, with the sender of its answer.
#[derive(Debug)]
pub(crate) enum Command {
    /// terminateCall or transferCall on one of the call's legs.
    Leg {
        leg_id: String,
        command: LegCommand,
        reply: Reply,
    },
    /// A party answers (control API).
    Answer { by: Option<String>, reply: Reply },
    /// A party hangs up (control API).
    Hangup { by: Option<String>, reply: Reply },
}

/// A leg as the control API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LegView {
    /// `call.id`.
    pub id: String,
    /// `call.tag`.
    pub tag: String,
    /// `transportId`.
    pub transport_id: String,
    /// `main` or `parking`.
    pub role: &'static str,
}

/// A call as the control API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct CallSnapshot {
    /// The simulator's own number for the call.
    pub key: u64,
    /// `incoming` or `outgoing`.
    pub direction: &'static str,
    /// Caller number (incoming) or operator workplace (outgoing).
    pub from: String,
    /// External number (incoming) or dialled number (outgoing).
    pub to: String,
    /// The caller's name, if any.
    pub caller_name: Option<String>,
    /// `parking`, `ringing`, `operator_ringing`, `callee_ringing`, `talking` or `ended`.
    pub phase: &'static str,
    /// Who is ringing now.
    pub ringing: Vec<String>,
    /// Who is talking with the caller now.
    pub talking_with: Option<String>,
    /// The legs.
    pub legs: Vec<LegView>,
    /// The last state notified.
    pub last_state: Option<&'static str>,
    /// makeCall's answer id.
    pub make_call_id: Option<String>,
    /// When the call began (UTC, RFC 3339).
    pub started_at: String,
    /// Why it ended.
    pub reason: Option<String>,
}

#[derive(Debug)]
struct ActiveCall {
    tx: mpsc::UnboundedSender<Command>,
    snapshot: CallSnapshot,
}

/// What the Open API's leg references are checked against.
#[derive(Debug, Clone)]
pub(crate) struct LegIndex {
    /// The call the leg belongs to.
    pub(crate) key: u64,
    /// `call.tag`.
    pub(crate) tag: String,
    /// `transportId`.
    pub(crate) transport: String,
}

/// Every call in progress, its legs, and recently ended calls.
#[derive(Debug, Default)]
pub(crate) struct CallRegistry {
    next_key: u64,
    active: HashMap<u64, ActiveCall>,
    legs: HashMap<String, LegIndex>,
    make_call_ids: HashMap<String, u64>,
    recent: VecDeque<CallSnapshot>,
}

impl CallRegistry {
    /// Registers a new call under the next key, with the first snapshot `snapshot` makes for
    /// that key; its legs and makeCall's id are found by the snapshot's. Returns the key.
    pub(crate) fn insert(
        &mut self,
        tx: mpsc::UnboundedSender<Command>,
        snapshot: impl FnOnce(u64) -> CallSnapshot,
    ) -> u64 {
        self.next_key += 1;
        let key = self.next_key;
        let snapshot = snapshot(key);
        for leg in &snapshot.legs {
            self.legs.insert(
                leg.id.clone(),
                LegIndex {
                    key,
                    tag: leg.tag.clone(),
                    transport: leg.transport_id.clone(),
                },
            );
        }
        if let Some(id) = &snapshot.make_call_id {
            self.make_call_ids.insert(id.clone(), key);
        }
        self.active.insert(key, ActiveCall { tx, snapshot });
        key
    }

    /// Moves an ended call to the recently ended ones; its legs and ids no longer find it.
    pub(crate) fn remove(&mut self, key: u64) {
        if let Some(call) = self.active.remove(&key) {
            for leg in &call.snapshot.legs {
                self.legs.remove(&leg.id);
            }
            if let Some(id) = &call.snapshot.make_call_id {
                self.make_call_ids.remove(id);
            }
            if self.recent.len() >= RECENT_CALLS {
                self.recent.pop_front();
            }
            self.recent.push_back(call.snapshot);
        }
    }

    /// Forgets a leg that ended while its call goes on (a parking leg).
    pub(crate) fn forget_leg(&mut self, leg_id: &str) {
        self.legs.remove(leg_id);
    }

    /// Changes the snapshot of a call in progress.
    pub(crate) fn update(&mut self, key: u64, change: impl FnOnce(&mut CallSnapshot)) {
        if let Some(call) = self.active.get_mut(&key) {
            change(&mut call.snapshot);
        }
    }

    /// A leg in progress by its id, with the sender of its call's commands if the call is
    /// still running.
    pub(crate) fn leg(
        &self,
        leg_id: &str,
    ) -> Option<(LegIndex, Option<mpsc::UnboundedSender<Command>>)> {
        let index = self.legs.get(leg_id).cloned()?;
        let tx = self.active.get(&index.key).map(|c| c.tx.clone());
        Some((index, tx))
    }

    /// The call a control request names: its key, a leg id or makeCall's answer id.
    pub(crate) fn find(&self, call: &str) -> Option<mpsc::UnboundedSender<Command>> {
        let key = call
            .parse::<u64>()
            .ok()
            .filter(|k| self.active.contains_key(k))
            .or_else(|| self.legs.get(call).map(|l| l.key))
            .or_else(|| self.make_call_ids.get(call).copied())?;
        self.active.get(&key).map(|c| c.tx.clone())
    }

    /// Whether `workplace` is on a call other than `except`: talking in a conversation, or the
    /// operator of a makeCall who has picked up (ringing is not being on a call).
    pub(crate) fn on_a_call(&self, workplace: &str, except: Option<u64>) -> bool {
        self.active.values().any(|call| {
            let s = &call.snapshot;
            Some(s.key) != except
                && (s.talking_with.as_deref() == Some(workplace)
                    || (s.direction == "outgoing"
                        && s.from == workplace
                        && matches!(s.phase, "callee_ringing" | "talking")))
        })
    }

    /// Puts `workplace` in call `key`'s conversation unless it is on another call: checked and
    /// taken under one lock, so that two calls answered at the same moment cannot both have it.
    pub(crate) fn take_if_free(&mut self, key: u64, workplace: &str) -> bool {
        if self.on_a_call(workplace, Some(key)) {
            return false;
        }
        self.update(key, |s| s.talking_with = Some(workplace.to_owned()));
        true
    }

    /// Calls in progress and, with `include_ended`, recently ended ones.
    pub(crate) fn snapshots(&self, include_ended: bool) -> Vec<CallSnapshot> {
        let mut calls: Vec<CallSnapshot> =
            self.active.values().map(|c| c.snapshot.clone()).collect();
        calls.sort_by_key(|c| c.key);
        if include_ended {
            let mut all: Vec<CallSnapshot> = self.recent.iter().cloned().collect();
            all.extend(calls);
            return all;
        }
        calls
    }
}
