//! The call task: one per call, owning the call's state. It starts the call, then waits for
//! a command or the phase's next deadline and lets the state machine (`phase`, `command`)
//! move on; every transition is announced as one notification here, and the registry's
//! snapshot follows along.

use std::collections::VecDeque;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::party::workplace_party;
use super::phase::{Next, Phase};
use super::{CallPlan, StartedCall};
use crate::api_error::ApiError;
use crate::calls::{CallSnapshot, Command, LegView, Target};
use crate::clock::after;
use crate::config::ms;
use crate::ids;
use crate::state::{SimState, moscow_time};
use crate::sync::lock;
use crate::wire::{CallInfo, CallRef, CallState, Direction, Party};

/// One leg of a call: its `call.id`, `call.tag` and `transportId`.
#[derive(Debug, Clone)]
pub(super) struct Leg {
    pub(super) id: String,
    pub(super) tag: String,
    pub(super) transport: String,
}

impl Leg {
    fn view(&self, role: &'static str) -> LegView {
        LegView {
            id: self.id.clone(),
            tag: self.tag.clone(),
            transport_id: self.transport.clone(),
            role,
        }
    }
}

/// Everything a call task starts from.
#[derive(Debug)]
pub(super) struct Setup {
    pub(super) direction: Direction,
    pub(super) main: Leg,
    pub(super) parking: Option<Leg>,
    pub(super) caller: Party,
    /// Callee as announced in `trying`/`showing`.
    pub(super) base_callee: Party,
    /// Callee as shown once connected (outgoing: the number without `+`).
    pub(super) connected_callee: Party,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) caller_name: Option<String>,
    pub(super) operator: Option<String>,
    pub(super) make_call_id: Option<String>,
    pub(super) routing: VecDeque<Vec<Target>>,
    pub(super) external_number: Option<String>,
}

pub(super) fn spawn(
    sim: &SimState,
    setup: Setup,
    plan: CallPlan,
    answer_id: String,
) -> StartedCall {
    let (tx, rx) = mpsc::unbounded_channel();
    let now = sim.now();
    let mut legs = vec![setup.main.view("main")];
    if let Some(p) = &setup.parking {
        legs.push(p.view("parking"));
    }
    let key = lock(&sim.0.calls).insert(tx, |key| CallSnapshot {
        key,
        direction: setup.direction.as_str(),
        from: setup.from.clone(),
        to: setup.to.clone(),
        caller_name: setup.caller_name.clone(),
        phase: "starting",
        ringing: Vec::new(),
        talking_with: None,
        legs,
        last_state: None,
        make_call_id: setup.make_call_id.clone(),
        started_at: now.to_rfc3339(),
        reason: None,
    });
    let started = StartedCall {
        key,
        leg_id: setup.main.id.clone(),
        parking_leg_id: setup.parking.as_ref().map(|p| p.id.clone()),
        answer_id,
    };
    let centrex = lock(&sim.0.account).centrex_id.clone();
    let give_up_at = plan.caller_gives_up.map(|d| after(now, d));
    let task = CallTask {
        sim: sim.clone(),
        key,
        rx,
        setup,
        plan,
        centrex,
        started: now,
        connected_at: None,
        partner: None,
        give_up_at,
        found_all_busy: false,
    };
    tokio::spawn(task.run());
    started
}

/// The task of one call: what it started from, its plan, and what has happened so far.
pub(super) struct CallTask {
    pub(super) sim: SimState,
    pub(super) key: u64,
    pub(super) rx: mpsc::UnboundedReceiver<Command>,
    pub(super) setup: Setup,
    pub(super) plan: CallPlan,
    pub(super) centrex: String,
    pub(super) started: DateTime<Utc>,
    pub(super) connected_at: Option<DateTime<Utc>>,
    /// Who B is in the conversation (or was last).
    pub(super) partner: Option<Target>,
    pub(super) give_up_at: Option<DateTime<Utc>>,
    /// The last workplaces the call was sent to were all passed by as busy.
    pub(super) found_all_busy: bool,
}

