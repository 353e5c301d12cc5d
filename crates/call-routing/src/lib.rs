//! `call-routing`: deciding parked calls, wherever they are decided.
//!
//! An external number with parking on holds each incoming call for five seconds, waiting for the
//! API to transfer it or release it. Who decides depends on the mode: in personal mode the one
//! desktop app marked as the account's router, in team mode the relay (the team's server). Both
//! use this crate, so the rules and their meaning are one:
//!
//! - [`rules`]: the operator's ordered rules as settings data ([`RoutingSettings`], TOML in the
//!   app's settings, JSON on the relay) and [`RoutingSettings::evaluate`], a pure function of
//!   what is known about the caller ([`CallerView`]) and the workplaces ([`WorkplaceFacts`]).
//! - [`engine`]: [`decide`] gathers those facts through [`RoutingFacts`], which each decider
//!   implements from its own data (the app from its call log and live calls, the relay from its
//!   store and call view), and applies the rules.
//! - [`choice`]: what was decided ([`RoutingChoice`]) and why ([`Decision`]).
//! - [`journal`]: the journal entry both deciders keep ([`JournalEntry`], [`RoutingOutcome`]).
//!
//! Carrying a decision out (the PBX call, the deadline, where the journal is kept) is the
//! decider's. This crate depends on neither the call log, the app's core nor the relay.

pub mod choice;
pub mod engine;
pub mod journal;
pub mod rules;
#[cfg(test)]
mod tests;

pub use choice::{DEADLINE_RULE, Decision, NO_RULE, OFFLINE_RULE, RoutingChoice};
pub use engine::{OWN_LEGS, RoutingFacts, decide, last_operator_days};
pub use journal::{JournalEntry, RoutingOutcome};
pub use rules::{
    BusinessHours, CallerView, MAX_DEADLINE_MS, MIN_DEADLINE_MS, PARKING_WINDOW_MS,
    RoutingSettings, Rule, WhenBusy, WorkplaceFacts,
};
