//! The token lifecycle: hand out a valid access token, refreshing it when needed.
//!
//! Rules, from the document and from what a desktop app needs:
//! - refresh proactively, `margin` before the access token expires (default 10 minutes);
//! - one refresh at a time: any number of callers that need a refresh wait for the same one
//!   (single flight), because the server may rotate the refresh token and a second refresh with
//!   the old one would be refused;
//! - the same across processes: the app and the CLI may keep one profile's session at once, so a
//!   refresh holds the store's lock ([`TokenStore::lock`]) and first reads the store again — if
//!   another process has refreshed meanwhile, its tokens are taken instead of refreshing;
//! - a refresh the server refuses (`invalid_grant`, or HTTP 400/401) yields
//!   [`Error::SignInRequired`] and clears the store only if it still holds the refused token (if
//!   not, another process has replaced it and its tokens are taken); a transport failure keeps
//!   the tokens, so a later call can try again;
//! - new tokens that cannot be saved are kept in memory, so the session goes on (the old refresh
//!   token is dead once rotated), and the save is retried in the background with backoff; each
//!   failure and the eventual success are announced ([`SessionNotice`]) and logged;
//! - stored tokens that cannot be read are cleared: the session is signed out, not stuck;
//! - the store is touched only on tokio's blocking pool (a locked keyring must not stall an
//!   async worker), and first on first use, not in the constructor; no std lock is held across
//!   an `.await`, and [`Session::status`] never waits for a refresh or the store.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::broadcast;

use crate::error::Error;
use crate::oauth::{Authorizer, PendingSignIn};
use crate::secret::{AccessToken, AuthCode, RefreshToken};
use crate::token::{TokenSet, TokenStore};

/// The time source, so tests can move time instead of waiting for it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The default proactive-refresh margin.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::minutes(10);

/// The first wait before saving again tokens whose save failed; it doubles up to
/// [`SAVE_RETRY_MAX`].
pub const SAVE_RETRY_FIRST: StdDuration = StdDuration::from_secs(1);
/// The longest wait between two tries to save tokens.
pub const SAVE_RETRY_MAX: StdDuration = StdDuration::from_secs(60);

/// How many notices a slow subscriber may fall behind before it misses some.
const NOTICE_BUFFER: usize = 16;

/// What the UI shows about the sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStatus {
    /// Whether there are tokens at all.
    pub signed_in: bool,
    /// When the access token expires.
    pub access_expires_at: Option<DateTime<Utc>>,
    /// When the refresh token lapses, after which a new sign-in is needed.
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

/// Something about the stored tokens that the operator should hear about, though no call
/// failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionNotice {
    /// The stored tokens could not be read (a damaged entry); they were cleared, and the
    /// session is signed out.
    StoredTokensCleared {
        /// Why they could not be read.
        reason: String,
    },
    /// New tokens could not be saved. The session goes on with them in memory and saves them
    /// again after `retry_in`; if the app stops first, the next start needs a new sign-in.
    SaveFailed {
        /// Why the save failed.
        reason: String,
        /// When the next try is.
        retry_in: StdDuration,
    },
    /// Tokens whose save had failed are saved now.
    Saved,
}

/// One signed-in integration's tokens.
#[derive(Debug)]
pub struct Session {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    authorizer: Authorizer,
    store: Arc<dyn TokenStore>,
    clock: Arc<dyn Clock>,
    margin: Duration,
    /// The tokens in use; a std lock, held only to read or replace them, never across an
    /// `.await`.
    state: Mutex<State>,
    /// Held across a refresh and across every change of the store, so that concurrent callers
    /// wait for one refresh instead of starting their own. An async lock: waiting for it does
    /// not block a worker, and [`Session::status`] never takes it once the store is read.
    gate: tokio::sync::Mutex<()>,
    notices: broadcast::Sender<SessionNotice>,
    save_retry_first: StdDuration,
}

#[derive(Debug, Default)]
struct State {
    /// Whether the store has been read.
    loaded: bool,
    tokens: Option<TokenSet>,
    /// The tokens in memory are newer than the store's (their save failed).
    unsaved: bool,
    /// A background task is trying to save them.
    retrying: bool,
}

impl Session {
    /// A session over `store`, which is read on first use. (It never fails; the `Result` is
    /// kept for callers written when it read the store here.)
    pub fn new(authorizer: Authorizer, store: Arc<dyn TokenStore>) -> Result<Self, Error> {
        Self::with_clock(
            authorizer,
            store,
            Arc::new(SystemClock),
            DEFAULT_REFRESH_MARGIN,
        )
    }

