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

struct Entry {
    /// `None` once the app fetched it: the state is remembered until expiry so a second fetch
    /// is answered at once.
    sign_in: Option<SignIn>,
    expires_at: Instant,
}

/// What a fetch finds.
enum Lookup {
    Ready(SignIn),
    Gone,
    NotYet,
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
            .field("waiting", &self.lock().len())
            .finish()
    }
}

/// The most sign-ins kept at once; more would only come from someone flooding the hook.
const MAX_ENTRIES: usize = 1024;

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
            entries.retain(|_, entry| entry.expires_at > now);
            if entries.contains_key(state) {
                return Err(LandingRefusal::AlreadyReceived);
            }
            if entries.len() >= MAX_ENTRIES {
                return Err(LandingRefusal::Full);
            }
            entries.insert(
                state.to_owned(),
                Entry {
                    sign_in: Some(sign_in),
                    expires_at: now + self.ttl,
                },
            );
        }
        self.landed.notify_waiters();
        Ok(())
    }

    fn lookup(&self, state: &str) -> Lookup {
        let now = Instant::now();
        let mut entries = self.lock();
        match entries.get_mut(state) {
            None => Lookup::NotYet,
            Some(entry) if entry.expires_at <= now => Lookup::Gone,
            Some(entry) => entry.sign_in.take().map_or(Lookup::Gone, Lookup::Ready),
        }
    }

    /// Takes the sign-in for `state`, waiting up to `timeout` for it to land. `None` for an
    /// unknown state (after the wait), an expired one, or one already taken.
    pub async fn take(&self, state: &str, timeout: Duration) -> Option<SignIn> {
        let deadline = Instant::now() + timeout;
        loop {
            // Register interest before looking, so a landing between the look and the wait
            // still wakes this fetch.
            let landed = self.landed.notified();
            tokio::pin!(landed);
            landed.as_mut().enable();
            match self.lookup(state) {
                Lookup::Ready(sign_in) => return Some(sign_in),
                Lookup::Gone => return None,
                Lookup::NotYet => {}
            }
            tokio::select! {
                () = landed => {}
                () = tokio::time::sleep_until(deadline) => return None,
            }
        }
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
            Some(code("c1"))
        );
        assert_eq!(handoff.take("s1", Duration::from_secs(5)).await, None);
        assert_eq!(handoff.take("other", Duration::from_millis(10)).await, None);
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
        assert_eq!(waiting.await.unwrap(), Some(code("c")));
    }

    #[tokio::test]
    async fn an_expired_code_is_gone() {
        let handoff = Handoff::new(Duration::from_millis(10));
        handoff.land("s", code("c")).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(handoff.take("s", Duration::from_secs(5)).await, None);
    }
}
