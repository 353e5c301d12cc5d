//! `mtt-api` speaks the МТТ Бизнес Open API and nothing else: OAuth 2.0 sign-in and token refresh
//! against `oauth.mtt.ru`, the seven PBX methods on `openapi.mtt.ru`, and the webhook notifications
//! the PBX sends. It exists so that the one place which knows the document's wire shapes, its
//! contradictions and their rulings (`shared/spec/API.md`) is small, typed and tested; everything
//! else in Trubka talks to the PBX only through it. It must never persist anything itself (tokens go
//! through the [`TokenStore`] trait), never log a secret, and never retry a request that may already
//! have run (a double dial is worse than an error).

pub mod error;
pub mod model;
pub mod notification;
pub mod secret;

pub use error::Error;
