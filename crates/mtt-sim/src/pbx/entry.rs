//! The PBX's entry points: starting a call (makeCall, an incoming call from the control API or
//! the traffic generator) and commanding a running one (terminateCall and transferCall on a
//! leg, a party answering or hanging up), which go to the call's task as commands.

use std::collections::VecDeque;

use axum::http::StatusCode;
use tokio::sync::{mpsc, oneshot};

use super::party::{check_number, number_party, with_plus, workplace_party};
use super::task::{Leg, Setup, spawn};
use super::{CallPlan, StartedCall};
use crate::account::Addressee;
use crate::api_error::ApiError;
use crate::calls::{CallSnapshot, Command, LegCommand, Reply, Target};
use crate::ids;
use crate::state::SimState;
use crate::sync::lock;
use crate::wire::{Direction, LegRef, Party};

/// Calls in progress and, with `include_ended`, recently ended ones.
pub(crate) fn snapshots(sim: &SimState, include_ended: bool) -> Vec<CallSnapshot> {
    lock(&sim.0.calls).snapshots(include_ended)
}

/// Starts a makeCall from workplace `caller_id` to `callee_id`.
pub(crate) fn make_call(
    sim: &SimState,
    caller_id: &str,
    callee_id: &str,
    plan: CallPlan,
) -> Result<StartedCall, ApiError> {
    if caller_id.is_empty() || callee_id.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_params",
            "callerId and calleeId must not be empty",
        ));
    }
    let (centrex, outgoing_number, callee_kind) = {
        let account = lock(&sim.0.account);
        match account.classify(caller_id) {
            Addressee::Workplace(_) => {}
            Addressee::Terminal(workplace) => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "not_a_workplace",
                    format!(
                        "callerId {caller_id} is a terminal of workplace {workplace}; makeCall takes a workplace's SIP ID, not a terminal's"
                    ),
                ));
            }
            Addressee::Number => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_workplace",
                    format!("callerId {caller_id} is not a workplace of this account"),
                ));
            }
        }
        (
            account.centrex_id.clone(),
            account.outgoing_number.clone(),
            account.classify(callee_id),
        )
    };
    let (dialled, connected_callee) = match callee_kind {
        Addressee::Number => {
            check_number("calleeId", callee_id)?;
            let plus = with_plus(callee_id);
            let bare = plus.trim_start_matches('+').to_owned();
            (number_party(&plus), number_party(&bare))
        }
        Addressee::Workplace(_) | Addressee::Terminal(_) => {
            let target = Target::resolve(sim, callee_id)?;
            let party = workplace_party(&centrex, &target, None);
            (party.clone(), party)
        }
    };
    let caller = Party {
        account_id: Some(caller_id.to_owned()),
        centrex_id: Some(centrex),
        display_id: outgoing_number.clone(),
        display_name: None,
        forwarder_list: Vec::new(),
        id: outgoing_number,
    };
    let (leg, originate) = sim.with_rng(|r| {
        let (id, tag) = ids::outgoing_leg(r);
        let transport = ids::transport(r, false);
        (Leg { id, tag, transport }, ids::originate_id(r))
    });
    let answer_id = if sim.0.config.make_call_id_is_leg_id {
        leg.id.clone()
    } else {
        originate
    };
    let setup = Setup {
        direction: Direction::Outgoing,
        main: leg,
        parking: None,
        caller,
        base_callee: dialled,
        connected_callee,
        from: caller_id.to_owned(),
        to: callee_id.to_owned(),
        caller_name: None,
        operator: Some(caller_id.to_owned()),
        make_call_id: Some(answer_id.clone()),
        routing: VecDeque::new(),
        external_number: None,
    };
    Ok(spawn(sim, setup, plan, answer_id))
}

