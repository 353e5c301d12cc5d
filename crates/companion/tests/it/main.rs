//! `companion`'s integration tests. One binary, ripgrep style.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

mod diagnostics;
mod keyring;
mod late;
mod link;
mod pipeline;
mod recording;
mod retention;
mod routing;
mod session;
mod signin;
mod team;
mod team_phonebook;
mod team_presence;
mod team_seats;
mod team_supervisor;
mod team_wrapup;
mod wrapup;

// The helpers both crates' tests use, under the names the test modules call them by.
pub use test_support::{control, wait_for};
