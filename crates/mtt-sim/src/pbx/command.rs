//! What a command does to a call in each phase: terminateCall and transferCall on a leg, a
//! party answering or hanging up. A command the phase does not allow is refused with 409 and
//! the call stays as it was.

use axum::http::StatusCode;

use super::phase::{Next, Phase, Side};
use super::task::CallTask;
use crate::api_error::ApiError;
use crate::calls::{Command, LegCommand, Target};
use crate::wire::Direction;

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "wrong_state", message)
}

impl CallTask {
    fn is_side_a(&self, by: &str) -> bool {
        by == "caller" || Some(by) == self.setup.operator.as_deref() || by == self.setup.from
    }

    pub(super) fn on_command(&mut self, phase: Phase, command: Command) -> Next {
        let (outcome, next) = match command {
            Command::Leg {
                leg_id,
                command,
                reply,
            } => {
                let is_parking = self.setup.parking.as_ref().is_some_and(|p| p.id == leg_id);
                let r = self.on_leg_command(phase, is_parking, command);
                (reply, r)
            }
            Command::Answer { by, reply } => (reply, self.on_answer(phase, by)),
            Command::Hangup { by, reply } => (reply, self.on_hangup(phase, by)),
        };
        match next {
            Ok(next) => {
                let _ = outcome.send(Ok(()));
                next
            }
            Err((error, phase)) => {
                let _ = outcome.send(Err(error));
                Next::Continue(phase)
            }
        }
    }

