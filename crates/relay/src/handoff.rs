//! The OAuth hand-off's memory: sign-ins that landed on the Redirect URI, kept under their
//! `state` until the app that owns it fetches them once (the `oauth` module serves the routes).
//!
//! The code is a secret: it is kept in memory only, handed out once, dropped after its time to
//! live, and prints as `[redacted]`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// An authorization code. Prints as `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthCode(pub(crate) String);

impl AuthCode {
    /// The code itself, for the app that exchanges it. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthCode([redacted])")
    }
}

/// What the browser brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// Sign-in succeeded.
    Code(AuthCode),
    /// The authorization server refused (`?error=…`).
    Refused {
        /// The `error` code.
        error: String,
        /// The `error_description`, if any.
        description: Option<String>,
    },
}

/// Why a landing was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LandingRefusal {
    /// The same state already landed.
    AlreadyReceived,
    /// Too many sign-ins are waiting to be fetched.
    Full,
}

/// What a state holds.
enum Slot {
    /// The sign-in, waiting for its app.
    Waiting(SignIn),
    /// The app fetched it.
    Taken,
    /// Nobody fetched it within its time to live; the code itself is dropped.
    Expired,
}

struct Entry {
    slot: Slot,
    /// When a waiting sign-in expires.
    expires_at: Instant,
    /// When the state is forgotten altogether. Until then a fetch is told at once that the
    /// sign-in is gone (taken or expired) instead of waiting for a landing that cannot come.
    forget_at: Instant,
}

impl Entry {
    /// Drops the code of a sign-in past its time to live.
    fn expire(&mut self, now: Instant) {
        if matches!(self.slot, Slot::Waiting(_)) && self.expires_at <= now {
            self.slot = Slot::Expired;
        }
    }
}

/// Why a fetch got no sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Nothing landed for this state while the fetch waited: ask again.
    NotYet,
    /// The sign-in was already fetched: it is handed out once, so this is final.
    Taken,
    /// The sign-in landed but nobody fetched it within its time to live: final.
    Expired,
}

/// Sign-ins waiting for their app.
pub struct Handoff {
    entries: Mutex<HashMap<String, Entry>>,
    landed: Notify,
    ttl: Duration,
}

impl fmt::Debug for Handoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handoff")
            .field("states", &self.lock().len())
            .finish()
    }
}

/// The most sign-ins waiting at once; more would only come from someone flooding the hook.
const MAX_WAITING: usize = 1024;
/// The most states remembered at once, waiting or gone; past it the soonest forgotten go first.
const MAX_REMEMBERED: usize = 8 * MAX_WAITING;
/// How long a taken or expired state is remembered as gone: longer than an app waits for a
/// sign-in (ten minutes), so that an app asking again is told "gone" and stops.
const GONE_REMEMBERED_FOR: Duration = Duration::from_secs(30 * 60);

impl Handoff {
    /// A hand-off whose codes live for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            landed: Notify::new(),
            ttl,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps a sign-in under its state and wakes the waiting fetches.
    pub fn land(&self, state: &str, sign_in: SignIn) -> Result<(), LandingRefusal> {
        let now = Instant::now();
        {
            let mut entries = self.lock();
            entries.retain(|_, entry| entry.forget_at > now);
            for entry in entries.values_mut() {
                entry.expire(now);
            }
            if entries.contains_key(state) {
                return Err(LandingRefusal::AlreadyReceived);
            }
            let waiting = entries
                .values()
                .filter(|entry| matches!(entry.slot, Slot::Waiting(_)))
                .count();
            if waiting >= MAX_WAITING {
                return Err(LandingRefusal::Full);
            }
            if entries.len() >= MAX_REMEMBERED {
                let over = entries.len() + 1 - MAX_REMEMBERED;
                forget_soonest_gone(&mut entries, over);
            }
            let expires_at = now + self.ttl;
            entries.insert(
                state.to_owned(),
                Entry {
                    slot: Slot::Waiting(sign_in),
                    expires_at,
                    forget_at: expires_at + GONE_REMEMBERED_FOR,
                },
            );
        }
        self.landed.notify_waiters();
        Ok(())
    }

    fn lookup(&self, state: &str) -> Result<SignIn, Missing> {
        let now = Instant::now();
        let mut entries = self.lock();
        let Some(entry) = entries.get_mut(state) else {
            return Err(Missing::NotYet);
        };
        entry.expire(now);
        match std::mem::replace(&mut entry.slot, Slot::Taken) {
            Slot::Waiting(sign_in) => {
                entry.forget_at = now + GONE_REMEMBERED_FOR;
                Ok(sign_in)
            }
            Slot::Taken => Err(Missing::Taken),
            Slot::Expired => {
                entry.slot = Slot::Expired;
                Err(Missing::Expired)
            }
        }
    }

