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

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::account::Addressee;
use crate::api::ApiError;
use crate::clock::after;
use crate::config::{Timings, ms};
use crate::ids;
use crate::state::{SimState, lock, moscow_time};
use crate::wire::{CallInfo, CallRef, CallState, Direction, LegRef, Party};

/// Calls kept after they end, for the control API.
const RECENT_CALLS: usize = 200;

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

/// Where a call can be sent.
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

    /// The SIP ID or number.
    pub fn id(&self) -> &str {
        match self {
            Self::Workplace { id, .. } | Self::Number(id) => id,
        }
    }
}

fn check_number(field: &str, value: &str) -> Result<(), ApiError> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    if (3..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_number",
            format!("{field} {value:?} is neither a workplace nor a telephone number"),
        ))
    }
}

/// A Russian number as the PBX shows it while dialling: `89219462761` → `+79219462761`.
fn with_plus(number: &str) -> String {
    let digits = number.strip_prefix('+').unwrap_or(number);
    if digits.len() == 11 && (digits.starts_with('8') || digits.starts_with('7')) {
        format!("+7{}", &digits[1..])
    } else if number.starts_with('+') || digits.len() < 11 {
        number.to_owned()
    } else {
        format!("+{digits}")
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

type Reply = oneshot::Sender<Result<(), ApiError>>;

#[derive(Debug)]
enum Command {
    Leg {
        leg_id: String,
        command: LegCommand,
        reply: Reply,
    },
    Answer {
        by: Option<String>,
        reply: Reply,
    },
    Hangup {
        by: Option<String>,
        reply: Reply,
    },
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

#[derive(Debug, Clone)]
struct LegIndex {
    key: u64,
    tag: String,
    transport: String,
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
    fn remove(&mut self, key: u64) {
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
}

/// Calls in progress and, with `include_ended`, recently ended ones.
pub(crate) fn snapshots(sim: &SimState, include_ended: bool) -> Vec<CallSnapshot> {
    let registry = lock(&sim.0.calls);
    let mut calls: Vec<CallSnapshot> = registry
        .active
        .values()
        .map(|c| c.snapshot.clone())
        .collect();
    calls.sort_by_key(|c| c.key);
    if include_ended {
        let mut all: Vec<CallSnapshot> = registry.recent.iter().cloned().collect();
        all.extend(calls);
        return all;
    }
    calls
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

#[derive(Debug, Clone)]
struct Leg {
    id: String,
    tag: String,
    transport: String,
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

fn number_party(number: &str) -> Party {
    Party {
        display_id: number.to_owned(),
        id: number.to_owned(),
        ..Party::default()
    }
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

fn workplace_party(centrex: &str, target: &Target, via: Option<&str>) -> Party {
    match target {
        Target::Workplace { id, name } => Party {
            account_id: Some(id.clone()),
            centrex_id: Some(centrex.to_owned()),
            display_id: id.clone(),
            display_name: Some(name.clone()),
            forwarder_list: via.map(|v| vec![v.to_owned()]).unwrap_or_default(),
            id: id.clone(),
        },
        Target::Number(n) => Party {
            forwarder_list: via.map(|v| vec![v.to_owned()]).unwrap_or_default(),
            ..number_party(n)
        },
    }
}

/// Everything a call task starts from.
#[derive(Debug)]
struct Setup {
    direction: Direction,
    main: Leg,
    parking: Option<Leg>,
    caller: Party,
    /// Callee as announced in `trying`/`showing`.
    base_callee: Party,
    /// Callee as shown once connected (outgoing: the number without `+`).
    connected_callee: Party,
    from: String,
    to: String,
    caller_name: Option<String>,
    operator: Option<String>,
    make_call_id: Option<String>,
    routing: VecDeque<Vec<Target>>,
    external_number: Option<String>,
}

fn spawn(sim: &SimState, setup: Setup, plan: CallPlan, answer_id: String) -> StartedCall {
    let (tx, rx) = mpsc::unbounded_channel();
    let now = sim.now();
    let mut legs = vec![setup.main.view("main")];
    if let Some(p) = &setup.parking {
        legs.push(p.view("parking"));
    }
    let key = {
        let mut registry = lock(&sim.0.calls);
        registry.next_key += 1;
        let key = registry.next_key;
        for leg in setup.parking.iter().chain(std::iter::once(&setup.main)) {
            registry.legs.insert(
                leg.id.clone(),
                LegIndex {
                    key,
                    tag: leg.tag.clone(),
                    transport: leg.transport.clone(),
                },
            );
        }
        if let Some(id) = &setup.make_call_id {
            registry.make_call_ids.insert(id.clone(), key);
        }
        registry.active.insert(
            key,
            ActiveCall {
                tx,
                snapshot: CallSnapshot {
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
                },
            },
        );
        key
    };
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
    };
    tokio::spawn(task.run());
    started
}

/// Finds the call a control request names: its key, a leg id or makeCall's answer id.
fn find_call(sim: &SimState, call: &str) -> Option<mpsc::UnboundedSender<Command>> {
    let registry = lock(&sim.0.calls);
    let key = call
        .parse::<u64>()
        .ok()
        .filter(|k| registry.active.contains_key(k))
        .or_else(|| registry.legs.get(call).map(|l| l.key))
        .or_else(|| registry.make_call_ids.get(call).copied())?;
    registry.active.get(&key).map(|c| c.tx.clone())
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
    let (index, tx) = {
        let registry = lock(&sim.0.calls);
        let index = registry.legs.get(&leg.id).cloned().ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_leg",
                format!("no call leg with id {:?} is in progress", leg.id),
            )
        })?;
        let tx = registry.active.get(&index.key).map(|c| c.tx.clone());
        (index, tx)
    };
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
    let tx = find_call(sim, call).ok_or_else(|| unknown_call(call))?;
    ask(tx, |reply| Command::Answer { by, reply }).await
}

/// Hang up as a party (control API).
pub(crate) async fn hangup(sim: &SimState, call: &str, by: Option<String>) -> Result<(), ApiError> {
    let tx = find_call(sim, call).ok_or_else(|| unknown_call(call))?;
    ask(tx, |reply| Command::Hangup { by, reply }).await
}

fn unknown_call(call: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_call",
        format!("no call {call:?} is in progress (give its key, a leg id or makeCall's id)"),
    )
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "wrong_state", message)
}

/// Where a call is in its life.
#[derive(Debug)]
enum Phase {
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
    fn name(&self) -> &'static str {
        match self {
            Self::Parking { .. } => "parking",
            Self::Ringing { .. } => "ringing",
            Self::OperatorRinging { .. } => "operator_ringing",
            Self::CalleeRinging { .. } => "callee_ringing",
            Self::Talking { .. } => "talking",
        }
    }

    fn deadline(&self, give_up_at: Option<DateTime<Utc>>) -> DateTime<Utc> {
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
enum Next {
    Continue(Phase),
    Over,
}

/// Which side of a conversation acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
}

struct CallTask {
    sim: SimState,
    key: u64,
    rx: mpsc::UnboundedReceiver<Command>,
    setup: Setup,
    plan: CallPlan,
    centrex: String,
    started: DateTime<Utc>,
    connected_at: Option<DateTime<Utc>>,
    /// Who B is in the conversation (or was last).
    partner: Option<Target>,
    give_up_at: Option<DateTime<Utc>>,
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

    fn emit_main(
        &self,
        state: CallState,
        callee: Option<Party>,
        start_time: Option<DateTime<Utc>>,
    ) {
        let leg = self.setup.main.clone();
        self.emit_leg(&leg, state, callee, start_time);
    }

    fn emit_finished(
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

    fn snapshot(&self, change: impl FnOnce(&mut CallSnapshot)) {
        if let Some(call) = lock(&self.sim.0.calls).active.get_mut(&self.key) {
            change(&mut call.snapshot);
        }
    }

    fn party(&self, target: &Target) -> Party {
        let via = match self.setup.direction {
            Direction::Incoming => self.setup.external_number.as_deref(),
            Direction::Outgoing => None,
        };
        workplace_party(&self.centrex, target, via)
    }

    // ----- transitions -----

    fn ring_next_group(&mut self) -> Next {
        while let Some(group) = self.setup.routing.pop_front() {
            if !group.is_empty() {
                return self.ring(group);
            }
        }
        self.finish("No answer", Some(480))
    }

    fn ring(&mut self, targets: Vec<Target>) -> Next {
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

    fn hide(&self, targets: &[Target]) {
        for t in targets {
            self.emit_main(CallState::Hiding, Some(self.party(t)), Some(self.started));
        }
        self.snapshot(|s| s.ringing.clear());
    }

    fn connect(&mut self, with: Target, others: &[Target]) -> Next {
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

    fn finish(&mut self, reason: &str, code: Option<u16>) -> Next {
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
    fn leave_parking(&mut self, reason: &str, target: Option<Target>) -> Next {
        if let Some(parking) = self.setup.parking.clone() {
            self.emit_finished(&parking, self.setup.base_callee.clone(), 0, reason, None);
            lock(&self.sim.0.calls).legs.remove(&parking.id);
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

    fn on_timer(&mut self, phase: Phase) -> Next {
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
                Some((at, who)) if at <= now => self.connect(who, &targets),
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
                    // A planned transfer to whoever is already talking is no transfer at all.
                    let partner = self.partner.as_ref().map(Target::id);
                    return match Target::resolve(&self.sim, target) {
                        Ok(t) if Some(t.id()) != partner => self.transfer_answered(t),
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

    fn caller_gives_up(&mut self, phase: Phase) -> Next {
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

    fn operator_answers(&mut self) -> Next {
        // The project's ruling (API.md, "click-to-call phases"): `showing` on a makeCall leg says
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

    fn hang_up_talking(&mut self, side: Side) -> Next {
        match side {
            Side::A => self.finish("Originate leg disconnected", None),
            Side::B => self.finish("Terminate leg disconnected", None),
        }
    }

    /// transferCall on an answered call: B leaves, the target rings, the caller hears music.
    fn transfer_answered(&mut self, target: Target) -> Next {
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

    fn is_side_a(&self, by: &str) -> bool {
        by == "caller" || Some(by) == self.setup.operator.as_deref() || by == self.setup.from
    }

    fn on_command(&mut self, phase: Phase, command: Command) -> Next {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialled_numbers_are_shown_like_the_document() {
        assert_eq!(with_plus("89219462761"), "+79219462761");
        assert_eq!(with_plus("79219462761"), "+79219462761");
        assert_eq!(with_plus("+79219462761"), "+79219462761");
        assert_eq!(with_plus("101"), "101");
    }

    #[test]
    fn numbers_are_checked() {
        assert!(check_number("x", "+79219462761").is_ok());
        assert!(check_number("x", "12").is_err());
        assert!(check_number("x", "7921abc").is_err());
    }
}
