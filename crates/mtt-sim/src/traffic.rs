//! The traffic generator: a realistic mix of calls at a chosen rate.
//!
//! About 60 % of generated calls are incoming (half of the callers with a name the network
//! shows, half without); of those roughly one in five is missed, one in seven is transferred
//! to a colleague mid-conversation, and the rest are answered by a random ringing workplace.
//! The other 40 % are makeCalls from a random workplace, a few of them unanswered by the
//! callee. Most connected calls are recorded. Every human delay is multiplied by the
//! configured time scale, so the same mix drives the demo (scale 1: seconds) and the
//! benchmark (scale 0.001: milliseconds).

use std::time::{Duration, Instant};

use rand::Rng;
use rand::seq::IndexedRandom;
use tokio_util::sync::CancellationToken;

use crate::calls::Target;
use crate::config::TrafficConfig;
use crate::pbx::{self, CallPlan};
use crate::state::SimState;
use crate::sync::lock;

const NAMES: &[&str] = &[
    "Соколов Игорь",
    "Мария Петрова",
    "ООО «Ромашка»",
    "Алексей",
    "Елена Викторовна Кузьмина",
    "Alexander Brown",
    "ИП Сидоров",
    "Клиника «Здоровье»",
];

const PREFIXES: &[&str] = &["7921", "7916", "7903", "7495", "7812", "7985", "7952"];

/// Starts (or restarts at a new rate) the generator.
pub(crate) fn start(sim: &SimState, config: TrafficConfig) {
    let token = sim.0.shutdown.child_token();
    if let Some(old) = lock(&sim.0.traffic).replace(token.clone()) {
        old.cancel();
    }
    tokio::spawn(run(sim.clone(), config, token));
}

/// Stops the generator; tells whether it was running.
pub(crate) fn stop(sim: &SimState) -> bool {
    match lock(&sim.0.traffic).take() {
        Some(token) => {
            token.cancel();
            true
        }
        None => false,
    }
}

async fn run(sim: SimState, config: TrafficConfig, stop: CancellationToken) {
    let began = Instant::now();
    let mut started: u64 = 0;
    // Calls are started in small batches on a short tick, so high rates do not depend on the
    // timer's resolution and low rates still start each call close to its time.
    let tick = Duration::from_secs_f64((1.0 / config.calls_per_second).clamp(0.001, 0.05));
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = interval.tick() => {}
        }
        // Truncation is intended: a call is due once a whole one has accrued.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let due = (began.elapsed().as_secs_f64() * config.calls_per_second) as u64;
        while started < due {
            started += 1;
            start_one(&sim, config.time_scale);
        }
    }
}

fn scaled(rng: &mut impl Rng, scale: f64, from_s: f64, to_s: f64) -> Duration {
    Duration::from_secs_f64(rng.random_range(from_s..to_s) * scale)
}

fn random_number(rng: &mut impl Rng) -> String {
    let prefix = PREFIXES.choose(rng).copied().unwrap_or("7921");
    let mut number = prefix.to_owned();
    while number.len() < 11 {
        number.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    number
}

/// Starts one generated call.
pub(crate) fn start_one(sim: &SimState, scale: f64) {
    let account = sim.account();
    // A person on a call does not click to call; with one call per workplace, makeCalls come
    // only from free workplaces (none free: no makeCall this time).
    let free: Vec<String> = account
        .workplaces
        .iter()
        .filter(|w| {
            let target = Target::Workplace {
                id: w.workplace.clone(),
                name: w.name.clone(),
            };
            !pbx::passed_by_as_busy(sim, &target, None)
        })
        .map(|w| w.workplace.clone())
        .collect();
    let base = CallPlan::from_timings(&sim.timings());
    let outcome = sim.with_rng(|rng| {
        let record = rng.random_bool(0.8);
        if rng.random_bool(0.6) {
            let to = account.numbers.choose(rng).map(|n| n.number.clone())?;
            let from = random_number(rng);
            let name = rng
                .random_bool(0.5)
                .then(|| NAMES.choose(rng).map(|n| (*n).to_owned()))
                .flatten();
            let roll: f64 = rng.random();
            let mut plan = CallPlan {
                record,
                answer_random: true,
                caller_hangs_up: rng.random_bool(0.5),
                ..base.clone()
            };
            if roll < 0.2 {
                // Missed: nobody picks up and the caller gives up.
                plan.incoming_answer = None;
                plan.caller_gives_up = Some(scaled(rng, scale, 4.0, 15.0));
            } else {
                plan.incoming_answer = Some(scaled(rng, scale, 1.0, 6.0));
                plan.talk = Some(scaled(rng, scale, 5.0, 60.0));
                plan.caller_gives_up = Some(scaled(rng, scale, 20.0, 25.0));
                if roll < 0.35 {
                    let colleague = account.workplaces.choose(rng).map(|w| w.workplace.clone());
                    plan.transfer_after = colleague.map(|c| (scaled(rng, scale, 2.0, 8.0), c));
                }
            }
            Some(Call::Incoming {
                from,
                to,
                name,
                plan,
            })
        } else {
            let operator = free.choose(rng).cloned()?;
            let callee = random_number(rng);
            let plan = CallPlan {
                record,
                operator_answer: Some(scaled(rng, scale, 1.0, 3.0)),
                callee_answer: rng.random_bool(0.85).then(|| scaled(rng, scale, 2.0, 8.0)),
                talk: Some(scaled(rng, scale, 5.0, 90.0)),
                caller_hangs_up: rng.random_bool(0.5),
                caller_gives_up: Some(scaled(rng, scale, 12.0, 20.0)),
                ..base.clone()
            };
            Some(Call::Outgoing {
                operator,
                callee,
                plan,
            })
        }
    });
    let result = match outcome {
        Some(Call::Incoming {
            from,
            to,
            name,
            plan,
        }) => pbx::incoming(sim, &from, &to, name, plan).map(|_| ()),
        Some(Call::Outgoing {
            operator,
            callee,
            plan,
        }) => pbx::make_call(sim, &operator, &callee, plan).map(|_| ()),
        None => Ok(()),
    };
    if let Err(e) = result {
        tracing::debug!(error = %e.message, "a generated call could not start");
    }
}

enum Call {
    Incoming {
        from: String,
        to: String,
        name: Option<String>,
        plan: CallPlan,
    },
    Outgoing {
        operator: String,
        callee: String,
        plan: CallPlan,
    },
}
