//! The state machine of a call: the phases it goes through, and the moves between them that
//! timers and the call's own plan make (commands from outside are in `command`).

use chrono::{DateTime, Utc};
use rand::Rng;

use super::task::CallTask;
use super::{passed_by_as_busy, takes_the_call};
use crate::calls::Target;
use crate::clock::after;
use crate::config::ms;
use crate::sync::lock;
use crate::wire::{CallState, Direction};

/// Where a call is in its life.
#[derive(Debug)]
pub(super) enum Phase {
    Parking {
        until: DateTime<Utc>,
    },
    Ringing {
        targets: Vec<Target>,
        until: DateTime<Utc>,
        answer_at: Option<(DateTime<Utc>, Target)>,
    },
    OperatorRinging {
        until: DateTime<Utc>,
        answer_at: Option<DateTime<Utc>>,
    },
    CalleeRinging {
        until: DateTime<Utc>,
        answer_at: Option<DateTime<Utc>>,
    },
    Talking {
        hangup_at: Option<DateTime<Utc>>,
        transfer_at: Option<(DateTime<Utc>, String)>,
    },
}

impl Phase {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Parking { .. } => "parking",
            Self::Ringing { .. } => "ringing",
            Self::OperatorRinging { .. } => "operator_ringing",
            Self::CalleeRinging { .. } => "callee_ringing",
            Self::Talking { .. } => "talking",
        }
    }

    pub(super) fn deadline(&self, give_up_at: Option<DateTime<Utc>>) -> DateTime<Utc> {
        let earliest = |a: DateTime<Utc>, b: Option<DateTime<Utc>>| b.map_or(a, |b| a.min(b));
        match self {
            Self::Parking { until } => earliest(*until, give_up_at),
            Self::Ringing {
                until, answer_at, ..
            } => earliest(
                earliest(*until, answer_at.as_ref().map(|a| a.0)),
                give_up_at,
            ),
            Self::OperatorRinging { until, answer_at } => earliest(*until, *answer_at),
            Self::CalleeRinging { until, answer_at } => {
                earliest(earliest(*until, *answer_at), give_up_at)
            }
            Self::Talking {
                hangup_at,
                transfer_at,
            } => earliest(
                earliest(DateTime::<Utc>::MAX_UTC, *hangup_at),
                transfer_at.as_ref().map(|t| t.0),
            ),
        }
    }
}

/// What a step of the state machine leads to.
pub(super) enum Next {
    Continue(Phase),
    Over,
}

/// Which side of a conversation acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    A,
    B,
}

impl CallTask {
    pub(super) fn ring_next_group(&mut self) -> Next {
        while let Some(group) = self.setup.routing.pop_front() {
            if !group.is_empty() {
                return self.ring(group);
            }
        }
        if self.found_all_busy {
            self.finish("Busy here", Some(486))
        } else {
            self.finish("No answer", Some(480))
        }
    }

    /// Rings `targets`, but for the workplaces passed by as busy; if every one of them is, the
    /// call goes on at once as if they had rung unanswered.
    pub(super) fn ring(&mut self, targets: Vec<Target>) -> Next {
        let targets: Vec<Target> = targets
            .into_iter()
            .filter(|t| !passed_by_as_busy(&self.sim, t, Some(self.key)))
            .collect();
        self.found_all_busy = targets.is_empty();
        if targets.is_empty() {
            return self.ring_next_group();
        }
        let now = self.sim.now();
        for t in &targets {
            self.emit_main(CallState::Showing, Some(self.party(t)), Some(self.started));
        }
        let answerer = self.pick_answerer(&targets);
        let answer_at = answerer.and_then(|t| {
            let delay = match t {
                Target::Workplace { .. } => self.plan.incoming_answer,
                Target::Number(_) => self.plan.callee_answer,
            };
            delay.map(|d| (after(now, d), t))
        });
        let ringing = targets.iter().map(|t| t.id().to_owned()).collect();
        self.snapshot(|s| s.ringing = ringing);
        let until = after(now, ms(self.sim.timings().ring_timeout_ms));
        Next::Continue(Phase::Ringing {
            targets,
            until,
            answer_at,
        })
    }

    /// Who picks up when the planned answer comes: the planned workplace, or, if it has gone
    /// on another call meanwhile, the first ringing one still free; nobody if all are busy.
    fn free_answerer(&self, planned: Target, targets: &[Target]) -> Option<Target> {
        let takes = |t: &Target| takes_the_call(&self.sim, t, self.key);
        if takes(&planned) {
            return Some(planned);
        }
        targets.iter().find(|t| takes(t)).cloned()
    }

