//! Secrets: values that grant access and so must never be printed, logged or stored in plain files.
//!
//! Each is a newtype whose `Debug` and `Display` print `[redacted]`; the value comes out only through
//! an explicit `expose()`, which makes every use easy to find in review. They serialise (the token
//! store needs that, and it writes only to the OS keyring), but `Debug` of any struct holding them
//! stays safe to log.

use std::fmt;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

macro_rules! secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself. Call only where it is sent to the party that issued it.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// Compares with another value in constant time, so the comparison leaks nothing
            /// about where the two differ.
            pub fn matches(&self, other: &str) -> bool {
                self.0.as_bytes().ct_eq(other.as_bytes()).into()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[redacted]")
            }
        }
    };
}

secret!(
    /// The integration's client secret from the МТТ cabinet.
    ClientSecret
);
secret!(
    /// An OAuth access token (2 hours).
    AccessToken
);
secret!(
    /// An OAuth refresh token (3 days).
    RefreshToken
);
secret!(
    /// The one-time authorization code the browser brings back.
    AuthCode
);
secret!(
    /// The `state` sent with an authorization request. It is not a credential, but anyone who
    /// knows it can finish someone else's sign-in, so it is kept out of logs too.
    OAuthState
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = ClientSecret::new("iNmTWpDLeYkyzkUTVuCQwa");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(format!("{s:?}"), "ClientSecret([redacted])");
        assert!(s.matches("iNmTWpDLeYkyzkUTVuCQwa"));
        assert!(!s.matches("iNmTWpDLeYkyzkUTVuCQwb"));
        assert!(!s.matches(""));
    }
}
