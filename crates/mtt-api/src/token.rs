//! Token sets and where they are kept.

use std::sync::{Arc, Condvar, Mutex};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::secret::{AccessToken, RefreshToken};

/// How long MTT's refresh token lives from issue: three calendar days, per the document. The token
/// response does not say, so it is fixed here.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::days(3);

/// What a sign-in or refresh yields, with both tokens' expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenSet {
    /// The bearer token for API calls.
    pub access_token: AccessToken,
    /// When the access token stops working (issue time plus `expires_in`).
    pub access_expires_at: DateTime<Utc>,
    /// The refresh token, if the server gave one.
    pub refresh_token: Option<RefreshToken>,
    /// When the refresh token stops working (three days from its issue).
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// The scope the server echoed; informational only, never grounds for rejection (the
    /// document's two examples disagree on it).
    pub scope: Option<String>,
}

impl TokenSet {
    /// Whether the access token is still good at `now` with `margin` to spare.
    pub fn access_fresh(&self, now: DateTime<Utc>, margin: Duration) -> bool {
        now + margin < self.access_expires_at
    }

    /// The refresh token if it has not lapsed at `now`.
    pub fn usable_refresh_token(&self, now: DateTime<Utc>) -> Option<&RefreshToken> {
        let token = self.refresh_token.as_ref()?;
        match self.refresh_expires_at {
            Some(expiry) if expiry <= now => None,
            _ => Some(token),
        }
    }

    /// Applies a refresh response: the new access token always; a rotated refresh token replaces
    /// the old one and restarts its three days, while a response without one, or with the same
    /// one again, keeps the old one and its expiry (its three days run from its first issue).
    pub(crate) fn renewed_by(&self, mut fresh: TokenSet) -> TokenSet {
        let repeated = match (&fresh.refresh_token, &self.refresh_token) {
            (None, _) => true,
            (Some(new), Some(old)) => new.expose() == old.expose(),
            (Some(_), None) => false,
        };
        if repeated {
            fresh.refresh_token = self.refresh_token.clone();
            fresh.refresh_expires_at = self.refresh_expires_at;
        }
        fresh
    }
}

/// Where tokens are kept between runs. The app's implementation writes to the OS keyring; this
/// crate ships only [`MemoryTokenStore`]. Calls are synchronous and may block (a locked keyring
/// waits for its owner), so [`crate::Session`] makes them on tokio's blocking pool, never on an
/// async worker and never under a lock that async code waits on.
///
/// Several sessions, in one process or several, may share one store (the app and the CLI on one
/// profile): [`TokenStore::lock`] is what keeps their refreshes from racing, since MTT rotates the
/// refresh token and refuses the old one.
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// The stored tokens, if any. A stored value that cannot be read as tokens (damaged, or
    /// written by something else) is [`Error::StoredTokensUnreadable`], which the session clears;
    /// any other error means the store cannot be reached now, and nothing is cleared.
    fn load(&self) -> Result<Option<TokenSet>, Error>;
    /// Replaces the stored tokens.
    fn save(&self, tokens: &TokenSet) -> Result<(), Error>;
    /// Forgets the tokens (sign-out, or a refresh the server refused).
    fn clear(&self) -> Result<(), Error>;
    /// Waits until no other holder of this store (another process on the same profile, another
    /// session in this one) is refreshing or saving, and holds them off until the returned lock
    /// is dropped. The default holds nothing, for a store only one session uses.
    fn lock(&self) -> Result<StoreLock, Error> {
        Ok(StoreLock::none())
    }
}

/// A held [`TokenStore::lock`]; dropping it lets the others go on.
pub struct StoreLock {
    _held: Option<Box<dyn Send>>,
}

impl StoreLock {
    /// A lock that is released when `guard` is dropped.
    pub fn new(guard: impl Send + 'static) -> Self {
        StoreLock {
            _held: Some(Box::new(guard)),
        }
    }

    /// A lock that holds nothing.
    pub fn none() -> Self {
        StoreLock { _held: None }
    }
}

impl std::fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreLock")
    }
}