/// Starts an incoming call from `from` to the account's external number `to`.
pub(crate) fn incoming(
    sim: &SimState,
    from: &str,
    to: &str,
    caller_name: Option<String>,
    plan: CallPlan,
) -> Result<StartedCall, ApiError> {
    check_number("from", from)?;
    let (centrex, parked, routing) = {
        let account = lock(&sim.0.account);
        if !account.has_number(to) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_number",
                format!("{to} is not an external number of this account"),
            ));
        }
        let routing: VecDeque<Vec<Target>> = account
            .routing
            .iter()
            .map(|group| {
                group
                    .iter()
                    .filter_map(|w| {
                        account.workplace(w).map(|wp| Target::Workplace {
                            id: wp.workplace.clone(),
                            name: wp.name.clone(),
                        })
                    })
                    .collect()
            })
            .collect();
        (
            account.centrex_id.clone(),
            account.parked.contains(to),
            routing,
        )
    };
    let caller = Party {
        account_id: Some(format!("{from}@pstn")),
        centrex_id: None,
        display_id: from.to_owned(),
        display_name: caller_name.clone().filter(|n| !n.is_empty()),
        forwarder_list: Vec::new(),
        id: from.to_owned(),
    };
    let callee = Party {
        account_id: Some(to.to_owned()),
        centrex_id: Some(centrex),
        display_id: to.to_owned(),
        display_name: Some(String::new()),
        forwarder_list: Vec::new(),
        id: to.to_owned(),
    };
    let (main, parking) = sim.with_rng(|r| {
        let (id, tag) = ids::incoming_leg(r);
        let transport = ids::transport(r, true);
        let main = Leg { id, tag, transport };
        let parking = parked.then(|| {
            let (id, tag) = ids::parking_leg(r);
            Leg {
                id,
                tag,
                transport: main.transport.clone(),
            }
        });
        (main, parking)
    });
    let setup = Setup {
        direction: Direction::Incoming,
        main: main.clone(),
        parking,
        caller,
        base_callee: callee.clone(),
        connected_callee: callee,
        from: from.to_owned(),
        to: to.to_owned(),
        caller_name,
        operator: None,
        make_call_id: None,
        routing,
        external_number: Some(to.to_owned()),
    };
    Ok(spawn(sim, setup, plan, main.id))
}

async fn ask(
    tx: mpsc::UnboundedSender<Command>,
    make: impl FnOnce(Reply) -> Command,
) -> Result<(), ApiError> {
    let (reply, answer) = oneshot::channel();
    let gone = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "call_ended",
            "the call has already ended",
        )
    };
    tx.send(make(reply)).map_err(|_| gone())?;
    answer.await.map_err(|_| gone())?
}

/// terminateCall / transferCall on a leg named by id, tag and transport id.
pub(crate) async fn leg_command(
    sim: &SimState,
    leg: &LegRef,
    transport_id: &str,
    command: LegCommand,
) -> Result<(), ApiError> {
    let (index, tx) = lock(&sim.0.calls).leg(&leg.id).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_leg",
            format!("no call leg with id {:?} is in progress", leg.id),
        )
    })?;
    if index.tag != leg.tag {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_tag",
            format!("leg {:?} has no tag {:?}", leg.id, leg.tag),
        ));
    }
    if index.transport != transport_id {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_transport",
            format!("leg {:?} is not on transport {transport_id:?}", leg.id),
        ));
    }
    let tx = tx.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "call_ended",
            "the call has already ended",
        )
    })?;
    let leg_id = leg.id.clone();
    ask(tx, |reply| Command::Leg {
        leg_id,
        command,
        reply,
    })
    .await
}

/// Answer as a party (control API). `by`: a workplace id, `caller`, `callee` or nobody in
/// particular.
pub(crate) async fn answer(sim: &SimState, call: &str, by: Option<String>) -> Result<(), ApiError> {
    let tx = lock(&sim.0.calls)
        .find(call)
        .ok_or_else(|| unknown_call(call))?;
    ask(tx, |reply| Command::Answer { by, reply }).await
}

/// Hang up as a party (control API).
pub(crate) async fn hangup(sim: &SimState, call: &str, by: Option<String>) -> Result<(), ApiError> {
    let tx = lock(&sim.0.calls)
        .find(call)
        .ok_or_else(|| unknown_call(call))?;
    ask(tx, |reply| Command::Hangup { by, reply }).await
}

fn unknown_call(call: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_call",
        format!("no call {call:?} is in progress (give its key, a leg id or makeCall's id)"),
    )
}
