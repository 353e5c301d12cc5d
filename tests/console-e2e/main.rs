//! The admin console's end-to-end suite (issue #18): the real `trubka-relay` and `mtt-sim`
//! binaries on loopback, and Debian's Chromium (headless, through `chromedriver`) driven over
//! WebDriver at `http://localhost:<port>/admin` — `localhost`, so the `Secure` session cookie is
//! treated as browsers treat it. The journey: the first account from `trubka-relay admin add`,
//! sign in, connect the integration against the simulator, add a seat and invite it, the `trubka`
//! CLI joins with the invite, a simulated call comes and goes on the wallboard, the seat is
//! revoked, and the audit log shows it all. Every page is checked with axe-core (no serious or
//! critical violation) and photographed in both languages, both themes and both sizes.
//!
//! The tests need the binaries and Chromium, so they are ignored by a plain `cargo test`;
//! `tests/console-e2e/run` builds what is missing and runs them (`--ignored`).
//!
//! ```text
//! tests/console-e2e/run                # the journey and the screens; artefacts in …/console-e2e-artifacts
//! tests/console-e2e/run --bench        # the wallboard's first paint with 200 seats and 100 calls
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

mod browser;
#[allow(
    dead_code,
    reason = "the app's suite's WebDriver client, shared: this suite uses part of it"
)]
#[path = "../e2e/webdriver.rs"]
mod webdriver;
mod world;

mod bench;
mod journey;
mod screens;