    #[allow(
        clippy::result_large_err,
        reason = "a refusal hands the phase back once per command; boxing buys nothing"
    )]
    fn on_leg_command(
        &mut self,
        phase: Phase,
        is_parking: bool,
        command: LegCommand,
    ) -> Result<Next, (ApiError, Phase)> {
        match (phase, is_parking, command) {
            (Phase::Parking { .. }, true, LegCommand::Terminate) => {
                Ok(self.leave_parking("Parking terminated by API", None))
            }
            (Phase::Parking { .. }, true, LegCommand::Transfer(t)) => {
                Ok(self.leave_parking("Parking transferred by API", Some(t)))
            }
            (phase @ Phase::Parking { .. }, false, _) => Err((
                conflict("the call is parked: terminate or transfer its parking leg"),
                phase,
            )),
            (phase, true, _) => Err((conflict("the parking leg has already ended"), phase)),
            (Phase::Ringing { targets, .. }, false, LegCommand::Transfer(t)) => {
                self.hide(&targets);
                Ok(self.ring(vec![t]))
            }
            (Phase::Ringing { targets, .. }, false, LegCommand::Terminate) => {
                self.hide(&targets);
                if self.connected_at.is_some() {
                    Ok(self.finish("Terminated by API", None))
                } else {
                    Ok(self.ring_next_group())
                }
            }
            (phase @ Phase::OperatorRinging { .. }, false, LegCommand::Transfer(_)) => Err((
                conflict("the operator has not answered yet; there is nothing to transfer"),
                phase,
            )),
            (
                Phase::OperatorRinging { .. } | Phase::CalleeRinging { .. },
                false,
                LegCommand::Terminate,
            ) => Ok(self.finish("Terminated by API", None)),
            (Phase::CalleeRinging { .. }, false, LegCommand::Transfer(t)) => Ok(self.ring(vec![t])),
            (Phase::Talking { .. }, false, LegCommand::Transfer(t)) => {
                Ok(self.transfer_answered(t))
            }
            (Phase::Talking { .. }, false, LegCommand::Terminate) => {
                Ok(self.finish("Terminated by API", None))
            }
        }
    }

    #[allow(
        clippy::result_large_err,
        reason = "a refusal hands the phase back once per command; boxing buys nothing"
    )]
    fn on_answer(&mut self, phase: Phase, by: Option<String>) -> Result<Next, (ApiError, Phase)> {
        match phase {
            Phase::Ringing {
                targets,
                until,
                answer_at,
            } => {
                let who = match by.as_deref() {
                    None | Some("callee") => targets.first().cloned(),
                    Some(id) => targets.iter().find(|t| t.id() == id).cloned(),
                };
                match who {
                    Some(t) => Ok(self.connect(t, &targets)),
                    None => Err((
                        conflict(format!(
                            "{} is not ringing for this call",
                            by.unwrap_or_default()
                        )),
                        Phase::Ringing {
                            targets,
                            until,
                            answer_at,
                        },
                    )),
                }
            }
            Phase::OperatorRinging { until, answer_at } => match by.as_deref() {
                None => Ok(self.operator_answers()),
                Some(b) if self.is_side_a(b) => Ok(self.operator_answers()),
                Some(b) => Err((
                    conflict(format!("the operator's workplace rings now, not {b}")),
                    Phase::OperatorRinging { until, answer_at },
                )),
            },
            Phase::CalleeRinging { until, answer_at } => match by.as_deref() {
                None | Some("callee") => {
                    Ok(self.connect(Target::Number(self.setup.to.clone()), &[]))
                }
                Some(b) if b == self.setup.to => {
                    Ok(self.connect(Target::Number(self.setup.to.clone()), &[]))
                }
                Some(b) => Err((
                    conflict(format!("the callee {} rings now, not {b}", self.setup.to)),
                    Phase::CalleeRinging { until, answer_at },
                )),
            },
            phase => Err((
                conflict(format!("the call is {}, not ringing", phase.name())),
                phase,
            )),
        }
    }

    #[allow(
        clippy::result_large_err,
        reason = "a refusal hands the phase back once per command; boxing buys nothing"
    )]
    fn on_hangup(&mut self, phase: Phase, by: Option<String>) -> Result<Next, (ApiError, Phase)> {
        let by_a = by.as_deref().is_some_and(|b| self.is_side_a(b));
        match phase {
            Phase::Parking { until } => {
                if by.is_none() || by_a {
                    Ok(self.caller_gives_up(Phase::Parking { until }))
                } else {
                    Err((
                        conflict("a parked call rings nobody yet"),
                        Phase::Parking { until },
                    ))
                }
            }
            Phase::Ringing {
                targets,
                until,
                answer_at,
            } => {
                if by.is_none() || by_a {
                    return Ok(self.caller_gives_up(Phase::Ringing {
                        targets,
                        until,
                        answer_at,
                    }));
                }
                let by = by.unwrap_or_default();
                let (declined, still): (Vec<Target>, Vec<Target>) = if by == "callee" {
                    (targets, Vec::new())
                } else {
                    targets.into_iter().partition(|t| t.id() == by)
                };
                if declined.is_empty() {
                    return Err((
                        conflict(format!("{by} is not ringing for this call")),
                        Phase::Ringing {
                            targets: still,
                            until,
                            answer_at,
                        },
                    ));
                }
                self.hide(&declined);
                if still.is_empty() {
                    return Ok(self.ring_next_group());
                }
                let ringing = still.iter().map(|t| t.id().to_owned()).collect();
                self.snapshot(|s| s.ringing = ringing);
                let answer_at = answer_at.filter(|(_, t)| still.contains(t));
                Ok(Next::Continue(Phase::Ringing {
                    targets: still,
                    until,
                    answer_at,
                }))
            }
            Phase::OperatorRinging { .. } => Ok(self.finish("Originate leg declined", Some(603))),
            Phase::CalleeRinging { .. } => {
                if by.as_deref() == Some("callee") || by.as_deref() == Some(self.setup.to.as_str())
                {
                    Ok(self.finish("Busy here", Some(486)))
                } else {
                    Ok(self.finish("Originate leg disconnected", Some(487)))
                }
            }
            Phase::Talking {
                hangup_at,
                transfer_at,
            } => {
                let partner = self.partner.as_ref().map(|p| p.id().to_owned());
                let side = match (self.setup.direction, by.as_deref()) {
                    (_, Some(_)) if by_a => Side::A,
                    (Direction::Outgoing, None) => Side::A,
                    (Direction::Incoming, None) => Side::B,
                    (_, Some(b)) if b == "callee" || Some(b) == partner.as_deref() => Side::B,
                    (_, Some(b)) => {
                        return Err((
                            conflict(format!("{b} is not a party of this conversation")),
                            Phase::Talking {
                                hangup_at,
                                transfer_at,
                            },
                        ));
                    }
                };
                Ok(self.hang_up_talking(side))
            }
        }
    }
}
