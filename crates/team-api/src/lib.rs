//! `team-api`: the wire types between a Trubka relay in team mode and the apps of its seats.
//!
//! The relay (the team's server) and the desktop app (`companion`) both speak these shapes, so
//! that neither depends on the other: `companion` never depends on `relay`. This crate holds
//! only data and the checks that belong to the data (a join link's shape, a secret that prints
//! `[redacted]`); it must never do I/O, and never carry a relay or app type inside.
//!
//! - Joining: the admin's invite is a one-time code, also given as a link
//!   `trubka://join?server=<https base url>&code=<code>` ([`JoinLink`]); the app posts
//!   [`JoinRequest`] to `<server>/team/join` and gets a [`JoinAnswer`]: the seat's
//!   [`SeatCredential`] (a Bearer secret for the stream and the seat API) and its
//!   [`SeatProfile`].
//! - `GET /team/me` answers the [`SeatProfile`]; `GET /readyz` answers a [`TeamStatus`].
//! - Every refusal is an [`ErrorBody`] `{code, message}` with a stable [`TeamErrorCode`].

mod error;
mod join;
mod secret;
mod status;

pub use error::{ErrorBody, TeamErrorCode};
pub use join::{JoinAnswer, JoinLink, JoinLinkError, JoinRequest, Role, SeatProfile};
pub use secret::SeatCredential;
pub use status::{IntegrationState, TeamStatus};

#[cfg(test)]
mod tests;
