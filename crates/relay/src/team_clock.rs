//! The integration's clock: the wall clock in production; in tests, a simulator's scaled clock,
//! so that days of token lifetimes pass in seconds and the refresher, the lapse warning and
//! `mtt-api`'s session all judge expiry by the same (simulated) time.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

/// Now, and waiting, for the integration.
pub trait TeamClock: Send + Sync + std::fmt::Debug + 'static {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
    /// Completes after `duration` of this clock's time.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// The wall clock and tokio's timers.
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl TeamClock for WallClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A [`TeamClock`] as `mtt-api`'s session takes a clock.
#[derive(Debug, Clone)]
pub struct SessionClock(pub Arc<dyn TeamClock>);

impl mtt_api::Clock for SessionClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}
