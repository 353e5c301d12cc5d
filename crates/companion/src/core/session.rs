//! Signing in and out, and keeping the sign-in fresh while the app runs.
//!
//! The account (session, PBX client, relay address) is built once when the profile opens; a
//! profile without one keeps the reason and reports it, with its code, to every call that needs it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mtt_api::{
    Authorizer, Endpoints, HttpConfig, OAuthConfig, Pbx, Session, SessionNotice, SessionStatus,
};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::Companion;
use crate::address::{RELAY_CARRIES, secure_url};
use crate::error::{CompanionError, ErrorCode, InvalidSetting};
use crate::pipeline::DomainEvent;
use crate::secrets::ProfileSecrets;
use crate::settings::{Profile, Settings};
use crate::signin;

/// The lock file, in the profile's data directory, that processes sharing the profile hold
/// while they refresh its tokens.
pub const TOKEN_LOCK_FILE: &str = "tokens.lock";

/// A signed-in (or signing-in) integration.
#[derive(Debug, Clone)]
pub(super) struct Account {
    pub(super) session: Arc<Session>,
    pub(super) pbx: Pbx,
    pub(super) relay: Option<Url>,
    pub(super) http: reqwest::Client,
}

/// Warn when the sign-in lapses within this long (refresh tokens last three days).
const RENEW_WARNING: chrono::Duration = chrono::Duration::hours(12);

impl Companion {
    /// The PBX client of the configured account.
    pub(super) fn pbx(&self) -> Result<&Pbx, CompanionError> {
        Ok(&self.account()?.pbx)
    }

    /// The configured account, or why there is none (reported with its own code each time).
    pub(super) fn account(&self) -> Result<&Account, CompanionError> {
        self.account
            .as_ref()
            .map_err(CompanionError::clone_for_report)
    }

    /// The sign-in state. (The first call reads the keyring, off the async runtime.)
    pub async fn session_status(&self) -> Option<SessionStatus> {
        match &self.account {
            Ok(a) => {
                let status = a.session.status().await;
                self.signed_in.store(status.signed_in, Ordering::SeqCst);
                Some(status)
            }
            Err(_) => None,
        }
    }

    /// Signs in: `open_browser` is given the authorize address; the answer is taken from the
    /// relay's hand-off, or from a loopback listener when the Redirect URI is a loopback one.
    pub async fn sign_in(
        &self,
        open_browser: impl FnOnce(&Url),
    ) -> Result<SessionStatus, CompanionError> {
        let account = self.account()?;
        let redirect = self
            .settings()
            .account
            .redirect_uri
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .ok_or_else(|| CompanionError::NotConfigured("no Redirect URI is set".into()))?;
        // A Redirect URI on the relay's own origin is the relay's hook: the relay keeps the code.
        // Otherwise a loopback Redirect URI is served by a listener of our own.
        let via_relay = account
            .relay
            .as_ref()
            .filter(|relay| relay.origin() == redirect.origin());
        let loopback = match via_relay {
            Some(_) => None,
            None => signin::LoopbackListener::bind(&redirect).await?,
        };
        let pending = account.session.begin_sign_in();
        open_browser(&pending.url);
        let callback = match (loopback, &account.relay) {
            (Some(listener), _) => {
                listener
                    .accept(pending.state(), signin::SIGN_IN_TIMEOUT)
                    .await?
            }
            (None, Some(relay)) => {
                signin::from_relay(
                    &account.http,
                    relay,
                    pending.state().expose(),
                    signin::SIGN_IN_TIMEOUT,
                )
                .await?
            }
            (None, None) => {
                return Err(CompanionError::NotConfigured(
                    "the Redirect URI is neither a loopback address nor served by a configured relay".into(),
                ));
            }
        };
        self.finish_sign_in(pending, callback).await
    }

