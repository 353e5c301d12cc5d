//! Secrets in the OS keyring: the integration's client secret, the OAuth tokens and the relay key.
//!
//! Everything goes through [`SecretVault`], a three-call view of a keyring, so that the chunking
//! and the token store can be tested without one; [`OsKeyring`] is the real thing (the Secret
//! Service on Linux, the Keychain on macOS, the Credential Manager on Windows). Windows caps one
//! credential at 2,560 bytes, which MTT's tokens with their JSON wrapper can approach, so long
//! values are split over several entries. Nothing here ever writes a secret anywhere else.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mtt_api::{ClientSecret, StoreLock, TokenSet, TokenStore};
use team_api::SeatCredential;

use crate::error::CompanionError;

/// The keyring "service" all of Trubka's entries are filed under.
pub const KEYRING_SERVICE: &str = "trubka";

/// Characters per keyring entry. Windows stores passwords as UTF-16 within 2,560 bytes, so 1,000
/// characters leaves room for any encoding.
const CHUNK_CHARS: usize = 1000;

/// A keyring: named strings that survive restarts and stay out of files.
pub trait SecretVault: Send + Sync + std::fmt::Debug {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<String>, CompanionError>;
    /// Stores `value` under `key`.
    fn set(&self, key: &str, value: &str) -> Result<(), CompanionError>;
    /// Removes `key`; removing a missing key is not an error.
    fn delete(&self, key: &str) -> Result<(), CompanionError>;
}

/// The operating system's keyring.
#[derive(Debug, Clone, Default)]
pub struct OsKeyring;

impl OsKeyring {
    fn entry(key: &str) -> Result<keyring::Entry, CompanionError> {
        keyring::Entry::new(KEYRING_SERVICE, key).map_err(keyring_error)
    }
}

fn keyring_error(e: keyring::Error) -> CompanionError {
    CompanionError::Keyring(match e {
        keyring::Error::NoStorageAccess(inner) => format!(
            "the system keyring is not available ({inner}); on Linux a Secret Service such as GNOME Keyring must be running and unlocked"
        ),
        keyring::Error::PlatformFailure(inner) => format!("the system keyring failed: {inner}"),
        other => other.to_string(),
    })
}

impl SecretVault for OsKeyring {
    fn get(&self, key: &str) -> Result<Option<String>, CompanionError> {
        match Self::entry(key)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            // Something else wrote bytes that are not text under our name. Read them anyway, so
            // that they fail Trubka's format check and are treated as a damaged entry (which
            // for the tokens means signed out and cleared) instead of a keyring that is down.
            Err(keyring::Error::BadEncoding(bytes)) => {
                Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
            }
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<(), CompanionError> {
        Self::entry(key)?.set_password(value).map_err(keyring_error)
    }

    fn delete(&self, key: &str) -> Result<(), CompanionError> {
        match Self::entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error(e)),
        }
    }
}

/// A vault in memory: for tests, and for the demo profile, whose simulated account needs no
/// persistence.
#[derive(Debug, Default)]
pub struct MemoryVault {
    entries: Mutex<HashMap<String, String>>,
}

impl MemoryVault {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // Each operation replaces a whole value, so a poisoned map is still consistent.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many entries are stored (tests check chunking and clean-up with it).
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }
}

impl SecretVault for MemoryVault {
    fn get(&self, key: &str) -> Result<Option<String>, CompanionError> {
        Ok(self.entries().get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<(), CompanionError> {
        self.entries().insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), CompanionError> {
        self.entries().remove(key);
        Ok(())
    }
}

/// One profile's secrets.
#[derive(Debug, Clone)]
pub struct ProfileSecrets {
    vault: Arc<dyn SecretVault>,
    profile: String,
}

/// Which secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    ClientSecret,
    Tokens,
    RelayKey,
    SeatCredential,
}

impl Slot {
    fn name(self) -> &'static str {
        match self {
            Slot::ClientSecret => "client-secret",
            Slot::Tokens => "tokens",
            Slot::RelayKey => "relay-key",
            Slot::SeatCredential => "seat-credential",
        }
    }
}