    /// A session with a chosen clock and refresh margin.
    pub fn with_clock(
        authorizer: Authorizer,
        store: Arc<dyn TokenStore>,
        clock: Arc<dyn Clock>,
        margin: Duration,
    ) -> Result<Self, Error> {
        let (notices, _) = broadcast::channel(NOTICE_BUFFER);
        Ok(Session {
            inner: Arc::new(Inner {
                authorizer,
                store,
                clock,
                margin,
                state: Mutex::new(State::default()),
                gate: tokio::sync::Mutex::new(()),
                notices,
                save_retry_first: SAVE_RETRY_FIRST,
            }),
        })
    }

    /// Notices from now on (see [`SessionNotice`]).
    pub fn notices(&self) -> broadcast::Receiver<SessionNotice> {
        self.inner.notices.subscribe()
    }

    /// Starts a sign-in (see [`Authorizer::begin`]).
    pub fn begin_sign_in(&self) -> PendingSignIn {
        self.inner.authorizer.begin()
    }

    /// Finishes a sign-in and stores the tokens. Tokens the store refuses are kept in memory
    /// and saved again later, as after a refresh.
    pub async fn finish_sign_in(
        &self,
        pending: PendingSignIn,
        returned_state: &str,
        code: AuthCode,
    ) -> Result<SessionStatus, Error> {
        let tokens = self
            .inner
            .authorizer
            .finish(pending, returned_state, code)
            .await?;
        let _gate = self.inner.gate.lock().await;
        let saved = {
            let tokens = tokens.clone();
            blocking(&self.inner.store, move |store| {
                let _lock = store.lock()?;
                store.save(&tokens)
            })
            .await
        };
        let status = status_of(Some(&tokens));
        self.inner.keep(Some(tokens), saved);
        tracing::info!("signed in");
        Ok(status)
    }

    /// Forgets the tokens, here and in the store.
    pub async fn sign_out(&self) -> Result<(), Error> {
        let _gate = self.inner.gate.lock().await;
        self.inner.replace(None);
        blocking(&self.inner.store, |store| {
            let _lock = store.lock()?;
            store.clear()
        })
        .await?;
        tracing::info!("signed out");
        Ok(())
    }