    /// Starts a sign-in whose answer will arrive some other way (a `trubka://` link): open the
    /// returned address in the browser and pass the link to [`Companion::finish_sign_in`].
    pub fn begin_sign_in(&self) -> Result<mtt_api::PendingSignIn, CompanionError> {
        Ok(self.account()?.session.begin_sign_in())
    }

    /// Finishes a sign-in whose answer arrived some other way (a `trubka://` link).
    pub async fn finish_sign_in(
        &self,
        pending: mtt_api::PendingSignIn,
        callback: signin::Callback,
    ) -> Result<SessionStatus, CompanionError> {
        let account = self.account()?;
        let code = callback
            .outcome
            .map_err(|why| CompanionError::SignIn(format!("MTT refused the sign-in: {why}")))?;
        let status = account
            .session
            .finish_sign_in(pending, &callback.state, code)
            .await?;
        self.announce_session(&status);
        // The PBX may have lost parking since (the API cannot read it back): apply it again,
        // and install the routing engine now that its API calls can be made.
        self.after_sign_in().await;
        Ok(status)
    }

    /// Tells subscribers the sign-in state, and remembers it so that "sign-in required" is
    /// announced once when it happens, not on every refused call after it.
    fn announce_session(&self, status: &SessionStatus) {
        self.signed_in.store(status.signed_in, Ordering::SeqCst);
        let renew_soon = status
            .refresh_expires_at
            .is_some_and(|t| t - chrono::Utc::now() < RENEW_WARNING);
        let _ = self.events.send(DomainEvent::Session {
            signed_in: status.signed_in,
            access_expires_at: status.access_expires_at,
            refresh_expires_at: status.refresh_expires_at,
            renew_soon,
        });
    }

    /// Passes on a PBX call's result; the first "sign-in required" is announced.
    pub(super) fn checked<T>(
        &self,
        result: Result<T, mtt_api::Error>,
    ) -> Result<T, CompanionError> {
        if let Err(e) = &result {
            self.notice(e);
        }
        Ok(result?)
    }

    /// Announces the first "sign-in required" among the PBX's failures.
    pub(super) fn notice(&self, error: &mtt_api::Error) {
        if let mtt_api::Error::SignInRequired(_) = error
            && self.signed_in.swap(false, Ordering::SeqCst)
        {
            let _ = self.events.send(DomainEvent::Session {
                signed_in: false,
                access_expires_at: None,
                refresh_expires_at: None,
                renew_soon: false,
            });
        }
    }

    /// Signs out: the tokens leave the keyring.
    pub async fn sign_out(&self) -> Result<(), CompanionError> {
        self.account()?.session.sign_out().await?;
        self.announce_session(&SessionStatus {
            signed_in: false,
            access_expires_at: None,
            refresh_expires_at: None,
        });
        self.update_parking_hook();
        Ok(())
    }
}

