//! Regular callers: the sample phonebook's contacts phone in now and then while the demo's
//! traffic runs, so the popup shows a known caller's company and routing by personal manager
//! has callers to route. The simulator's own traffic calls from random numbers, which no
//! phonebook would know. The calls go through the simulator's control API, as a script would.

use std::time::Duration;

use tokio::task::JoinHandle;

/// The share of the demo's call rate that comes from regular callers.
const SHARE: f64 = 0.25;

/// The running regular callers; they stop when this is dropped.
#[derive(Debug)]
pub(crate) struct Regulars(JoinHandle<()>);

impl Drop for Regulars {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Who calls, which numbers they call and how fast.
pub(crate) struct Plan {
    /// The simulator's control address.
    pub control_url: String,
    /// Regular callers' numbers.
    pub callers: Vec<String>,
    /// The account's external numbers they call.
    pub numbers: Vec<String>,
    /// The demo's calls per second (the regulars make a quarter of that again).
    pub calls_per_second: f64,
    /// Factor on the simulated people's delays.
    pub time_scale: f64,
    /// Seeds the choice of caller, number and outcome.
    pub seed: u64,
}

/// Starts the regular callers, or nothing when there is no traffic or nobody to call.
pub(crate) fn start(plan: Plan) -> Option<Regulars> {
    let rate = plan.calls_per_second * SHARE;
    if !(rate.is_finite() && rate > 0.0) || plan.callers.is_empty() || plan.numbers.is_empty() {
        return None;
    }
    let http = match reqwest::Client::builder()
        // The simulator is on loopback: a proxy from the environment must not be asked.
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(http) => http,
        Err(e) => {
            tracing::warn!(error = %e, "the demo's regular callers could not start");
            return None;
        }
    };
    Some(Regulars(tokio::spawn(run(plan, rate, http))))
}

async fn run(plan: Plan, rate: f64, http: reqwest::Client) {
    let mut dice = Dice(plan.seed | 1);
    let url = format!("{}/incoming", plan.control_url.trim_end_matches('/'));
    loop {
        // Spread around the mean gap, so the regulars do not call like a clock.
        let gap = (0.5 + dice.unit()) / rate;
        tokio::time::sleep(Duration::from_secs_f64(gap.min(3600.0))).await;
        let body = call(&plan, &mut dice);
        match http.post(&url).json(&body).send().await {
            Ok(answer) if answer.status().is_success() => {}
            Ok(answer) => tracing::debug!(status = %answer.status(), "a regular call was refused"),
            Err(e) => tracing::debug!(error = %e, "a regular call did not reach the simulator"),
        }
    }
}

/// One regular's call: most are answered and recorded, one in five rings out.
fn call(plan: &Plan, dice: &mut Dice) -> serde_json::Value {
    let from = dice.pick(&plan.callers);
    let to = dice.pick(&plan.numbers);
    let ms = |dice: &mut Dice, from_s: f64, to_s: f64| {
        let secs = (from_s + dice.unit() * (to_s - from_s)) * plan.time_scale;
        // Whole milliseconds are all the simulator takes.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ms = (secs * 1000.0).max(1.0) as u64;
        ms
    };
    if dice.unit() < 0.2 {
        serde_json::json!({
            "from": from, "to": to, "manual": true,
            "caller_gives_up_ms": ms(dice, 4.0, 12.0),
        })
    } else {
        serde_json::json!({
            "from": from, "to": to, "record": true,
            "answer_after_ms": ms(dice, 1.0, 6.0),
            "talk_ms": ms(dice, 5.0, 40.0),
            "caller_hangs_up": dice.unit() < 0.5,
        })
    }
}

/// A small xorshift generator: the demo needs variety, not statistics.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        // The top 53 bits fit an f64's mantissa exactly.
        #[allow(clippy::cast_precision_loss)]
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        unit
    }

    fn pick<'a>(&mut self, from: &'a [String]) -> &'a str {
        let len = u64::try_from(from.len()).unwrap_or(1).max(1);
        let index = usize::try_from(self.next() % len).unwrap_or(0);
        from.get(index).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            control_url: "http://127.0.0.1:1/control".into(),
            callers: vec!["79215550110".into(), "79035550330".into()],
            numbers: vec!["78005560251".into()],
            calls_per_second: 1.0,
            time_scale: 1.0,
            seed: 7,
        }
    }

    #[test]
    fn calls_come_from_the_regulars_to_the_accounts_numbers_with_both_outcomes() {
        let plan = plan();
        let mut dice = Dice(plan.seed);
        let calls: Vec<_> = (0..200).map(|_| call(&plan, &mut dice)).collect();
        for c in &calls {
            assert!(plan.callers.iter().any(|n| c["from"] == n.as_str()), "{c}");
            assert_eq!(c["to"], "78005560251");
        }
        let missed = calls.iter().filter(|c| c["manual"] == true).count();
        assert!(
            (10..80).contains(&missed),
            "about one in five rings out: {missed}"
        );
        assert!(calls.iter().any(|c| c["talk_ms"].as_u64() > Some(4000)));
    }

    #[test]
    fn no_traffic_or_nobody_to_call_starts_nothing() {
        let none = Plan {
            calls_per_second: 0.0,
            ..plan()
        };
        assert!(start(none).is_none());
        let nobody = Plan {
            callers: Vec::new(),
            ..plan()
        };
        assert!(start(nobody).is_none());
    }
}
