//! The relay's integration tests: one binary, loopback only (ripgrep style).

mod durability;
mod intake;
mod oauth;
mod stream;
mod util;
