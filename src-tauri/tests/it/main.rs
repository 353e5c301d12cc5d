//! The window's commands driven through Tauri's IPC on the mock runtime: no display, no bus.
//! Each test opens a core on a profile in a temporary directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

mod calls;
mod contacts;
mod harness;
mod history;
mod saving;
mod security;
mod settings;