/// A token store that keeps tokens only for the life of the process.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<Option<TokenSet>>,
    /// Whether a [`StoreLock`] is held, so that sessions sharing this store refresh one at a
    /// time, as sessions in several processes do over the app's store.
    locked: Arc<(Mutex<bool>, Condvar)>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding `tokens`.
    pub fn with(tokens: TokenSet) -> Self {
        MemoryTokenStore {
            tokens: Mutex::new(Some(tokens)),
            locked: Arc::default(),
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<TokenSet>> {
        // A panic while holding this lock cannot leave a half-written value (assignments of a
        // whole Option), so a poisoned lock is safe to use.
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self) -> Result<Option<TokenSet>, Error> {
        Ok(self.slot().clone())
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), Error> {
        *self.slot() = Some(tokens.clone());
        Ok(())
    }

    fn clear(&self) -> Result<(), Error> {
        *self.slot() = None;
        Ok(())
    }

    fn lock(&self) -> Result<StoreLock, Error> {
        let (held, released) = &*self.locked;
        // A flag, not a guard: the lock moves between threads, which a std guard cannot.
        let mut held_now = held.lock().unwrap_or_else(|p| p.into_inner());
        while *held_now {
            held_now = released.wait(held_now).unwrap_or_else(|p| p.into_inner());
        }
        *held_now = true;
        Ok(StoreLock::new(MemoryLock(Arc::clone(&self.locked))))
    }
}

/// A held lock of a [`MemoryTokenStore`].
struct MemoryLock(Arc<(Mutex<bool>, Condvar)>);

impl Drop for MemoryLock {
    fn drop(&mut self) {
        let (held, released) = &*self.0;
        *held.lock().unwrap_or_else(|p| p.into_inner()) = false;
        released.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(access: &str, refresh: Option<&str>, at: DateTime<Utc>) -> TokenSet {
        TokenSet {
            access_token: AccessToken::new(access),
            access_expires_at: at + Duration::hours(2),
            refresh_token: refresh.map(RefreshToken::new),
            refresh_expires_at: refresh.map(|_| at + REFRESH_TOKEN_LIFETIME),
            scope: None,
        }
    }

    #[test]
    fn a_rotated_refresh_token_replaces_the_old_and_a_missing_one_keeps_it() {
        let t0 = Utc::now();
        let old = set("a1", Some("r1"), t0);
        let rotated = old.renewed_by(set("a2", Some("r2"), t0 + Duration::hours(1)));
        assert_eq!(rotated.refresh_token.unwrap().expose(), "r2");
        assert_eq!(
            rotated.refresh_expires_at,
            Some(t0 + Duration::hours(1) + REFRESH_TOKEN_LIFETIME)
        );
        let kept = old.renewed_by(set("a3", None, t0 + Duration::hours(1)));
        assert_eq!(kept.access_token.expose(), "a3");
        assert_eq!(kept.refresh_token.unwrap().expose(), "r1");
        assert_eq!(kept.refresh_expires_at, Some(t0 + REFRESH_TOKEN_LIFETIME));
    }

    #[test]
    fn a_repeated_refresh_token_keeps_the_lifetime_from_its_first_issue() {
        // The document allows a refresh answer to send the same refresh token back; its three
        // days run from when it was first issued, so answering with it again extends nothing.
        let t0 = Utc::now();
        let old = set("a1", Some("r1"), t0);
        let repeated = old.renewed_by(set("a2", Some("r1"), t0 + Duration::days(2)));
        assert_eq!(repeated.access_token.expose(), "a2");
        assert_eq!(repeated.refresh_token.unwrap().expose(), "r1");
        assert_eq!(
            repeated.refresh_expires_at,
            Some(t0 + REFRESH_TOKEN_LIFETIME)
        );
    }

    #[test]
    fn freshness_and_lapse() {
        let t0 = Utc::now();
        let t = set("a", Some("r"), t0);
        assert!(t.access_fresh(t0, Duration::minutes(10)));
        assert!(!t.access_fresh(t0 + Duration::minutes(111), Duration::minutes(10)));
        assert!(t.usable_refresh_token(t0).is_some());
        assert!(
            t.usable_refresh_token(t0 + REFRESH_TOKEN_LIFETIME)
                .is_none()
        );
    }
}
