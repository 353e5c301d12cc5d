//! One module per command group. Each command opens the profile's core, asks it, and prints
//! the result with [`crate::output::say`]: text for people, or the `--json` type from
//! [`crate::output`].

pub mod account;
pub mod calls;
pub mod contacts;
pub mod demo;
pub mod events;
pub mod follow_up;
pub mod history;
pub mod routing;
pub mod team;
