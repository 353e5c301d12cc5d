//! What `--json` prints: a type of the CLI's own for each command's output, built from the core's
//! values and serialized with serde. These field names are the CLI's contract with scripts
//! (documented in `docs/cli-json.md`, and checked against it by the tests); the core's own serde
//! derives are not, so the core can change its types without changing what scripts read.
//!
//! The names are the ones the CLI has always printed: camelCase for what came from the core's
//! live and account types, snake_case for history, contacts and routing rules (whose JSON is the
//! settings file's `[routing]` table). Each type says which, and keeps it.

mod account;
mod calls;
mod contacts;
mod events;
mod history;
mod routing;
mod team;

#[cfg(test)]
mod tests;

use std::io::Write;

use serde::Serialize;

pub use account::{Account, AccountSaved, SignIn, Status};
pub use calls::{Dialled, ExternalNumber, HungUp, Terminal, Transferred, Workplace};
pub use contacts::{Contact, ImportReport};
pub use events::Event;
pub use history::{CallRow, Callback, FollowUp, WrapUp};
pub use routing::{Journal, Parking, Router, RoutingRules};
pub use team::{Seat, TeamJoined, TeamLeft, TeamStatus};

/// Prints one result: `value` as one line of JSON with `--json`, else `text()` for people.
pub fn say(json: bool, value: &impl Serialize, text: impl FnOnce() -> String) {
    print_line(&if json { to_line(value) } else { text() });
}

/// Prints a line to stdout whatever the output form (the sign-in address a person must open).
pub fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`trubka history | head`) is not an error worth reporting.
    let _ = writeln!(out, "{line}");
}

/// One line of JSON. Going through a `Value` sorts the keys, as the CLI has always printed them.
fn to_line(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .unwrap_or(serde_json::Value::Null)
        .to_string()
}
