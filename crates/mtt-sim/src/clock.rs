//! Time for the simulated PBX: real, scaled, or a manual clock that tests advance.
//!
//! Every timer of the call state machine (parking window, ring and answer delays, token
//! lifetimes) goes through [`Clock`], so a test can run with real delays, run simulated time
//! faster than real time ([`ScaledClock`]: three simulated days of token lifetime in seconds),
//! or freeze time and step it explicitly ([`ManualClock`]). Injected network latency and webhook
//! timeouts are *not* simulated time: they are real waiting, because they exist to test a
//! client's deadlines.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::sync::lock;

/// A future returned by [`Clock::sleep_until`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The fastest a [`ScaledClock`] may run: a billion simulated seconds per real one is far past
/// any use and still keeps the arithmetic exact enough.
pub const MAX_SCALE: f64 = 1e9;

/// The simulator's source of time.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
    /// A future that completes once [`Clock::now`] has reached `deadline`.
    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep;
    /// How many simulated seconds pass per real second, if the clock runs on its own.
    fn scale(&self) -> Option<f64> {
        None
    }
    /// Changes how fast simulated time runs from now on.
    fn set_scale(&self, scale: f64) -> Result<(), ClockRefusal> {
        let _ = scale;
        Err(ClockRefusal(
            "this simulator's clock runs at a fixed pace (start it with a scaled clock)".into(),
        ))
    }
    /// Moves simulated time forward at once, waking every sleeper whose deadline has passed.
    fn advance(&self, by: Duration) -> Result<(), ClockRefusal> {
        let _ = by;
        Err(ClockRefusal(
            "this simulator's clock follows the wall clock and cannot jump".into(),
        ))
    }
}

/// Why a clock refused a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ClockRefusal(pub String);

/// Checks a scale for [`ScaledClock`]: a finite number above zero, at most [`MAX_SCALE`].
pub fn check_scale(scale: f64) -> Result<(), ClockRefusal> {
    if scale.is_finite() && scale > 0.0 && scale <= MAX_SCALE {
        Ok(())
    } else {
        Err(ClockRefusal(format!(
            "the clock scale must be a number above 0 and at most {MAX_SCALE}, not {scale}"
        )))
    }
}

