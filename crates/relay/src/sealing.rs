//! Secrets at rest: the integration's client secret and tokens are kept in the store only
//! sealed (XChaCha20-Poly1305, RustCrypto's audited AEAD) under a 256-bit key that lives apart
//! from the database, in its own file beside the configuration (mode 0600) or in an environment
//! variable. The database alone reveals nothing.
//!
//! Each secret is sealed with a fresh random 192-bit nonce and the record's name as associated
//! data, so that a sealed value moved to another record does not open. A sealed value starts
//! with a format byte and the key's id (8 bytes of a hash of the key, which reveals nothing of
//! it), so that a value sealed under another key is named as such ("sealed with key 3f…, the
//! key file /etc/trubka-relay/relay.key holds 9a…") instead of failing as garbage.
//!
//! `trubka-relay team rotate-key` keeps the old key beside the new one as `<key>.old-<time>`
//! until every value is sealed again; a [`Sealer`] opens values sealed under any of these, so an
//! interrupted rotation loses nothing and running it again finishes it.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::TryRngCore as _;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

use crate::error::RelayError;
use crate::store::StoreLocation;

/// The environment variable that may hold the key itself (URL-safe base64 of 32 bytes), for
/// containers that take secrets from the environment.
pub const KEY_ENV: &str = "TRUBKA_RELAY_KEY";

/// The first byte of every sealed value: this format.
const FORMAT: u8 = 1;
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// The key that seals secrets at rest. Prints as `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct AtRestKey([u8; 32]);

impl AtRestKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, RelayError> {
        let mut bytes = [0u8; 32];
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|err| RelayError::Random(err.to_string()))?;
        Ok(Self(bytes))
    }

    /// The key from its text form (URL-safe base64 of 32 bytes, surrounding space ignored).
    fn parse(text: &str, source: &KeySource) -> Result<Self, RelayError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| RelayError::AtRestKey {
                source_name: source.to_string(),
                reason:
                    "it is not a key written by `trubka-relay init` (URL-safe base64 of 32 bytes)"
                        .into(),
            })?;
        Ok(Self(bytes))
    }

    /// The key's text form, as its file holds it. Never log it.
    pub fn expose_secret(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// The key's id: a hash of it that names it in errors and sealed values without revealing
    /// it.
    pub fn id(&self) -> KeyId {
        let digest = Sha256::new()
            .chain_update(b"trubka-relay at-rest key id\0")
            .chain_update(self.0)
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        KeyId(id)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }
}

impl fmt::Debug for AtRestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AtRestKey([redacted])")
    }
}

impl fmt::Display for AtRestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A key's public id (16 hex digits).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// Where the key came from, for errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A key file.
    File(PathBuf),
    /// The environment variable [`KEY_ENV`].
    Environment,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(path) => write!(f, "the key file {}", path.display()),
            KeySource::Environment => write!(f, "the environment variable {KEY_ENV}"),
        }
    }
}

/// Seals and opens secrets: the current key seals; it and any old keys kept by an unfinished
/// rotation open.
#[derive(Clone)]
pub struct Sealer {
    current: AtRestKey,
    source: KeySource,
    /// Keys of an unfinished rotation (`<key>.old-<time>` files), with their files.
    old: Vec<(PathBuf, AtRestKey)>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("key", &self.current.id())
            .field("source", &self.source)
            .field("old_keys", &self.old.len())
            .finish()
    }
}

impl Sealer {
    /// A sealer with one key.
    pub fn new(key: AtRestKey, source: KeySource) -> Self {
        Self {
            current: key,
            source,
            old: Vec::new(),
        }
    }

