//! The call log's integration tests, one binary (see STYLE.md): each module exercises the public
//! API on a real database file in a temporary directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

mod apply;
mod contacts;
mod crash;
mod harness;
mod maintenance;
mod open;
mod queries;
mod rebase;
mod routing;
mod team_phonebook;
mod wrapup;
