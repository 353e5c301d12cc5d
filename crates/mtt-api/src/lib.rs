//! `mtt-api` speaks the МТТ Бизнес Open API and nothing else: OAuth 2.0 sign-in and token refresh
//! against `oauth.mtt.ru`, the seven PBX methods on `openapi.mtt.ru`, and the webhook notifications
//! the PBX sends. It exists so that the one place which knows the document's wire shapes, its
//! contradictions and their rulings (`docs/protocol/README.md`) is small, typed and tested; everything
//! else in Trubka talks to the PBX only through it. It must never persist anything itself (tokens go
//! through the [`TokenStore`] trait), never log a secret, and never retry a request that may already
//! have run (a double dial is worse than an error).
//!
//! # The flow
//!
//! 1. [`Authorizer::begin`] makes the authorize address (with a fresh 256-bit `state`); the app
//!    opens it in the browser. MTT redirects the browser to the Redirect URI with `code` and
//!    `state`, which reach the app through the relay, a loopback listener or a deep link.
//! 2. [`Session::finish_sign_in`] checks the state in constant time, exchanges the code (client
//!    credentials and `scope` in the form body, as the document shows) and stores the tokens.
//! 3. [`Pbx`] calls the API with the session's access token. The session refreshes it ten minutes
//!    before expiry, one refresh at a time however many calls (or processes sharing the store)
//!    need it; a 401 gets one refresh and one retry; a refused refresh clears the tokens (unless
//!    another process has replaced them) and yields [`Error::SignInRequired`].
//! 4. Webhook bodies become typed values with [`Notification::parse`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use mtt_api::{
//!     Authorizer, Callee, ClientSecret, Endpoints, HttpConfig, MemoryTokenStore, OAuthConfig, Pbx,
//!     Session, SipId, AuthCode,
//! };
//!
//! # async fn run(code_from_browser: String, state_from_browser: String) -> Result<(), mtt_api::Error> {
//! let http_config = HttpConfig::default();
//! let http = mtt_api::http_client(http_config)?;
//! let endpoints = Endpoints::mtt();
//! let authorizer = Authorizer::new(
//!     OAuthConfig {
//!         client_id: "ccb350cc-6218-40b0-b134-3d290f00b9e7".into(),
//!         client_secret: ClientSecret::new("secret from the cabinet"),
//!         redirect_uri: "https://relay.example.com/4f1c…".into(),
//!         endpoints: endpoints.clone(),
//!         pkce: false,
//!     },
//!     http.clone(),
//!     http_config,
//! )?;
//! let session = Arc::new(Session::new(authorizer, Arc::new(MemoryTokenStore::new()))?);
//!
//! let pending = session.begin_sign_in();
//! println!("open {}", pending.url);
//! session
//!     .finish_sign_in(pending, &state_from_browser, AuthCode::new(code_from_browser))
//!     .await?;
//!
//! let pbx = Pbx::new(&endpoints, http, http_config, session);
//! let me = SipId::parse("883140582526566")?;
//! let call = pbx.make_call(&me, &Callee::parse("79219462761")?).await?;
//! println!("the PBX is ringing your phone; call id {}", call.id);
//! # Ok(()) }
//! ```

pub mod endpoints;
pub mod error;
pub mod model;
pub mod notification;
pub mod number;
pub mod oauth;
pub mod pbx;
pub mod secret;
pub mod session;
pub mod token;

pub use endpoints::{
    Endpoints, HttpConfig, MTT_API_URL, MTT_OAUTH_URL, SCOPE, build_http_client, http_client,
    http_client_builder, http_client_to, is_on_this_machine,
};
pub use error::Error;
pub use model::{Callee, ExternalNumber, LegId, LegRef, PlacedCall, SipId, Terminal, Workplace};
pub use notification::{CallEvent, CallState, Direction, Notification, Party, PbxEvent, PbxTime};
pub use number::RussianNumber;
pub use oauth::{Authorizer, OAuthConfig, PendingSignIn};
pub use pbx::Pbx;
pub use secret::{AccessToken, AuthCode, ClientSecret, OAuthState, RefreshToken};
pub use session::{Clock, Session, SessionNotice, SessionStatus, SystemClock};
pub use token::{MemoryTokenStore, REFRESH_TOKEN_LIFETIME, StoreLock, TokenSet, TokenStore};
