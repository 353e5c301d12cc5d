//! The token lifecycle: hand out a valid access token, refreshing it when needed.
//!
//! Rules, from the document and from what a desktop app needs:
//! - refresh proactively, `margin` before the access token expires (default 10 minutes);
//! - one refresh at a time: any number of callers that need a refresh wait for the same one
//!   (single flight), because the server may rotate the refresh token and a second refresh with
//!   the old one would be refused;
//! - a refresh the server refuses (`invalid_grant`, or HTTP 400/401) clears the tokens and yields
//!   [`Error::SignInRequired`]; a transport failure keeps them, so a later call can try again.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::Mutex;

use crate::error::Error;
use crate::oauth::{Authorizer, PendingSignIn};
use crate::secret::{AccessToken, AuthCode};
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

/// One signed-in integration's tokens.
#[derive(Debug)]
pub struct Session {
    authorizer: Authorizer,
    store: Arc<dyn TokenStore>,
    clock: Arc<dyn Clock>,
    margin: Duration,
    /// The tokens in use. An async mutex, held across the refresh request on purpose: that is
    /// what makes concurrent callers wait for one refresh instead of starting their own.
    tokens: Mutex<Option<TokenSet>>,
}

impl Session {
    /// A session over `store`, starting with whatever it holds.
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
        let tokens = store.load()?;
        Ok(Session {
            authorizer,
            store,
            clock,
            margin,
            tokens: Mutex::new(tokens),
        })
    }

    /// Starts a sign-in (see [`Authorizer::begin`]).
    pub fn begin_sign_in(&self) -> PendingSignIn {
        self.authorizer.begin()
    }

    /// Finishes a sign-in and stores the tokens.
    pub async fn finish_sign_in(
        &self,
        pending: PendingSignIn,
        returned_state: &str,
        code: AuthCode,
    ) -> Result<SessionStatus, Error> {
        let tokens = self
            .authorizer
            .finish(pending, returned_state, code)
            .await?;
        self.store.save(&tokens)?;
        let mut slot = self.tokens.lock().await;
        *slot = Some(tokens);
        tracing::info!("signed in");
        Ok(status_of(slot.as_ref()))
    }

    /// Forgets the tokens, here and in the store.
    pub async fn sign_out(&self) -> Result<(), Error> {
        let mut slot = self.tokens.lock().await;
        *slot = None;
        self.store.clear()?;
        tracing::info!("signed out");
        Ok(())
    }

    /// The sign-in state and expiries.
    pub async fn status(&self) -> SessionStatus {
        status_of(self.tokens.lock().await.as_ref())
    }

    /// A valid access token, refreshing first if it expires within the margin.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        let mut slot = self.tokens.lock().await;
        let now = self.clock.now();
        match slot.as_ref() {
            None => Err(Error::SignInRequired("not signed in".into())),
            Some(t) if t.access_fresh(now, self.margin) => Ok(t.access_token.clone()),
            Some(_) => self.refresh_locked(&mut slot).await,
        }
    }

    /// A new access token after the server answered 401 to `rejected`. If another caller has
    /// already replaced that token, its replacement is returned without a second refresh.
    pub async fn access_token_after_rejection(
        &self,
        rejected: &AccessToken,
    ) -> Result<AccessToken, Error> {
        let mut slot = self.tokens.lock().await;
        match slot.as_ref() {
            None => Err(Error::SignInRequired("not signed in".into())),
            Some(t) if t.access_token != *rejected => Ok(t.access_token.clone()),
            Some(_) => self.refresh_locked(&mut slot).await,
        }
    }

    async fn refresh_locked(&self, slot: &mut Option<TokenSet>) -> Result<AccessToken, Error> {
        let Some(current) = slot.clone() else {
            return Err(Error::SignInRequired("not signed in".into()));
        };
        let now = self.clock.now();
        let Some(refresh_token) = current.usable_refresh_token(now).cloned() else {
            *slot = None;
            self.store.clear()?;
            tracing::warn!("the refresh token has lapsed; a new sign-in is needed");
            return Err(Error::SignInRequired(
                "the sign-in has expired (refresh tokens last three days); sign in again".into(),
            ));
        };
        tracing::debug!("refreshing the access token");
        match self.authorizer.refresh(&current, &refresh_token).await {
            Ok(fresh) => {
                self.store.save(&fresh)?;
                let token = fresh.access_token.clone();
                *slot = Some(fresh);
                tracing::info!("access token refreshed");
                Ok(token)
            }
            Err(Error::SignInRequired(why)) => {
                *slot = None;
                self.store.clear()?;
                tracing::warn!("the refresh was refused; a new sign-in is needed");
                Err(Error::SignInRequired(why))
            }
            Err(other) => {
                tracing::warn!(error = %other, "the refresh failed; tokens kept for a later try");
                Err(other)
            }
        }
    }
}

fn status_of(tokens: Option<&TokenSet>) -> SessionStatus {
    SessionStatus {
        signed_in: tokens.is_some(),
        access_expires_at: tokens.map(|t| t.access_expires_at),
        refresh_expires_at: tokens.and_then(|t| t.refresh_expires_at),
    }
}