impl ProfileSecrets {
    /// The secrets of `profile` in `vault`.
    pub fn new(vault: Arc<dyn SecretVault>, profile: &str) -> Self {
        ProfileSecrets {
            vault,
            profile: profile.to_owned(),
        }
    }

    /// The integration's client secret.
    pub fn client_secret(&self) -> Result<Option<ClientSecret>, CompanionError> {
        Ok(self.get(Slot::ClientSecret)?.map(ClientSecret::new))
    }

    /// Stores the client secret.
    pub fn set_client_secret(&self, secret: &ClientSecret) -> Result<(), CompanionError> {
        self.put(Slot::ClientSecret, secret.expose())
    }

    /// The relay client key.
    pub fn relay_key(&self) -> Result<Option<RelayKey>, CompanionError> {
        Ok(self.get(Slot::RelayKey)?.map(RelayKey::new))
    }

    /// Stores the relay client key.
    pub fn set_relay_key(&self, key: &RelayKey) -> Result<(), CompanionError> {
        self.put(Slot::RelayKey, key.expose())
    }

    /// The team seat's credential (team mode).
    pub fn seat_credential(&self) -> Result<Option<SeatCredential>, CompanionError> {
        Ok(self.get(Slot::SeatCredential)?.map(SeatCredential::new))
    }

    /// Stores the team seat's credential.
    pub fn set_seat_credential(&self, credential: &SeatCredential) -> Result<(), CompanionError> {
        self.put(Slot::SeatCredential, credential.expose_secret())
    }

    /// Forgets the team seat's credential (leaving the team, or a revoked seat).
    pub fn forget_seat_credential(&self) -> Result<(), CompanionError> {
        self.remove(Slot::SeatCredential)
    }

    /// Forgets personal mode's integration secrets, the client secret and the MTT tokens (on
    /// joining a team: the team's server holds the integration from then on). Returns whether
    /// there was anything to forget.
    pub fn forget_personal(&self) -> Result<bool, CompanionError> {
        let mut had = false;
        for slot in [Slot::ClientSecret, Slot::Tokens] {
            had |= self.vault.get(&self.key(slot))?.is_some();
            self.remove(slot)?;
        }
        Ok(had)
    }

    /// Forgets every secret of the profile (sign-out of the account altogether).
    pub fn forget_all(&self) -> Result<(), CompanionError> {
        for slot in [
            Slot::ClientSecret,
            Slot::Tokens,
            Slot::RelayKey,
            Slot::SeatCredential,
        ] {
            self.remove(slot)?;
        }
        Ok(())
    }

    /// A token store over these secrets.
    pub fn token_store(&self) -> KeyringTokenStore {
        KeyringTokenStore {
            secrets: self.clone(),
            lock_file: None,
        }
    }

    fn key(&self, slot: Slot) -> String {
        format!("{}/{}", self.profile, slot.name())
    }

    /// Stores a value as `=value`, or for long values as a `#N` header plus N chunk entries,
    /// removing chunks a longer earlier value left behind.
    fn put(&self, slot: Slot, value: &str) -> Result<(), CompanionError> {
        let key = self.key(slot);
        let old_chunks = self.chunk_count(&key)?;
        let chars: Vec<char> = value.chars().collect();
        let new_chunks = if chars.len() <= CHUNK_CHARS {
            self.vault.set(&key, &format!("={value}"))?;
            0
        } else {
            let parts: Vec<String> = chars
                .chunks(CHUNK_CHARS)
                .map(|c| c.iter().collect())
                .collect();
            for (i, part) in parts.iter().enumerate() {
                self.vault.set(&format!("{key}#{i}"), part)?;
            }
            self.vault.set(&key, &format!("#{}", parts.len()))?;
            parts.len()
        };
        for i in new_chunks..old_chunks {
            self.vault.delete(&format!("{key}#{i}"))?;
        }
        Ok(())
    }

    fn get(&self, slot: Slot) -> Result<Option<String>, CompanionError> {
        self.read(slot).map_err(|e| match e {
            ReadFailure::Vault(e) => e,
            ReadFailure::Damaged(why) => CompanionError::Keyring(why),
        })
    }

