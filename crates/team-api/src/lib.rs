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
//!
//! # The seat API
//!
//! Every endpoint takes `Authorization: Bearer <seat credential>` (a missing, unknown, revoked or
//! foreign credential is 401 `unauthorized`, `credential_revoked`, `seat_revoked`,
//! `credential_of_another_relay`); a seat revoked with `seats revoke --delete-local-data` is
//! answered `seat_revoked` with `deleteLocalData: true` ([`ErrorBody::delete_local_data`]), here
//! and on the stream, and its app then deletes the team's history and contacts. Bodies are JSON, at most 16 KiB (else 413 `too_large`), with
//! no unknown fields (else 400 `bad_request`). Each seat has a bounded number of requests in
//! flight and a rate (429 `rate_limited` with `Retry-After`). Every action (dial, transfer,
//! hang up, parking) is checked before the PBX is called — a refused one is 403 with the reason
//! and the PBX never hears of it — and is written to the relay's audit log either way.
//! makeCall, transferCall and terminateCall are never retried after a timeout (504
//! `pbx_timeout`: it may or may not have happened).
//!
//! | method, path | body | answer | rules |
//! |---|---|---|---|
//! | `GET /team/me` | — | [`SeatProfile`] | any seat |
//! | `POST /team/dial` | [`DialRequest`] | [`DialAnswer`] | operator: own workplace only (`not_your_workplace`); supervisor, admin: any |
//! | `POST /team/transfer` | [`TransferRequest`] | [`ActionDone`] | operator: a leg whose caller, callee or forwarder is their workplace (`not_your_call`); others: any live leg; unknown leg: 404 `call_unknown` |
//! | `POST /team/hangup` | [`HangUpRequest`] | [`ActionDone`] | as transfer |
//! | `GET /team/calls` | — | [`LiveCalls`] | operator: legs touching their workplace; others: all |
//! | `GET /team/directory` | — | [`Directory`] | any seat; cached at the relay, re-read on `vpbxNotifications` |
//! | `GET /team/presence` | — | [`PresenceSummary`] | any seat; no numbers, no names |
//! | `GET /team/callbacks` | — | [`CallbackQueue`] | any seat |
//! | `GET /team/colleagues` | — | [`Colleagues`] | any seat; no callers' numbers or names |
//! | `PUT /team/availability` | [`AvailabilityRequest`] | [`AvailabilityAnswer`] | own seat; another seat: supervisor, admin (`role_required`); Offline is not settable (`bad_request`) |
//! | `PUT /team/parking` | [`ParkingRequest`] | [`ActionDone`] | admin only (`role_required`); once the PBX accepts, the numbers join or leave the routing's `parked` (503 `unavailable` if that could not be saved: send it again) |
//! | `GET`, `POST /team/contacts`, `PUT`, `DELETE /team/contacts/{id}` | see [`phonebook`] | | read: any seat; change: supervisor, admin |
//! | `GET /team/routing` | — | [`TeamRouting`] | admin only |
//! | `PUT /team/routing` | [`TeamRouting`] | [`TeamRouting`] (as saved) | admin only; bad rules 400 `bad_request` naming the rule |
//! | `GET /team/routing/journal` | — | [`RoutingJournal`] | admin only |
//!
//! PBX outcomes: the PBX refused (502 `pbx_refused`, its answer in the message), did not answer
//! (504 `pbx_timeout`), could not be reached (502 `pbx_unreachable`); the relay holds no working
//! integration (503 `not_connected`); bad input such as a number with letters is 400
//! `bad_request`. The app uses `relay_unreachable` itself when the relay does not answer.
//!
//! # Wrap-ups (issue #17, team mode)
//!
//! A seat's note and tags about a call go to the relay and are the team's shared knowledge of a
//! customer ([`wrapup`]); nothing here reaches the PBX, and every write is in the audit log with
//! who wrote what (actions `wrapup` and `tags`). Each save is also streamed to supervisors and
//! admins as a [`wrapup::WRAPUP_KIND`] event ([`wrapup::WrapUpEvent`]), so their History shows a
//! colleague's note and tags on the colleague's call.
//!
//! | method, path | body | answer | rules |
//! |---|---|---|---|
//! | `PUT /team/wrapups` | [`wrapup::WrapUpRequest`] | [`wrapup::WrapUpSaved`] | any seat; replaces the seat's own earlier wrap-up of the leg; when the team's tags are `required`, an answered call's needs one of them (400 `bad_request`) |
//! | `GET /team/wrapups?number=<digits>` | — | [`wrapup::TeamWrapUps`] | any seat, one number (the latest few); without `number`: supervisors and admins only (403 `role_required`) |
//! | `GET /team/tags` | — | [`wrapup::TeamTags`] | any seat |
//! | `PUT /team/tags` | [`wrapup::TeamTags`] | [`ActionDone`] | admin only (403 `role_required`) |
//!
//! # The stream
//!
//! `GET /events/stream` with a seat credential carries what the seat may see; the relay's own
//! event kinds and the table of who sees what are in [`stream`].

mod colleagues;
mod directory;
mod error;
mod join;
pub mod phonebook;
pub mod routing;
mod seat_api;
mod secret;
mod status;
pub mod stream;
pub mod wrapup;

pub use colleagues::{
    AVAILABILITY_KIND, Availability, AvailabilityAnswer, AvailabilityEvent, AvailabilityRequest,
    Colleague, Colleagues,
};
pub use directory::{Directory, DirectoryNumber, DirectoryTerminal, DirectoryWorkplace};
pub use error::{ErrorBody, TeamErrorCode};
pub use join::{JoinAnswer, JoinLink, JoinLinkError, JoinRequest, Role, SeatProfile};
pub use phonebook::{
    CONTACTS_PAGE_MAX, ContactSaved, PHONEBOOK_KIND, PhonebookChanged, PhonebookChanges,
    TeamContact, TeamContactDraft,
};
pub use routing::{
    JOURNAL_LIMIT, JournalQuery, ROUTING_KIND, RoutingDecisionEvent, RoutingJournal, TeamRouting,
};
pub use seat_api::{
    ActionDone, DialAnswer, DialRequest, HangUpRequest, LiveCall, LiveCalls, ParkingRequest,
    TransferRequest,
};
pub use secret::SeatCredential;
pub use status::{IntegrationState, TeamStatus};
pub use stream::{
    CALLBACK_QUEUE_KIND, CallbackCleared, CallbackOffer, CallbackQueue, CallbackQueueEvent,
    PRESENCE_KIND, Presence, PresenceEvent, PresenceSummary, TEAM_KIND, TeamEvent, TeamNotice,
    WorkplacePresence,
};
pub use wrapup::{WRAPUP_KIND, WrapUpEvent};

#[cfg(test)]
mod tests;
