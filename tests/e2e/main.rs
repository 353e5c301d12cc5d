//! The end-to-end suite (issue #7): the real `trubka-app` window (WebKitGTK) in demo mode, under
//! Xvfb, driven over WebDriver through `tauri-driver`, with the in-process simulator scripted
//! through its control API and native notifications recorded by a D-Bus stand-in (dbusmock).
//! Each scenario checks both sides: what the operator sees in the DOM, and what the PBX received.
//! Team mode's scenarios (`team_*`) run no demo: `team_world.rs` starts a simulator and a relay in
//! team mode in this process, and the app joins it by an invite link.
//!
//! The tests need the desktop session that `tests/e2e/run` sets up (display, session bus,
//! notification daemon, tauri-driver), so they are ignored by a plain `cargo test`; the runner
//! passes `--ignored`. It tells them where everything is through the environment (see
//! [`app::RunEnv`]). They must run one at a time (`--test-threads=1`): the app is a single
//! instance per D-Bus session, and every test starts its own app with a fresh home directory.
//!
//! ```text
//! tests/e2e/run                    # build, then every scenario; screenshots in target/e2e-artifacts
//! tests/e2e/run click_to_call      # only the tests whose names contain this
//! tests/e2e/run --measure          # the figures of measure.rs instead of the scenarios
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

mod app;
mod notifications;
mod sim;
mod team_world;
mod webdriver;

mod about;
mod click_to_call;
mod hostile_names;
mod incoming_popup;
mod live_list;
mod measure;
mod missed_call;
mod recording;
mod restart;
mod screens;
mod team_calls;
mod team_everyday;
mod team_join;
mod team_presence;
mod team_supervisor;
mod team_unreachable;
mod tel_link;
mod today_card;
mod upkeep;
mod wrapup;