    /// Reads a value, telling a keyring that fails (which may work later) from an entry that
    /// is not in Trubka's format (which will not).
    fn read(&self, slot: Slot) -> Result<Option<String>, ReadFailure> {
        let key = self.key(slot);
        let Some(head) = self.vault.get(&key).map_err(ReadFailure::Vault)? else {
            return Ok(None);
        };
        if let Some(value) = head.strip_prefix('=') {
            return Ok(Some(value.to_owned()));
        }
        let count = parse_chunk_header(&head).ok_or_else(|| {
            ReadFailure::Damaged(format!("the keyring entry {key} is not in Trubka's format"))
        })?;
        let mut value = String::new();
        for i in 0..count {
            let part = self
                .vault
                .get(&format!("{key}#{i}"))
                .map_err(ReadFailure::Vault)?
                .ok_or_else(|| {
                    ReadFailure::Damaged(format!(
                        "the keyring entry {key} is missing part {} of {count}",
                        i + 1
                    ))
                })?;
            value.push_str(&part);
        }
        Ok(Some(value))
    }

    fn remove(&self, slot: Slot) -> Result<(), CompanionError> {
        let key = self.key(slot);
        for i in 0..self.chunk_count(&key)? {
            self.vault.delete(&format!("{key}#{i}"))?;
        }
        self.vault.delete(&key)
    }

    fn chunk_count(&self, key: &str) -> Result<usize, CompanionError> {
        Ok(self
            .vault
            .get(key)?
            .as_deref()
            .and_then(parse_chunk_header)
            .unwrap_or(0))
    }
}

/// Why a value could not be read.
enum ReadFailure {
    /// The keyring failed; it may work later.
    Vault(CompanionError),
    /// The entry is not in Trubka's format; it will not get better by itself.
    Damaged(String),
}

fn parse_chunk_header(head: &str) -> Option<usize> {
    head.strip_prefix('#')?.parse().ok().filter(|n| *n <= 64)
}

/// The OAuth tokens of one profile, in the keyring.
///
/// Several processes may use one profile at once (the app and `trubka events`), each with its
/// own session over its own store; with a lock file ([`KeyringTokenStore::locked_by`]) their
/// refreshes take turns, so that none refreshes with a refresh token another has just rotated.
#[derive(Debug, Clone)]
pub struct KeyringTokenStore {
    secrets: ProfileSecrets,
    lock_file: Option<PathBuf>,
}

impl KeyringTokenStore {
    /// The same store, whose [`TokenStore::lock`] is an exclusive lock on `path` (created if
    /// missing; its content is never read), shared by every process that names the same file.
    pub fn locked_by(mut self, path: PathBuf) -> Self {
        self.lock_file = Some(path);
        self
    }
}

impl TokenStore for KeyringTokenStore {
    fn load(&self) -> Result<Option<TokenSet>, mtt_api::Error> {
        let text = match self.secrets.read(Slot::Tokens) {
            Ok(text) => text,
            Err(ReadFailure::Vault(e)) => return Err(store_error(e)),
            Err(ReadFailure::Damaged(why)) => {
                return Err(mtt_api::Error::StoredTokensUnreadable(why));
            }
        };
        match text {
            None => Ok(None),
            // Not the JSON of a token set; serde's words may quote the value, so they stay out.
            Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                mtt_api::Error::StoredTokensUnreadable(format!(
                    "the keyring entry {} does not hold Trubka's tokens (line {}, column {}); sign in again",
                    self.secrets.key(Slot::Tokens),
                    e.line(),
                    e.column()
                ))
            }),
        }
    }

    fn save(&self, tokens: &TokenSet) -> Result<(), mtt_api::Error> {
        let text =
            serde_json::to_string(tokens).map_err(|e| mtt_api::Error::TokenStore(e.to_string()))?;
        self.secrets.put(Slot::Tokens, &text).map_err(store_error)
    }

    fn clear(&self) -> Result<(), mtt_api::Error> {
        self.secrets.remove(Slot::Tokens).map_err(store_error)
    }

    fn lock(&self) -> Result<StoreLock, mtt_api::Error> {
        let Some(path) = &self.lock_file else {
            return Ok(StoreLock::none());
        };
        let fail = |e: std::io::Error| {
            mtt_api::Error::TokenStore(format!(
                "the sign-in lock {} could not be taken: {e}",
                path.display()
            ))
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(fail)?;
        // Blocks while another process holds it; the session calls this off the async runtime.
        // The operating system releases it when the file is closed, even if the process dies.
        file.lock().map_err(fail)?;
        Ok(StoreLock::new(file))
    }
}

