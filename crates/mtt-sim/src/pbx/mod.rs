//! The simulated PBX: calls as legs moving through the document's states, one task per call.
//!
//! Each call runs in its own task that owns the call's state, reacts to commands (from the
//! Open API, the control API or the call's own plan) and to timers of the [`crate::Clock`], and
//! emits one notification per transition. Because a call's notifications are produced by one
//! task and queued on one webhook lane, they reach the receiver in order.
//!
//! The flows:
//! - **makeCall**: the leg is announced (`trying`) while the operator's workplace rings; the
//!   operator answers (or the attempt ends after the no-answer window), the leg is `showing` and
//!   the callee is dialled; when the callee answers the leg is `connected`; a hang-up `finished`
//!   it with the duration and a reason; a recorded call then gets `recorded`.
//! - **Incoming**: to a parked number a separate parking leg announces `trying` and waits for
//!   transferCall or terminateCall (or the parking window) and then `finished`; the main leg
//!   announces `trying` and rings the routing's workplaces (`showing` with the workplace as
//!   callee); one answers (`connected`, the others `hiding`) or nobody does (`hiding`, then
//!   `finished` with a reason and duration 0: a missed call).
//!
//! The files: the entry points the Open API and the control API call (`entry`), the call task
//! that owns one call and announces it (`task`), the state machine's phases and moves
//! (`phase`), and what a command does in each phase (`command`); `party` is how numbers and
//! workplaces appear in notifications. The registry of calls is `crate::calls`, below the
//! shared state that holds it.

mod command;
mod entry;
mod party;
mod phase;
mod task;

use std::time::Duration;

use serde::Serialize;

use crate::account::Addressee;
use crate::api_error::ApiError;
use crate::calls::Target;
use crate::config::{BusyWorkplace, Timings, ms};
use crate::state::SimState;
use crate::sync::lock;

pub(crate) use entry::{answer, hangup, incoming, leg_command, make_call, snapshots};
use party::check_number;

/// Whether the PBX passes `target` by as busy: only under
/// [`BusyWorkplace::NextInRouting`], and only a workplace on a call other than `except`.
pub(crate) fn passed_by_as_busy(sim: &SimState, target: &Target, except: Option<u64>) -> bool {
    match target {
        Target::Workplace { id, .. } => {
            sim.0.config.busy_workplace == BusyWorkplace::NextInRouting
                && lock(&sim.0.calls).on_a_call(id, except)
        }
        Target::Number(_) => false,
    }
}

/// Whether `target` may pick up call `key` now: always, unless the PBX passes busy
/// workplaces by; then only a workplace on no other call, which from then on is this call's.
pub(crate) fn takes_the_call(sim: &SimState, target: &Target, key: u64) -> bool {
    match target {
        Target::Workplace { id, .. }
            if sim.0.config.busy_workplace == BusyWorkplace::NextInRouting =>
        {
            lock(&sim.0.calls).take_if_free(key, id)
        }
        _ => true,
    }
}

/// What a call's simulated people will do on their own.
#[derive(Debug, Clone, Default)]
pub struct CallPlan {
    /// The operator picks up a makeCall after this long; `None`: never.
    pub operator_answer: Option<Duration>,
    /// The dialled callee (or a number a call is transferred to) picks up after this long.
    pub callee_answer: Option<Duration>,
    /// A ringing workplace picks up an incoming call after this long.
    pub incoming_answer: Option<Duration>,
    /// Which ringing workplace answers; the first one (or a random one, see `answer_random`)
    /// when unset or not ringing.
    pub answer_by: Option<String>,
    /// Pick the answering workplace at random among those ringing.
    pub answer_random: bool,
    /// The conversation lasts this long.
    pub talk: Option<Duration>,
    /// When the conversation ends on its own, the caller (party A) hangs up rather than B.
    pub caller_hangs_up: bool,
    /// The caller of an incoming call gives up after ringing this long.
    pub caller_gives_up: Option<Duration>,
    /// During the conversation, after this long, the call is transferred to the target.
    pub transfer_after: Option<(Duration, String)>,
    /// Whether a connected call is recorded.
    pub record: bool,
}

impl CallPlan {
    /// The plan the configured timings describe.
    pub fn from_timings(t: &Timings) -> Self {
        Self {
            operator_answer: t.operator_answer_ms.map(ms),
            callee_answer: t.callee_answer_ms.map(ms),
            incoming_answer: t.incoming_answer_ms.map(ms),
            answer_by: None,
            answer_random: false,
            talk: t.talk_ms.map(ms),
            caller_hangs_up: false,
            caller_gives_up: None,
            transfer_after: None,
            record: t.recording,
        }
    }
}

/// What starting a call gave.
#[derive(Debug, Clone, Serialize)]
pub struct StartedCall {
    /// The simulator's number for the call.
    pub key: u64,
    /// The main leg's `call.id`.
    pub leg_id: String,
    /// The parking leg's `call.id`, if the number was parked.
    pub parking_leg_id: Option<String>,
    /// makeCall's answer id.
    pub answer_id: String,
}

impl Target {
    /// Resolves transferCall's `calleeId`: a workplace, a terminal (its workplace rings) or a
    /// telephone number.
    pub fn resolve(sim: &SimState, id: &str) -> Result<Self, ApiError> {
        let account = lock(&sim.0.account);
        match account.classify(id) {
            Addressee::Workplace(name) => Ok(Self::Workplace {
                id: id.to_owned(),
                name,
            }),
            Addressee::Terminal(workplace) => {
                let name = account
                    .workplace(&workplace)
                    .map(|w| w.name.clone())
                    .unwrap_or_default();
                Ok(Self::Workplace {
                    id: workplace,
                    name,
                })
            }
            Addressee::Number => {
                check_number("calleeId", id)?;
                Ok(Self::Number(id.to_owned()))
            }
        }
    }
}
