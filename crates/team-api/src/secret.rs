//! The seat credential: a secret that prints `[redacted]`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A seat's Bearer credential, given once by the join exchange and kept in the OS keyring by
/// the app; the relay keeps only its hash. Prints as `[redacted]`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SeatCredential(String);

impl SeatCredential {
    /// Every credential starts with this, so that a leaked one is easy to recognise.
    pub const PREFIX: &'static str = "tks_";

    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself, for the `Authorization` header. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SeatCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeatCredential([redacted])")
    }
}

impl fmt::Display for SeatCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