    fn pick_answerer(&self, targets: &[Target]) -> Option<Target> {
        if let Some(by) = &self.plan.answer_by
            && let Some(t) = targets.iter().find(|t| t.id() == by)
        {
            return Some(t.clone());
        }
        if self.plan.answer_random && !targets.is_empty() {
            let i = self.sim.with_rng(|r| r.random_range(0..targets.len()));
            return targets.get(i).cloned();
        }
        targets.first().cloned()
    }

    pub(super) fn hide(&self, targets: &[Target]) {
        for t in targets {
            self.emit_main(CallState::Hiding, Some(self.party(t)), Some(self.started));
        }
        self.snapshot(|s| s.ringing.clear());
    }

    pub(super) fn connect(&mut self, with: Target, others: &[Target]) -> Next {
        let now = self.sim.now();
        let callee = match (&self.setup.direction, &with) {
            // The document shows the dialled number without `+` once connected.
            (Direction::Outgoing, Target::Number(n)) if *n == self.setup.to => {
                self.setup.connected_callee.clone()
            }
            _ => self.party(&with),
        };
        self.emit_main(CallState::Connected, Some(callee), Some(now));
        let rest: Vec<Target> = others.iter().filter(|t| **t != with).cloned().collect();
        self.hide(&rest);
        if self.connected_at.is_none() {
            self.connected_at = Some(now);
        }
        let talking = with.id().to_owned();
        self.snapshot(|s| s.talking_with = Some(talking));
        self.partner = Some(with);
        self.give_up_at = None;
        Next::Continue(Phase::Talking {
            hangup_at: self.plan.talk.map(|d| after(now, d)),
            transfer_at: self
                .plan
                .transfer_after
                .take()
                .map(|(d, target)| (after(now, d), target)),
        })
    }

    pub(super) fn finish(&mut self, reason: &str, code: Option<u16>) -> Next {
        let now = self.sim.now();
        let duration = self
            .connected_at
            .map(|c| u64::try_from((now - c).num_seconds()).unwrap_or(0))
            .unwrap_or(0);
        let callee = match (&self.partner, self.connected_at) {
            (Some(p), Some(_)) => match (&self.setup.direction, p) {
                (Direction::Outgoing, Target::Number(n)) if *n == self.setup.to => {
                    self.setup.connected_callee.clone()
                }
                _ => self.party(p),
            },
            _ => match self.setup.direction {
                Direction::Outgoing => self.setup.connected_callee.clone(),
                Direction::Incoming => self.setup.base_callee.clone(),
            },
        };
        let leg = self.setup.main.clone();
        self.emit_finished(&leg, callee, duration, reason, code);
        Next::Over
    }

    /// Ends the parking leg and sends the call on: to `target` if given, else along the
    /// routing.
    pub(super) fn leave_parking(&mut self, reason: &str, target: Option<Target>) -> Next {
        if let Some(parking) = self.setup.parking.clone() {
            self.emit_finished(&parking, self.setup.base_callee.clone(), 0, reason, None);
            lock(&self.sim.0.calls).forget_leg(&parking.id);
            self.snapshot(|s| {
                s.reason = None;
                s.last_state = Some("finished");
            });
        }
        self.emit_main(
            CallState::Trying,
            Some(self.setup.base_callee.clone()),
            Some(self.started),
        );
        match target {
            Some(t) => self.ring(vec![t]),
            None => self.ring_next_group(),
        }
    }

