//! A token bucket: at most `n` requests a minute (all clients together), refilled evenly, with
//! a burst of up to `n`. For the join exchange, where each attempt costs a hash and a write.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A per-minute rate limit.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl RateLimit {
    /// `per_minute` requests a minute (at least one).
    pub fn per_minute(per_minute: u32) -> Self {
        let per_minute = f64::from(per_minute.max(1));
        Self {
            per_minute,
            bucket: Mutex::new((per_minute, Instant::now())),
        }
    }

    /// Takes one request's token; `Err(wait)` when there is none (ask again after `wait`).
    pub fn take(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut bucket = self
            .bucket
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (tokens, since) = *bucket;
        let refill = now.duration_since(since).as_secs_f64() * self.per_minute / 60.0;
        let tokens = (tokens + refill).min(self.per_minute);
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, now);
            Ok(())
        } else {
            *bucket = (tokens, now);
            let missing = (1.0 - tokens) * 60.0 / self.per_minute;
            Err(Duration::from_secs_f64(missing.max(0.001)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_capped_and_refilled_over_time() {
        let limit = RateLimit::per_minute(3);
        for _ in 0..3 {
            assert!(limit.take().is_ok());
        }
        let wait = limit.take().unwrap_err();
        assert!(wait <= Duration::from_secs(20), "{wait:?}");
        tokio::time::advance(Duration::from_secs(20)).await;
        assert!(limit.take().is_ok());
        assert!(limit.take().is_err());
    }
}