    /// The key from [`KEY_ENV`] if it is set, else from `key_file` (with the old keys of an
    /// unfinished rotation beside it); `None` when neither exists.
    pub fn load(key_file: &Path) -> Result<Option<Self>, RelayError> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            let key = AtRestKey::parse(&text, &KeySource::Environment)?;
            return Ok(Some(Self::new(key, KeySource::Environment)));
        }
        if !key_file.exists() {
            return Ok(None);
        }
        Self::from_file(key_file).map(Some)
    }

    /// The key in `key_file` and the old keys of an unfinished rotation beside it, whatever
    /// the environment says (`team rotate-key` works on the file).
    pub fn from_file(key_file: &Path) -> Result<Self, RelayError> {
        if !key_file.exists() {
            return Err(RelayError::NoAtRestKey {
                key_file: key_file.to_path_buf(),
            });
        }
        let source = KeySource::File(key_file.to_path_buf());
        let mut sealer = Self::new(read_key(key_file, &source)?, source);
        for old in old_key_files(key_file)? {
            let key = read_key(&old, &KeySource::File(old.clone()))?;
            sealer.old.push((old, key));
        }
        Ok(sealer)
    }

    /// Where the current key came from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The current key.
    pub fn key(&self) -> &AtRestKey {
        &self.current
    }

    /// The old keys' files of an unfinished rotation.
    pub fn old_key_files(&self) -> impl Iterator<Item = &Path> {
        self.old.iter().map(|(path, _)| path.as_path())
    }

    /// Seals `plaintext` as the record `name`.
    pub fn seal(&self, name: &str, plaintext: &[u8]) -> Result<Vec<u8>, RelayError> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|err| RelayError::Random(err.to_string()))?;
        let sealed = self
            .current
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| RelayError::Sealed {
                name: name.to_owned(),
                reason: "it could not be sealed".into(),
            })?;
        let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
        out.push(FORMAT);
        out.extend_from_slice(&self.current.id().0);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens the record `name`'s sealed value.
    pub fn open(&self, name: &str, sealed: &[u8]) -> Result<Vec<u8>, RelayError> {
        let damaged = |reason: &str| RelayError::Sealed {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        if sealed.len() < HEADER_LEN || sealed[0] != FORMAT {
            return Err(damaged("it is not a value sealed by trubka-relay"));
        }
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&sealed[1..1 + KEY_ID_LEN]);
        let id = KeyId(id);
        let key = std::iter::once(&self.current)
            .chain(self.old.iter().map(|(_, key)| key))
            .find(|key| key.id() == id)
            .ok_or_else(|| RelayError::WrongAtRestKey {
                name: name.to_owned(),
                sealed_with: id.to_string(),
                source_name: self.source.to_string(),
                key_id: self.current.id().to_string(),
            })?;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[1 + KEY_ID_LEN..HEADER_LEN]);
        key.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad: name.as_bytes(),
                },
            )
            .map_err(|_| {
                damaged("it does not open with its key: it was changed, damaged, or moved from another record")
            })
    }
}

fn read_key(path: &Path, source: &KeySource) -> Result<AtRestKey, RelayError> {
    let text = std::fs::read_to_string(path).map_err(|err| RelayError::AtRestKey {
        source_name: source.to_string(),
        reason: err.to_string(),
    })?;
    // The file holds comment lines and the key.
    let key = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#'))
        .unwrap_or_default();
    AtRestKey::parse(key, source)
}

/// The text of a key file.
fn key_file_text(key: &AtRestKey) -> String {
    format!(
        "# trubka-relay at-rest key (id {}). It opens the integration's secrets in the relay's\n\
         # database: back it up apart from the database; without it, connect the integration again.\n\
         {}\n",
        key.id(),
        key.expose_secret()
    )
}

/// Writes a new key file at `path` (mode 0600 from its first byte, replaced whole). Refuses to
/// replace an existing one unless `replace`.
pub fn write_key_file(path: &Path, key: &AtRestKey, replace: bool) -> Result<(), RelayError> {
    if path.exists() && !replace {
        return Err(RelayError::AtRestKey {
            source_name: KeySource::File(path.to_path_buf()).to_string(),
            reason: "it already exists".into(),
        });
    }
    crate::config::write_private(path, key_file_text(key).as_bytes()).map_err(|err| {
        RelayError::AtRestKey {
            source_name: KeySource::File(path.to_path_buf()).to_string(),
            reason: err.to_string(),
        }
    })
}