fn store_error(e: CompanionError) -> mtt_api::Error {
    mtt_api::Error::TokenStore(e.to_string())
}

/// A relay client key (`trk_…`), which lets its holder read the account's call events.
#[derive(Clone, PartialEq, Eq)]
pub struct RelayKey(String);

impl RelayKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        RelayKey(key.into())
    }

    /// The key itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for RelayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RelayKey([redacted])")
    }
}

impl std::fmt::Display for RelayKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtt_api::{AccessToken, RefreshToken};

    fn tokens(len: usize) -> TokenSet {
        TokenSet {
            access_token: AccessToken::new("a".repeat(len)),
            access_expires_at: chrono::Utc::now(),
            refresh_token: Some(RefreshToken::new("r".repeat(len))),
            refresh_expires_at: None,
            scope: Some("https://mtt.ru/auth.tokens.readwrite".into()),
        }
    }

    #[test]
    fn long_tokens_are_split_and_reassembled_and_leftovers_removed() {
        let vault = Arc::new(MemoryVault::default());
        let store = ProfileSecrets::new(vault.clone(), "work").token_store();
        let long = tokens(3000);
        store.save(&long).unwrap();
        assert!(vault.len() > 4, "split over several entries");
        let all = vault.entries().clone();
        assert!(all.values().all(|v| v.chars().count() <= CHUNK_CHARS + 1));
        assert_eq!(store.load().unwrap(), Some(long));
        let short = tokens(10);
        store.save(&short).unwrap();
        assert_eq!(vault.len(), 1, "old chunks removed");
        assert_eq!(store.load().unwrap(), Some(short));
        store.clear().unwrap();
        assert!(vault.is_empty());
        assert_eq!(store.load().unwrap(), None);
    }

    #[test]
    fn profiles_do_not_share_secrets_and_forget_all_clears_one() {
        let vault = Arc::new(MemoryVault::default());
        let a = ProfileSecrets::new(vault.clone(), "a");
        let b = ProfileSecrets::new(vault.clone(), "b");
        a.set_client_secret(&ClientSecret::new("sa")).unwrap();
        a.set_relay_key(&RelayKey::new("trk_1")).unwrap();
        b.set_client_secret(&ClientSecret::new("sb")).unwrap();
        assert_eq!(a.client_secret().unwrap().unwrap().expose(), "sa");
        a.forget_all().unwrap();
        assert!(a.client_secret().unwrap().is_none() && a.relay_key().unwrap().is_none());
        assert_eq!(b.client_secret().unwrap().unwrap().expose(), "sb");
    }

    #[test]
    fn damaged_entries_are_errors_not_garbage() {
        let vault = Arc::new(MemoryVault::default());
        let secrets = ProfileSecrets::new(vault.clone(), "p");
        vault.set("p/tokens", "#3").unwrap();
        vault.set("p/tokens#0", "{").unwrap();
        let err = secrets.token_store().load().unwrap_err().to_string();
        assert!(err.contains("missing part 2 of 3"), "{err}");
        vault.set("p/tokens", "=not json").unwrap();
        let err = secrets.token_store().load().unwrap_err().to_string();
        assert!(err.contains("sign in again"), "{err}");
        vault.set("p/tokens", "plain").unwrap();
        assert!(secrets.token_store().load().is_err());
        // Each is a damaged entry, which the session clears, not a keyring that is down.
        for damaged in ["#3", "=not json", "plain", "={\"accessToken\":\"SECRET\"}"] {
            vault.set("p/tokens", damaged).unwrap();
            let err = secrets.token_store().load().unwrap_err();
            assert!(
                matches!(&err, mtt_api::Error::StoredTokensUnreadable(_)),
                "{damaged}: {err:?}"
            );
            assert!(!err.to_string().contains("SECRET"), "{err}");
        }
        assert_eq!(
            format!("{:?}", RelayKey::new("trk_secret")),
            "RelayKey([redacted])"
        );
    }
}