/// Wall-clock time and tokio timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        // A year stands in for "never": tokio timers do not need to reach further.
        let wait = (deadline - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(Duration::from_secs(365 * 24 * 3600));
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that only moves when [`ManualClock::advance`] is called.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<watch::Sender<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock frozen at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        let (now, _) = watch::channel(start);
        Self { now: Arc::new(now) }
    }

    /// Moves time forward, waking every sleeper whose deadline has passed.
    pub fn advance(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        self.now.send_modify(|now| *now += by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn advance(&self, by: Duration) -> Result<(), ClockRefusal> {
        ManualClock::advance(self, by);
        Ok(())
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            loop {
                if *rx.borrow_and_update() >= deadline {
                    return;
                }
                if rx.changed().await.is_err() {
                    // The clock is gone, so time can never reach the deadline.
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}

/// Simulated time that runs `scale` times as fast as real time, from the moment it was made
/// (scale 1 is the wall clock's pace). The scale can change while it runs, and time can jump
/// forward; sleepers wake at the right simulated moment either way.
///
/// It measures real time with tokio's monotonic clock, so a test that pauses tokio's time
/// pauses the simulation too, and a wall-clock step (NTP) does not jump simulated time.
#[derive(Debug, Clone)]
pub struct ScaledClock {
    inner: Arc<ScaledInner>,
}

#[derive(Debug)]
struct ScaledInner {
    anchor: Mutex<Anchor>,
    /// Bumped on every change of the anchor, so sleepers compute their wait again.
    changed: watch::Sender<u64>,
}

/// Simulated time was `sim` at the real instant `real`, and runs `scale` times as fast since.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    real: Instant,
    sim: DateTime<Utc>,
    scale: f64,
}

impl Anchor {
    fn now(&self, real_now: Instant) -> DateTime<Utc> {
        let real = real_now.saturating_duration_since(self.real).as_secs_f64();
        let simulated = Duration::try_from_secs_f64(real * self.scale).unwrap_or(Duration::MAX);
        after(self.sim, simulated)
    }
}

/// A real wait of `s` seconds, at most a year: tokio timers do not need to reach further.
fn real_wait(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(YEAR).min(YEAR)
}

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

impl ScaledClock {
    /// A clock that reads `start` now and runs `scale` times as fast as real time.
    pub fn new(start: DateTime<Utc>, scale: f64) -> Result<Self, ClockRefusal> {
        check_scale(scale)?;
        let (changed, _) = watch::channel(0);
        Ok(Self {
            inner: Arc::new(ScaledInner {
                anchor: Mutex::new(Anchor {
                    real: Instant::now(),
                    sim: start,
                    scale,
                }),
                changed,
            }),
        })
    }

    fn anchor(&self) -> Anchor {
        *lock(&self.inner.anchor)
    }

    /// Re-anchors at the current moment with a change applied, and wakes the sleepers.
    fn change(&self, apply: impl FnOnce(&mut Anchor)) {
        {
            let mut anchor = lock(&self.inner.anchor);
            let real = Instant::now();
            let sim = anchor.now(real);
            *anchor = Anchor {
                real,
                sim,
                ..*anchor
            };
            apply(&mut anchor);
        }
        self.inner.changed.send_modify(|n| *n = n.wrapping_add(1));
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> DateTime<Utc> {
        self.anchor().now(Instant::now())
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> Sleep {
        let clock = self.clone();
        let mut changed = self.inner.changed.subscribe();
        Box::pin(async move {
            loop {
                changed.borrow_and_update();
                let anchor = clock.anchor();
                let now = anchor.now(Instant::now());
                if now >= deadline {
                    return;
                }
                let left = (deadline - now).to_std().unwrap_or(Duration::ZERO);
                // At least a tick, so rounding can never make this loop spin.
                let wait =
                    real_wait(left.as_secs_f64() / anchor.scale).max(Duration::from_micros(50));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    changed = changed.changed() => {
                        if changed.is_err() {
                            // The clock is gone, so time can never reach the deadline.
                            std::future::pending::<()>().await;
                        }
                    }
                }
            }
        })
    }

    fn scale(&self) -> Option<f64> {
        Some(self.anchor().scale)
    }

    fn set_scale(&self, scale: f64) -> Result<(), ClockRefusal> {
        check_scale(scale)?;
        self.change(|anchor| anchor.scale = scale);
        Ok(())
    }

    fn advance(&self, by: Duration) -> Result<(), ClockRefusal> {
        self.change(|anchor| anchor.sim = after(anchor.sim, by));
        Ok(())
    }
}

/// Adds a std duration to a time, saturating instead of overflowing.
pub(crate) fn after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_wakes_sleepers_only_when_advanced_past_the_deadline() {
        let clock = ManualClock::new(DateTime::<Utc>::UNIX_EPOCH);
        let deadline = after(clock.now(), Duration::from_secs(10));
        let sleeper = tokio::spawn(clock.sleep_until(deadline));
        clock.advance(Duration::from_secs(9));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::from_secs(1));
        tokio::time::timeout(Duration::from_secs(1), sleeper)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn a_scaled_clock_runs_faster_than_real_time_and_wakes_sleepers_on_its_time() {
        let start = DateTime::<Utc>::UNIX_EPOCH;
        // One real second is a simulated hour.
        let clock = ScaledClock::new(start, 3600.0).unwrap();
        let deadline = after(start, Duration::from_secs(1800));
        let sleeper = tokio::spawn(clock.sleep_until(deadline));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(clock.now() >= after(start, Duration::from_secs(360)));
        tokio::time::timeout(Duration::from_secs(10), sleeper)
            .await
            .unwrap()
            .unwrap();
        assert!(
            clock.now() >= deadline,
            "woke before its simulated deadline"
        );
    }

    #[tokio::test]
    async fn changing_the_scale_or_jumping_wakes_sleepers_at_the_new_moment() {
        let start = DateTime::<Utc>::UNIX_EPOCH;
        let clock = ScaledClock::new(start, 1.0).unwrap();
        let day = Duration::from_secs(24 * 3600);
        let sleeper = tokio::spawn(clock.sleep_until(after(start, day)));
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(
            !sleeper.is_finished(),
            "a day cannot pass in real time here"
        );
        // A simulated day in a hundredth of a real second.
        Clock::set_scale(&clock, 8_640_000.0).unwrap();
        assert_eq!(clock.scale(), Some(8_640_000.0));
        tokio::time::timeout(Duration::from_secs(10), sleeper)
            .await
            .unwrap()
            .unwrap();
        assert!(clock.now() >= after(start, day));

        Clock::set_scale(&clock, 1.0).unwrap();
        let at = clock.now();
        let sleeper = tokio::spawn(clock.sleep_until(after(at, 3 * day)));
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!sleeper.is_finished());
        Clock::advance(&clock, 3 * day).unwrap();
        tokio::time::timeout(Duration::from_secs(10), sleeper)
            .await
            .unwrap()
            .unwrap();
        assert!(clock.now() >= after(at, 3 * day));
    }

    #[test]
    fn a_scale_must_be_a_positive_finite_number() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 2e9] {
            assert!(
                ScaledClock::new(DateTime::<Utc>::UNIX_EPOCH, bad).is_err(),
                "{bad}"
            );
        }
        assert!(
            SystemClock
                .set_scale(2.0)
                .unwrap_err()
                .to_string()
                .contains("fixed pace")
        );
    }
}