/// Creates the key file if there is none (what `init` does; `init --force` keeps an existing
/// key, since the database's secrets are sealed with it). Returns whether it was created.
pub fn ensure_key_file(path: &Path) -> Result<bool, RelayError> {
    if path.exists() {
        return Ok(false);
    }
    write_key_file(path, &AtRestKey::generate()?, false)?;
    Ok(true)
}

/// The old keys an unfinished rotation left beside `key_file` (`<name>.old-<time>`), oldest
/// first.
pub fn old_key_files(key_file: &Path) -> Result<Vec<PathBuf>, RelayError> {
    let Some(name) = key_file.file_name().and_then(|name| name.to_str()) else {
        return Ok(Vec::new());
    };
    let dir = match key_file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let prefix = format!("{name}.old-");
    let entries = std::fs::read_dir(dir).map_err(|err| RelayError::AtRestKey {
        source_name: KeySource::File(key_file.to_path_buf()).to_string(),
        reason: format!("its folder cannot be read: {err}"),
    })?;
    let mut old: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|file| file.starts_with(&prefix) && !file.ends_with(".tmp"))
        })
        .map(|entry| entry.path())
        .collect();
    old.sort();
    Ok(old)
}

/// What `team rotate-key` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    /// How many stored secrets were sealed again.
    pub resealed: usize,
    /// The id of the key now in the key file.
    pub key_id: String,
    /// Whether this finished an earlier, interrupted rotation instead of starting one.
    pub finished_earlier: bool,
}

/// Seals every secret in the store at `location` with a new key written to `key_file`.
///
/// The steps keep every secret openable whatever happens between them: the store must not be
/// in use (a running relay would go on sealing with the old key; on Postgres, no instance may
/// be connected); the old key is written to `<key>.old-<time>`, then the new key replaces the
/// key file (atomically); every secret is sealed again in one transaction; only then is the
/// old key's file removed. If an earlier run stopped half-way (an `.old-` file is still
/// there), this run finishes it with the key already in the key file instead of making
/// another.
pub async fn rotate_key(key_file: &Path, location: &StoreLocation) -> Result<Rotated, RelayError> {
    let sealer = Sealer::from_file(key_file)?;
    // Refuses now, before any key file changes, if the store is in use.
    reseal_all(location, |_, sealed| Ok(sealed.to_vec())).await?;
    let finished_earlier = !sealer.old.is_empty();
    let sealer = if finished_earlier {
        sealer
    } else {
        let time = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let mut old_file = key_file.as_os_str().to_owned();
        old_file.push(format!(".old-{time}"));
        write_key_file(Path::new(&old_file), sealer.key(), false)?;
        write_key_file(key_file, &AtRestKey::generate()?, true)?;
        Sealer::from_file(key_file)?
    };
    let resealed = reseal_all(location, |name, sealed| {
        let plain = sealer.open(name, sealed)?;
        sealer.seal(name, &plain)
    })
    .await?;
    for old in sealer.old_key_files() {
        std::fs::remove_file(old).map_err(|err| RelayError::AtRestKey {
            source_name: KeySource::File(old.to_path_buf()).to_string(),
            reason: format!("every secret is sealed with the new key, but the old key could not be removed: {err}"),
        })?;
    }
    Ok(Rotated {
        resealed,
        key_id: sealer.key().id().to_string(),
        finished_earlier,
    })
}

async fn reseal_all(
    location: &StoreLocation,
    reseal: impl FnMut(&str, &[u8]) -> Result<Vec<u8>, RelayError>,
) -> Result<usize, RelayError> {
    match location {
        StoreLocation::Sqlite(database) => crate::store::sqlite::reseal_all(database, reseal),
        StoreLocation::Postgres(url) => {
            crate::store::postgres::reseal_all(url.expose_secret(), reseal).await
        }
    }
}

#[cfg(test)]
mod tests;
