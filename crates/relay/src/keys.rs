//! Client keys: the Bearer secrets with which operator seats open the event stream.
//!
//! A key is shown once, when `trubka-relay keys add` creates it; the store keeps only its
//! SHA-256. Checking a presented key hashes it and compares the hash with every active key's in
//! constant time, so neither the timing nor an early exit tells how close a guess was.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq as _};

use crate::error::RelayError;
use crate::store::ClientKeyRecord;

/// A client key. Prints as `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientKey(String);

impl ClientKey {
    /// Every key starts with this, so a leaked one is easy to recognise in a secret scanner.
    pub const PREFIX: &'static str = "trk_";

    /// A fresh key of 256 random bits.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{}{}", Self::PREFIX, URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Wraps a key presented by a client.
    pub fn from_presented(key: &str) -> Self {
        Self(key.to_owned())
    }

    /// The key itself, to show the operator once. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The hash the store keeps.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// Whether this key is one of the active keys in `records`.
    pub fn is_active_in(&self, records: &[ClientKeyRecord]) -> bool {
        hash_is_active_in(&self.hash(), records)
    }
}

/// Whether the key with this hash is one of the active keys in `records`, in time that does not
/// depend on which record matched or how closely.
pub fn hash_is_active_in(hash: &[u8; 32], records: &[ClientKeyRecord]) -> bool {
    let mut found = Choice::from(0);
    for record in records {
        let active = Choice::from(u8::from(record.revoked_at.is_none()));
        found |= record.key_hash.ct_eq(hash) & active;
    }
    found.into()
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientKey([redacted])")
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Checks a key label: it appears in `keys list` and in logs, so it is kept plain.
pub fn validate_label(label: &str) -> Result<(), RelayError> {
    let valid = (1..=64).contains(&label.len())
        && label
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(RelayError::KeyLabel(label.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn record(key: &ClientKey, revoked: bool) -> ClientKeyRecord {
        ClientKeyRecord {
            label: "seat".into(),
            key_hash: key.hash(),
            created_at: Utc::now(),
            revoked_at: revoked.then(Utc::now),
        }
    }

    #[test]
    fn keys_are_random_prefixed_and_redacted() {
        let key = ClientKey::generate();
        assert!(key.expose_secret().starts_with("trk_"));
        assert_eq!(key.expose_secret().len(), 4 + 43);
        assert_ne!(key, ClientKey::generate());
        assert_eq!(key.to_string(), "[redacted]");
        assert!(!format!("{key:?}").contains(key.expose_secret()));
    }

    #[test]
    fn only_active_matching_keys_are_accepted() {
        let key = ClientKey::generate();
        let other = ClientKey::generate();
        assert!(key.is_active_in(&[record(&other, false), record(&key, false)]));
        assert!(!key.is_active_in(&[record(&other, false)]));
        assert!(!key.is_active_in(&[record(&key, true)]));
        assert!(!key.is_active_in(&[]));
        let presented = ClientKey::from_presented(key.expose_secret());
        assert!(presented.is_active_in(&[record(&key, false)]));
    }

    #[test]
    fn labels_are_checked() {
        assert!(validate_label("seat-1.alice_b").is_ok());
        assert!(validate_label("").is_err());
        assert!(validate_label("has space").is_err());
        assert!(validate_label(&"x".repeat(65)).is_err());
    }
}