/// Tells the operator what the session has to say about the stored tokens (a save that failed,
/// a damaged entry that was cleared), as [`DomainEvent::Trouble`] with the code `token_store`;
/// the session has logged it already.
pub(super) async fn relay_session_notices(
    mut notices: broadcast::Receiver<SessionNotice>,
    events: broadcast::Sender<DomainEvent>,
    signed_in: Arc<AtomicBool>,
    cancel: CancellationToken,
) {
    loop {
        let notice = tokio::select! {
            _ = cancel.cancelled() => return,
            n = notices.recv() => n,
        };
        let message = match notice {
            Ok(SessionNotice::StoredTokensCleared { reason }) => {
                if signed_in.swap(false, Ordering::SeqCst) {
                    let _ = events.send(DomainEvent::Session {
                        signed_in: false,
                        access_expires_at: None,
                        refresh_expires_at: None,
                        renew_soon: false,
                    });
                }
                format!(
                    "the saved sign-in could not be read from the system keyring ({reason}); it was removed, so sign in again"
                )
            }
            Ok(SessionNotice::SaveFailed { reason, retry_in }) => format!(
                "the renewed sign-in could not be saved to the system keyring ({reason}); the app keeps it while it runs and tries again in {} s (if it quits before a save works, sign in again)",
                retry_in.as_secs().max(1)
            ),
            Ok(_) => continue,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let _ = events.send(DomainEvent::Trouble {
            code: ErrorCode::TokenStore,
            message,
        });
    }
}

/// How often the session is looked after while the app runs.
const SESSION_CHECK: Duration = Duration::from_secs(60);

/// Keeps the sign-in fresh while the app runs, even when the operator makes no calls: the access
/// token is renewed before it expires, a sign-in that will lapse within 12 hours is announced
/// (once), and so is a sign-in MTT stopped accepting (once). Live events keep flowing whatever
/// happens here: they come from the relay, not from MTT.
pub(super) async fn keep_session(
    session: Arc<Session>,
    events: broadcast::Sender<DomainEvent>,
    signed_in: Arc<AtomicBool>,
    cancel: CancellationToken,
) {
    let mut warned = false;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(SESSION_CHECK) => {}
        }
        if !signed_in.load(Ordering::SeqCst) {
            continue;
        }
        let refreshed = session.access_token().await;
        let status = session.status().await;
        let renew_soon = status
            .refresh_expires_at
            .is_some_and(|t| t - chrono::Utc::now() < RENEW_WARNING);
        let lost = matches!(refreshed, Err(mtt_api::Error::SignInRequired(_)));
        if lost && signed_in.swap(false, Ordering::SeqCst) || renew_soon && !warned {
            warned |= renew_soon;
            let _ = events.send(DomainEvent::Session {
                signed_in: status.signed_in,
                access_expires_at: status.access_expires_at,
                refresh_expires_at: status.refresh_expires_at,
                renew_soon,
            });
        }
    }
}

pub(super) fn build_account(
    settings: &Settings,
    secrets: &ProfileSecrets,
    profile: &Profile,
) -> Result<Account, CompanionError> {
    let a = &settings.account;
    let not_set_up = || {
        CompanionError::NotConfigured(
            "no MTT account is set up for this profile (client id, client secret and Redirect URI; see `trubka account set`)".into(),
        )
    };
    let (Some(client_id), Some(redirect_uri)) = (&a.client_id, &a.redirect_uri) else {
        return Err(not_set_up());
    };
    let client_secret = secrets.client_secret()?.ok_or_else(not_set_up)?;
    let defaults = Endpoints::mtt();
    let endpoints = Endpoints::new(
        a.oauth_url.as_deref().unwrap_or(defaults.oauth.as_str()),
        a.api_url.as_deref().unwrap_or(defaults.api.as_str()),
    )?;
    let http_config = HttpConfig::default();
    // The system's proxy, except to this machine (demo mode), which a proxy cannot reach.
    let http = mtt_api::http_client_to(http_config, &[&endpoints.oauth, &endpoints.api])?;
    let authorizer = Authorizer::new(
        OAuthConfig {
            client_id: client_id.clone(),
            client_secret,
            redirect_uri: redirect_uri.clone(),
            endpoints: endpoints.clone(),
            pkce: a.pkce,
        },
        http.clone(),
        http_config,
    )?;
    // Every process on this profile (the app, the CLI) takes this lock to refresh.
    let store = secrets
        .token_store()
        .locked_by(profile.data_dir().join(TOKEN_LOCK_FILE));
    let session = Arc::new(Session::new(authorizer, Arc::new(store))?);
    let pbx = Pbx::new(&endpoints, http.clone(), http_config, Arc::clone(&session));
    let relay = match &a.relay_url {
        Some(r) => Some(
            secure_url(r, RELAY_CARRIES).map_err(|reason| InvalidSetting {
                key: "account.relay_url",
                reason,
            })?,
        ),
        None => None,
    };
    Ok(Account {
        session,
        pbx,
        relay,
        http,
    })
}