    /// The sign-in state and expiries. It reads the store the first time only; after that it
    /// answers from memory at once, even while a refresh or a save is waiting.
    pub async fn status(&self) -> SessionStatus {
        if let Some(status) = self.inner.status_now() {
            return status;
        }
        let _gate = self.inner.gate.lock().await;
        match self.inner.ensure_loaded().await {
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "the stored sign-in could not be read"),
        }
        status_of(self.inner.state().tokens.as_ref())
    }

    /// A valid access token, refreshing first if it expires within the margin.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        let inner = &self.inner;
        let needs = |t: &TokenSet| !t.access_fresh(inner.clock.now(), inner.margin);
        if let Some(token) = inner.usable_now(needs) {
            return Ok(token);
        }
        inner.renew(needs).await
    }

    /// A new access token after the server answered 401 to `rejected`. If another caller has
    /// already replaced that token, its replacement is returned without a second refresh.
    pub async fn access_token_after_rejection(
        &self,
        rejected: &AccessToken,
    ) -> Result<AccessToken, Error> {
        let needs = |t: &TokenSet| t.access_token == *rejected;
        if let Some(token) = self.inner.usable_now(needs) {
            return Ok(token);
        }
        self.inner.renew(needs).await
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every change replaces whole fields, so a poisoned lock still holds a consistent state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn status_now(&self) -> Option<SessionStatus> {
        let state = self.state();
        state.loaded.then(|| status_of(state.tokens.as_ref()))
    }

    /// The access token in memory, if the store has been read and `needs` (whether a refresh
    /// is due) says no.
    fn usable_now(&self, needs: impl Fn(&TokenSet) -> bool) -> Option<AccessToken> {
        let state = self.state();
        match &state.tokens {
            Some(t) if state.loaded && !needs(t) => Some(t.access_token.clone()),
            _ => None,
        }
    }

    fn replace(&self, tokens: Option<TokenSet>) {
        let mut state = self.state();
        state.loaded = true;
        state.tokens = tokens;
        state.unsaved = false;
    }

    fn notify(&self, notice: SessionNotice) {
        // Nobody listening is fine: the log line was written.
        let _ = self.notices.send(notice);
    }

    /// Reads the store if it has not been read yet. Call with the gate held.
    async fn ensure_loaded(&self) -> Result<(), Error> {
        if self.state().loaded {
            return Ok(());
        }
        let stored = blocking(&self.store, |store| store.load()).await;
        let tokens = self.readable(stored).await?;
        self.replace(tokens);
        Ok(())
    }

    /// The tokens a read of the store gave, clearing a damaged entry (and saying so).
    async fn readable(
        &self,
        stored: Result<Option<TokenSet>, Error>,
    ) -> Result<Option<TokenSet>, Error> {
        match stored {
            Ok(tokens) => Ok(tokens),
            Err(Error::StoredTokensUnreadable(reason)) => {
                tracing::warn!(
                    %reason,
                    "the stored sign-in cannot be read; it is cleared and a new sign-in is needed"
                );
                if let Err(e) = blocking(&self.store, |store| store.clear()).await {
                    tracing::warn!(error = %e, "the unreadable sign-in could not be cleared");
                }
                self.notify(SessionNotice::StoredTokensCleared { reason });
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// Keeps `tokens`, which were just saved with the result `saved`; a failed save is
    /// announced and tried again in the background.
    fn keep(self: &Arc<Self>, tokens: Option<TokenSet>, saved: Result<(), Error>) {
        let failure = saved.err();
        {
            let mut state = self.state();
            state.loaded = true;
            state.tokens = tokens;
            state.unsaved = failure.is_some();
        }
        if let Some(e) = failure {
            tracing::warn!(
                error = %e,
                retry_in_ms = self.save_retry_first.as_millis() as u64,
                "the new tokens could not be saved; they are kept in memory and saved again later"
            );
            self.notify(SessionNotice::SaveFailed {
                reason: e.to_string(),
                retry_in: self.save_retry_first,
            });
            self.retry_save();
        }
    }

    /// Tries to save unsaved tokens until it works, waiting longer after each failure.
    fn retry_save(self: &Arc<Self>) {
        {
            let mut state = self.state();
            if state.retrying {
                return;
            }
            state.retrying = true;
        }
        let weak: Weak<Inner> = Arc::downgrade(self);
        let mut wait = self.save_retry_first;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(wait).await;
                // A dropped session has nothing left to save.
                let Some(inner) = weak.upgrade() else { return };
                let _gate = inner.gate.lock().await;
                let tokens = {
                    let mut state = inner.state();
                    match (&state.tokens, state.unsaved) {
                        (Some(tokens), true) => tokens.clone(),
                        _ => {
                            state.retrying = false;
                            return;
                        }
                    }
                };
                let saved = {
                    let tokens = tokens.clone();
                    blocking(&inner.store, move |store| {
                        let _lock = store.lock()?;
                        store.save(&tokens)
                    })
                    .await
                };
                match saved {
                    Ok(()) => {
                        let mut state = inner.state();
                        if state.tokens.as_ref() == Some(&tokens) {
                            state.unsaved = false;
                        }
                        state.retrying = false;
                        drop(state);
                        tracing::info!("the tokens are saved now");
                        inner.notify(SessionNotice::Saved);
                        return;
                    }
                    Err(e) => {
                        wait = (wait * 2).min(SAVE_RETRY_MAX);
                        tracing::warn!(
                            error = %e,
                            retry_in_ms = wait.as_millis() as u64,
                            "the tokens still cannot be saved"
                        );
                        inner.notify(SessionNotice::SaveFailed {
                            reason: e.to_string(),
                            retry_in: wait,
                        });
                    }
                }
            }
        });
    }

    /// The slow path of handing out an access token: under the gate and the store's lock, take
    /// what the store holds now (another process may have refreshed), and refresh only if that
    /// is still not good enough by `needs`.
    async fn renew(
        self: &Arc<Self>,
        needs: impl Fn(&TokenSet) -> bool,
    ) -> Result<AccessToken, Error> {
        let _gate = self.gate.lock().await;
        self.ensure_loaded().await?;
        // Another caller in this process may have refreshed while this one waited.
        match &self.state().tokens {
            None => return Err(not_signed_in()),
            Some(t) if !needs(t) => return Ok(t.access_token.clone()),
            Some(_) => {}
        }
        let (_lock, stored) = blocking(&self.store, |store| {
            let lock = store.lock()?;
            let stored = store.load();
            Ok((lock, stored))
        })
        .await?;
        self.take_stored(stored).await?;
        let current = match &self.state().tokens {
            None => return Err(not_signed_in()),
            Some(t) if !needs(t) => {
                tracing::debug!("another app on this profile has refreshed the tokens");
                return Ok(t.access_token.clone());
            }
            Some(t) => t.clone(),
        };
        let now = self.clock.now();
        let Some(refresh_token) = current.usable_refresh_token(now).cloned() else {
            self.replace(None);
            blocking(&self.store, |store| store.clear()).await?;
            tracing::warn!("the refresh token has lapsed; a new sign-in is needed");
            return Err(Error::SignInRequired(
                "the sign-in has expired (refresh tokens last three days); sign in again".into(),
            ));
        };
        tracing::debug!("refreshing the access token");
        match self
            .authorizer
            .refresh_at(&current, &refresh_token, now)
            .await
        {
            Ok(fresh) => {
                let saved = {
                    let fresh = fresh.clone();
                    blocking(&self.store, move |store| store.save(&fresh)).await
                };
                let token = fresh.access_token.clone();
                self.keep(Some(fresh), saved);
                tracing::info!("access token refreshed");
                Ok(token)
            }
            Err(Error::SignInRequired(why)) => self.refused(&refresh_token, &needs, why).await,
            Err(other) => {
                tracing::warn!(error = %other, "the refresh failed; tokens kept for a later try");
                Err(other)
            }
        }
    }

    /// Takes what a fresh read of the store gave, unless this process holds newer tokens that
    /// it could not save yet (the background retry saves them).
    async fn take_stored(&self, stored: Result<Option<TokenSet>, Error>) -> Result<(), Error> {
        let unsaved = self.state().unsaved;
        if unsaved {
            return Ok(());
        }
        match self.readable(stored).await {
            Ok(tokens) => {
                self.replace(tokens);
                Ok(())
            }
            // The store cannot be read now: go on with the tokens in memory.
            Err(e) => {
                tracing::warn!(error = %e, "the stored tokens could not be read again; using those in memory");
                Ok(())
            }
        }
    }

    /// MTT refused `refused`. If the store still holds it, the sign-in is over: clear both. If
    /// the store holds another one, someone else (another process) has replaced the tokens:
    /// take theirs.
    async fn refused(
        &self,
        refused: &RefreshToken,
        needs: &impl Fn(&TokenSet) -> bool,
        why: String,
    ) -> Result<AccessToken, Error> {
        let stored = blocking(&self.store, |store| store.load()).await;
        match stored {
            Ok(Some(other)) if other.refresh_token.as_ref() != Some(refused) => {
                tracing::info!("the refresh was refused, but the store holds newer tokens");
                let token = (!needs(&other)).then(|| other.access_token.clone());
                self.replace(Some(other));
                token.ok_or(Error::SignInRequired(why))
            }
            Ok(_) | Err(Error::StoredTokensUnreadable(_)) => {
                self.replace(None);
                blocking(&self.store, |store| store.clear()).await?;
                tracing::warn!("the refresh was refused; a new sign-in is needed");
                Err(Error::SignInRequired(why))
            }
            // Whether the store still holds the refused token is unknown: sign out here only.
            Err(e) => {
                self.replace(None);
                tracing::warn!(error = %e, "the refresh was refused and the store cannot be read; signed out here");
                Err(Error::SignInRequired(why))
            }
        }
    }
}

fn not_signed_in() -> Error {
    Error::SignInRequired("not signed in".into())
}

/// Runs a store call on tokio's blocking pool, so that a store that waits (a locked keyring,
/// another process's lock) never stalls an async worker.
async fn blocking<T: Send + 'static>(
    store: &Arc<dyn TokenStore>,
    call: impl FnOnce(&dyn TokenStore) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || call(store.as_ref()))
        .await
        .map_err(|e| Error::TokenStore(format!("the token store's task failed: {e}")))?
}

fn status_of(tokens: Option<&TokenSet>) -> SessionStatus {
    SessionStatus {
        signed_in: tokens.is_some(),
        access_expires_at: tokens.map(|t| t.access_expires_at),
        refresh_expires_at: tokens.and_then(|t| t.refresh_expires_at),
    }
}