impl CallTask {
    async fn run(mut self) {
        let mut next = self.begin();
        let shutdown = self.sim.0.shutdown.clone();
        while let Next::Continue(phase) = next {
            self.snapshot(|s| s.phase = phase.name());
            let sleep = self
                .sim
                .clock()
                .sleep_until(phase.deadline(self.give_up_at));
            next = tokio::select! {
                () = shutdown.cancelled() => return,
                command = self.rx.recv() => match command {
                    Some(command) => self.on_command(phase, command),
                    None => return,
                },
                () = sleep => self.on_timer(phase),
            };
        }
        lock(&self.sim.0.calls).remove(self.key);
        self.refuse_pending();
        if self.connected_at.is_some() && self.plan.record && self.sim.timings().recording {
            let delay = ms(self.sim.timings().record_delay_ms);
            let at = after(self.sim.now(), delay);
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = self.sim.clock().sleep_until(at) => self.emit_recorded(),
            }
        }
    }

    /// Commands that raced with the end of the call learn that it has ended.
    fn refuse_pending(&mut self) {
        self.rx.close();
        while let Ok(command) = self.rx.try_recv() {
            let reply = match command {
                Command::Leg { reply, .. }
                | Command::Answer { reply, .. }
                | Command::Hangup { reply, .. } => reply,
            };
            let _ = reply.send(Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "call_ended",
                "the call has already ended",
            )));
        }
    }

    fn begin(&mut self) -> Next {
        let now = self.sim.now();
        match self.setup.direction {
            Direction::Outgoing => {
                self.emit_main(
                    CallState::Trying,
                    Some(self.setup.base_callee.clone()),
                    Some(self.started),
                );
                let t = self.sim.timings();
                Next::Continue(Phase::OperatorRinging {
                    until: after(now, ms(t.operator_no_answer_ms)),
                    answer_at: self.plan.operator_answer.map(|d| after(now, d)),
                })
            }
            Direction::Incoming => {
                if let Some(parking) = self.setup.parking.clone() {
                    self.emit_leg(
                        &parking,
                        CallState::Trying,
                        Some(self.setup.base_callee.clone()),
                        Some(self.started),
                    );
                    let window = ms(self.sim.timings().parking_window_ms);
                    Next::Continue(Phase::Parking {
                        until: after(now, window),
                    })
                } else {
                    self.emit_main(
                        CallState::Trying,
                        Some(self.setup.base_callee.clone()),
                        Some(self.started),
                    );
                    self.ring_next_group()
                }
            }
        }
    }

    // ----- notifications -----

    fn emit_leg(
        &self,
        leg: &Leg,
        state: CallState,
        callee: Option<Party>,
        start_time: Option<DateTime<Utc>>,
    ) {
        self.sim.emit_call(
            self.key,
            CallInfo {
                account_id: None,
                call: CallRef {
                    id: leg.id.clone(),
                    tag: Some(leg.tag.clone()),
                },
                callee,
                caller: Some(self.setup.caller.clone()),
                duration: None,
                reason: None,
                reason_code: None,
                start_time: start_time.map(moscow_time),
                state,
                transport_id: Some(leg.transport.clone()),
                direction: Some(self.setup.direction),
                url_record: None,
            },
        );
        let state = state.as_str();
        self.snapshot(|s| s.last_state = Some(state));
    }

    pub(super) fn emit_main(
        &self,
        state: CallState,
        callee: Option<Party>,
        start_time: Option<DateTime<Utc>>,
    ) {
        let leg = self.setup.main.clone();
        self.emit_leg(&leg, state, callee, start_time);
    }

    pub(super) fn emit_finished(
        &self,
        leg: &Leg,
        callee: Party,
        duration: u64,
        reason: &str,
        code: Option<u16>,
    ) {
        self.sim.emit_call(
            self.key,
            CallInfo {
                account_id: None,
                call: CallRef {
                    id: leg.id.clone(),
                    tag: Some(leg.tag.clone()),
                },
                callee: Some(callee),
                caller: Some(self.setup.caller.clone()),
                duration: Some(duration),
                reason: Some(reason.to_owned()),
                reason_code: Some(code),
                start_time: None,
                state: CallState::Finished,
                transport_id: Some(leg.transport.clone()),
                direction: Some(self.setup.direction),
                url_record: None,
            },
        );
        let reason = reason.to_owned();
        self.snapshot(|s| {
            s.last_state = Some("finished");
            s.reason = Some(reason);
            s.phase = "ended";
            s.ringing.clear();
            s.talking_with = None;
        });
    }

    fn emit_recorded(&self) {
        let file = self.sim.with_rng(ids::record);
        lock(&self.sim.0.records).insert(file.clone());
        let account_id = match self.setup.direction {
            Direction::Outgoing => self.setup.operator.clone(),
            Direction::Incoming => self.partner.as_ref().map(|p| p.id().to_owned()),
        };
        let api = self.sim.0.urls.api.trim_end_matches('/');
        self.sim.emit_call(
            self.key,
            CallInfo::recorded(
                account_id,
                self.setup.main.id.clone(),
                format!("{api}/records/{file}.mp3"),
            ),
        );
    }

    pub(super) fn snapshot(&self, change: impl FnOnce(&mut CallSnapshot)) {
        lock(&self.sim.0.calls).update(self.key, change);
    }

    pub(super) fn party(&self, target: &Target) -> Party {
        let via = match self.setup.direction {
            Direction::Incoming => self.setup.external_number.as_deref(),
            Direction::Outgoing => None,
        };
        workplace_party(&self.centrex, target, via)
    }
}
