//! Integration tests of the simulator: real servers on 127.0.0.1:0, a real webhook receiver,
//! millisecond timings instead of the PBX's seconds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a panic in a test helper is a failed test with a line number"
)]

mod bad_requests;
mod busy;
// Runs the `mtt-sim` binary, which exists only with the `cli` feature.
#[cfg(feature = "cli")]
mod cli;
mod curl;
mod flows;
mod oauth;
mod router;
mod shapes;
mod team_session;
mod tokens;
mod traffic;
mod util;
mod webhooks;
