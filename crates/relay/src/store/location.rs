//! Where the relay's state lives: a SQLite file, or a Postgres database named by a connection
//! string that may carry a password.

use std::fmt;
use std::sync::Arc;

use super::{CommitSink, RelayStore, postgres, sqlite};
use crate::error::RelayError;

/// A Postgres connection string (`postgres://user:password@host:port/name`): it may carry a
/// password, so it prints without one.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// `Some` when `text` names a Postgres database rather than a SQLite file.
    pub fn recognise(text: &str) -> Option<Result<Self, RelayError>> {
        let lower = text.trim().to_ascii_lowercase();
        if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
            return None;
        }
        Some(super::postgres::parse_url(text.trim()).map(|_| Self(text.trim().to_owned())))
    }

    /// The connection string itself, for connecting. Never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match url::Url::parse(&self.0) {
            Ok(mut url) => {
                if url.password().is_some() {
                    let _ = url.set_password(Some("[redacted]"));
                }
                f.write_str(url.as_str())
            }
            Err(_) => f.write_str("postgres://[redacted]"),
        }
    }
}

/// Where the relay's state lives, as the configuration's `database` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded default: a SQLite file.
    Sqlite(std::path::PathBuf),
    /// A Postgres database, which several relay instances may share.
    Postgres(DatabaseUrl),
}

impl StoreLocation {
    /// Opens the store (connecting, for Postgres) with its default tuning and `sink`.
    pub async fn open(&self, sink: Arc<dyn CommitSink>) -> Result<Arc<dyn RelayStore>, RelayError> {
        self.open_with(sink, None).await
    }

    /// Opens the store; `duplicate_window` overrides the default one.
    pub async fn open_with(
        &self,
        sink: Arc<dyn CommitSink>,
        duplicate_window: Option<std::time::Duration>,
    ) -> Result<Arc<dyn RelayStore>, RelayError> {
        Ok(match self {
            StoreLocation::Sqlite(path) => {
                let mut options = sqlite::SqliteOptions::default();
                if let Some(window) = duplicate_window {
                    options.duplicate_window = window;
                }
                Arc::new(sqlite::SqliteStore::open(path, options, sink)?)
            }
            StoreLocation::Postgres(url) => {
                let mut options = postgres::PostgresOptions::default();
                if let Some(window) = duplicate_window {
                    options.duplicate_window = window;
                }
                Arc::new(
                    postgres::PostgresStore::connect(url.expose_secret(), options, sink).await?,
                )
            }
        })
    }
}