    pub(super) fn on_timer(&mut self, phase: Phase) -> Next {
        let now = self.sim.now();
        if self.give_up_at.is_some_and(|g| g <= now) {
            return self.caller_gives_up(phase);
        }
        match phase {
            Phase::Parking { until } if until <= now => self.leave_parking("Parking timeout", None),
            Phase::Ringing {
                targets,
                until,
                answer_at,
            } => match answer_at {
                Some((at, who)) if at <= now => match self.free_answerer(who, &targets) {
                    Some(who) => self.connect(who, &targets),
                    None => Next::Continue(Phase::Ringing {
                        targets,
                        until,
                        answer_at: None,
                    }),
                },
                _ if until <= now => {
                    self.hide(&targets);
                    self.ring_next_group()
                }
                answer_at => Next::Continue(Phase::Ringing {
                    targets,
                    until,
                    answer_at,
                }),
            },
            Phase::OperatorRinging { until, answer_at } => match answer_at {
                // An operator who has gone on another call meanwhile lets this one ring out.
                Some(at) if at <= now && self.operator_is_busy() => {
                    Next::Continue(Phase::OperatorRinging {
                        until,
                        answer_at: None,
                    })
                }
                Some(at) if at <= now => self.operator_answers(),
                _ if until <= now => self.finish("Originate leg no answer", Some(408)),
                answer_at => Next::Continue(Phase::OperatorRinging { until, answer_at }),
            },
            Phase::CalleeRinging { until, answer_at } => match answer_at {
                Some(at) if at <= now => {
                    let callee = Target::Number(self.setup.to.clone());
                    self.connect(callee, &[])
                }
                _ if until <= now => self.finish("No answer", Some(480)),
                answer_at => Next::Continue(Phase::CalleeRinging { until, answer_at }),
            },
            Phase::Talking {
                hangup_at,
                transfer_at,
            } => {
                if let Some((at, target)) = &transfer_at
                    && *at <= now
                {
                    // A planned transfer to whoever is already talking is no transfer at all,
                    // and a simulated person does not transfer to a colleague passed by as busy.
                    let partner = self.partner.as_ref().map(Target::id);
                    return match Target::resolve(&self.sim, target) {
                        Ok(t)
                            if Some(t.id()) != partner
                                && !passed_by_as_busy(&self.sim, &t, Some(self.key)) =>
                        {
                            self.transfer_answered(t)
                        }
                        _ => Next::Continue(Phase::Talking {
                            hangup_at,
                            transfer_at: None,
                        }),
                    };
                }
                match hangup_at {
                    Some(at) if at <= now => {
                        let side = if self.plan.caller_hangs_up {
                            Side::A
                        } else {
                            Side::B
                        };
                        self.hang_up_talking(side)
                    }
                    _ => Next::Continue(Phase::Talking {
                        hangup_at,
                        transfer_at,
                    }),
                }
            }
            phase => Next::Continue(phase),
        }
    }

    pub(super) fn caller_gives_up(&mut self, phase: Phase) -> Next {
        self.give_up_at = None;
        match phase {
            Phase::Parking { .. } => {
                if let Some(parking) = self.setup.parking.clone() {
                    self.emit_finished(
                        &parking,
                        self.setup.base_callee.clone(),
                        0,
                        "Caller hung up",
                        Some(487),
                    );
                }
                Next::Over
            }
            Phase::Ringing { targets, .. } => {
                self.hide(&targets);
                self.finish("Caller hung up", Some(487))
            }
            // The operator of a makeCall stops waiting for the callee.
            Phase::CalleeRinging { .. } => self.finish("Originate leg disconnected", Some(487)),
            phase => Next::Continue(phase),
        }
    }

    fn operator_is_busy(&self) -> bool {
        let operator = Target::Workplace {
            id: self.setup.from.clone(),
            name: String::new(),
        };
        passed_by_as_busy(&self.sim, &operator, Some(self.key))
    }

    pub(super) fn operator_answers(&mut self) -> Next {
        // The project's ruling (ARCHITECTURE.md, "click-to-call phases"): `showing` on a makeCall leg says
        // the operator has picked up and the number is being called.
        self.emit_main(
            CallState::Showing,
            Some(self.setup.base_callee.clone()),
            Some(self.started),
        );
        let now = self.sim.now();
        let until = after(now, ms(self.sim.timings().ring_timeout_ms));
        Next::Continue(Phase::CalleeRinging {
            until,
            answer_at: self.plan.callee_answer.map(|d| after(now, d)),
        })
    }

    pub(super) fn hang_up_talking(&mut self, side: Side) -> Next {
        match side {
            Side::A => self.finish("Originate leg disconnected", None),
            Side::B => self.finish("Terminate leg disconnected", None),
        }
    }

    /// transferCall on an answered call: B leaves, the target rings, the caller hears music.
    pub(super) fn transfer_answered(&mut self, target: Target) -> Next {
        if let Some(partner) = self.partner.clone() {
            self.emit_main(
                CallState::Hiding,
                Some(self.party(&partner)),
                Some(self.started),
            );
        }
        self.snapshot(|s| s.talking_with = None);
        self.setup.routing.clear();
        self.ring(vec![target])
    }
}
