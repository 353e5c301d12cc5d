//! The relay's integration tests: one binary, loopback only (ripgrep style).

// Helpers outside `#[test]` functions unwrap too: a panic is a failed test with a line number.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// These run the `trubka-relay` binary, which exists only with the `cli` feature.
#[cfg(feature = "cli")]
mod cli;
mod console_api;
#[cfg(feature = "cli")]
mod console_cli;
mod console_instances;
mod console_security;
mod console_support;
mod console_wallboard;
#[cfg(feature = "cli")]
mod contacts_cli;
#[cfg(feature = "cli")]
mod durability;
mod intake;
mod limits;
mod oauth;
mod pg_cluster;
mod proxy;
#[cfg(feature = "cli")]
mod restore;
mod store_decisions;
mod store_events;
#[cfg(feature = "cli")]
mod store_failover;
mod store_instances;
#[cfg(feature = "cli")]
mod store_pg_restore;
#[cfg(feature = "cli")]
mod store_refresh;
mod store_team;
mod stream;
mod team;
mod team_audience;
#[cfg(feature = "cli")]
mod team_cli;
mod team_integration;
mod team_phonebook;
mod team_presence;
mod team_routing;
mod team_seat_api;
mod team_ten_days;
mod team_wrapup;
mod util;