    /// Takes the sign-in for `state`, waiting up to `timeout` for it to land. A state already
    /// taken or expired is answered at once, and so for as long as it is remembered (half an
    /// hour after it was taken or expired); an unknown one after the wait.
    pub async fn take(&self, state: &str, timeout: Duration) -> Result<SignIn, Missing> {
        let deadline = Instant::now() + timeout;
        loop {
            // Register interest before looking, so a landing between the look and the wait
            // still wakes this fetch.
            let landed = self.landed.notified();
            tokio::pin!(landed);
            landed.as_mut().enable();
            match self.lookup(state) {
                Err(Missing::NotYet) => {}
                found => return found,
            }
            tokio::select! {
                () = landed => {}
                () = tokio::time::sleep_until(deadline) => return Err(Missing::NotYet),
            }
        }
    }
}

/// Forgets the `count` gone (taken or expired) states that would be forgotten soonest anyway.
/// Waiting sign-ins are never dropped for room: at most `MAX_WAITING` of them exist.
fn forget_soonest_gone(entries: &mut HashMap<String, Entry>, count: usize) {
    let mut gone: Vec<(Instant, String)> = entries
        .iter()
        .filter(|(_, entry)| !matches!(entry.slot, Slot::Waiting(_)))
        .map(|(state, entry)| (entry.forget_at, state.clone()))
        .collect();
    gone.sort_unstable();
    for (_, state) in gone.into_iter().take(count) {
        entries.remove(&state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> SignIn {
        SignIn::Code(AuthCode(text.into()))
    }

    #[tokio::test]
    async fn a_code_is_handed_out_once() {
        let handoff = Handoff::new(Duration::from_secs(60));
        handoff.land("s1", code("c1")).unwrap();
        assert_eq!(
            handoff.land("s1", code("c2")),
            Err(LandingRefusal::AlreadyReceived)
        );
        assert_eq!(
            handoff.take("s1", Duration::from_millis(10)).await,
            Ok(code("c1"))
        );
        assert_eq!(
            handoff.take("s1", Duration::from_secs(5)).await,
            Err(Missing::Taken)
        );
        assert_eq!(
            handoff.take("other", Duration::from_millis(10)).await,
            Err(Missing::NotYet)
        );
    }

    #[tokio::test]
    async fn a_waiting_fetch_wakes_when_the_code_lands() {
        let handoff = std::sync::Arc::new(Handoff::new(Duration::from_secs(60)));
        let waiting = {
            let handoff = std::sync::Arc::clone(&handoff);
            tokio::spawn(async move { handoff.take("s", Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        handoff.land("s", code("c")).unwrap();
        assert_eq!(waiting.await.unwrap(), Ok(code("c")));
    }

    #[tokio::test]
    async fn an_expired_code_is_gone() {
        let handoff = Handoff::new(Duration::from_millis(10));
        handoff.land("s", code("c")).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            handoff.take("s", Duration::from_secs(5)).await,
            Err(Missing::Expired)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_gone_state_is_remembered_for_half_an_hour_then_forgotten() {
        let handoff = Handoff::new(Duration::from_secs(60));
        handoff.land("taken", code("c")).unwrap();
        assert!(handoff.take("taken", Duration::ZERO).await.is_ok());
        handoff.land("expired", code("c")).unwrap();
        tokio::time::advance(Duration::from_secs(29 * 60)).await;
        handoff.land("later", code("c")).unwrap();
        assert_eq!(
            handoff.take("taken", Duration::ZERO).await,
            Err(Missing::Taken)
        );
        assert_eq!(
            handoff.take("expired", Duration::ZERO).await,
            Err(Missing::Expired)
        );
        tokio::time::advance(Duration::from_secs(90)).await;
        // A landing clears out what is past its memory: taken at 0, forgotten at 30 minutes.
        handoff.land("latest", code("c")).unwrap();
        assert_eq!(
            handoff.take("taken", Duration::ZERO).await,
            Err(Missing::NotYet)
        );
        assert_eq!(
            handoff.take("expired", Duration::ZERO).await,
            Err(Missing::Expired),
            "expired at 1 minute, remembered until 31"
        );
    }

    #[tokio::test]
    async fn memory_is_bounded_and_waiting_sign_ins_are_kept_first() {
        let handoff = Handoff::new(Duration::from_secs(60));
        for n in 0..MAX_REMEMBERED - MAX_WAITING {
            handoff.land(&format!("gone{n}"), code("c")).unwrap();
            assert!(
                handoff
                    .take(&format!("gone{n}"), Duration::ZERO)
                    .await
                    .is_ok()
            );
        }
        for n in 0..MAX_WAITING {
            handoff.land(&format!("waiting{n}"), code("c")).unwrap();
        }
        assert_eq!(
            handoff.land("one-more", code("c")),
            Err(LandingRefusal::Full)
        );
        assert!(handoff.take("waiting0", Duration::ZERO).await.is_ok());
        handoff.land("one-more", code("c")).unwrap();
        assert_eq!(handoff.lock().len(), MAX_REMEMBERED);
        // Room was made by forgetting a gone state, never a waiting sign-in.
        assert_eq!(
            handoff.take("gone0", Duration::ZERO).await,
            Err(Missing::NotYet)
        );
        assert!(handoff.take("waiting1", Duration::ZERO).await.is_ok());
        assert!(handoff.take("one-more", Duration::ZERO).await.is_ok());
    }
}
