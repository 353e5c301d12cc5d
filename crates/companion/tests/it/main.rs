//! `companion`'s integration tests. One binary, ripgrep style.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

mod demo;
mod keyring;
mod pipeline;
