//! Console passwords: argon2id with the crate's default parameters, as PHC strings. Hashing
//! costs tens of milliseconds of CPU and memory, so it always runs on tokio's blocking pool.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::RelayError;

/// The fewest characters a console password has.
pub const MIN_LENGTH: usize = 12;
/// The most (a longer one is not a password someone types).
pub const MAX_LENGTH: usize = 1024;

/// Checks a new password's length; the reason, for people, when it is refused.
pub fn check_new(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(format!(
            "a console password has at least {MIN_LENGTH} characters"
        ));
    }
    if length > MAX_LENGTH {
        return Err(format!(
            "a console password has at most {MAX_LENGTH} characters"
        ));
    }
    Ok(())
}

/// The argon2id PHC string of `password`, with a fresh random salt.
pub async fn hash(password: String) -> Result<String, RelayError> {
    let salt = crate::seats::random::<16>()?;
    tokio::task::spawn_blocking(move || {
        let salt =
            SaltString::encode_b64(&salt).map_err(|err| RelayError::Random(err.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| RelayError::Random(format!("argon2: {err}")))
    })
    .await
    .map_err(|_| RelayError::StoreClosed)?
}

/// Whether `password` matches the PHC string `stored` (`None`: check against a throwaway hash,
/// so that an unknown login takes as long as a wrong password).
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY.to_owned());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && stored != DUMMY
    })
    .await
    .unwrap_or(false)
}

/// argon2id (default parameters) of a random password nobody knows.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4Dgn2lJ9Wf2JvRsvfOZ6sIwW0e3v5z/3F8bqV6k8Yq8";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse battery".into(), Some(stored.clone())).await);
        assert!(!verify("correct horse batterx".into(), Some(stored)).await);
        assert!(!verify("anything".into(), None).await);
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new("eleven char").is_err());
        assert!(check_new("twelve chars").is_ok());
    }
}
