//! `mtt-api`'s integration tests: every request checked on the server side, against a stand-in
//! for MTT on 127.0.0.1. One test binary, ripgrep style, so it links once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

mod document;
mod mock;
mod oauth;
mod pbx;
mod properties;
mod proxy;
mod redaction;
mod session;
mod store;

/// The text of one of the document's examples, copied verbatim into `tests/fixtures`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
