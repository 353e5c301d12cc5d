//! What can go wrong with the call log, in words an operator can act on.

use std::path::{Path, PathBuf};

use error_codes::ErrorCode;

/// Every error of the call log. Errors about the database file name the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallLogError {
    /// The file exists but is not an SQLite database; it was left untouched.
    #[error(
        "{} is not a Trubka call-log database (it is not an SQLite file); it was left untouched",
        path.display()
    )]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// The file is an SQLite database whose pages are damaged.
    #[error(
        "the call-log database {} is damaged ({detail}); restore it from a backup or move it aside",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite reported.
        detail: String,
    },
    /// The database was written by a newer Trubka whose schema this one does not know.
    #[error(
        "the call-log database {} was written by a newer version of Trubka; update Trubka to open it",
        path.display()
    )]
    TooNew {
        /// The file.
        path: PathBuf,
    },
    /// The schema could not be brought up to date.
    #[error("cannot upgrade the call-log database {}: {detail}", path.display())]
    Migration {
        /// The file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// Any other database failure (disk full, permissions, a lock held too long).
    #[error("call-log database {}: {source}", path.display())]
    Database {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A file to import, export or back up to could not be read or written.
    #[error("cannot use {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file could not be written.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    /// A search needs at least three characters (the trigram index cannot look up fewer).
    #[error("search for at least 3 characters of a number or name (got {0:?})")]
    SearchTooShort(String),
    /// A contact with this id does not exist.
    #[error("there is no contact with id {0}")]
    NoSuchContact(i64),
    /// A contact was refused.
    #[error("the contact is not valid: {0}")]
    InvalidContact(String),
    /// A wrap-up (note, tags, follow-up) was refused.
    #[error("the wrap-up is not valid: {0}")]
    InvalidWrapUp(String),
    /// An SQLite error not yet tied to the file; the call log turns it into one of the variants
    /// above before handing it out.
    #[error("call-log database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The call log was closed, or its writer thread stopped.
    #[error("the call log is closed")]
    Closed,
}

impl CallLogError {
    /// The stable code the UI and the CLI's exit codes use.
    pub fn code(&self) -> ErrorCode {
        match self {
            CallLogError::SearchTooShort(_) => ErrorCode::SearchTooShort,
            CallLogError::InvalidContact(_) | CallLogError::InvalidWrapUp(_) => ErrorCode::Invalid,
            CallLogError::NoSuchContact(_) => ErrorCode::NotFound,
            CallLogError::NotADatabase { .. }
            | CallLogError::Corrupt { .. }
            | CallLogError::TooNew { .. }
            | CallLogError::Migration { .. }
            | CallLogError::Database { .. }
            | CallLogError::File { .. }
            | CallLogError::Csv(_)
            | CallLogError::Sqlite(_)
            | CallLogError::Closed => ErrorCode::CallLog,
        }
    }

    /// Reads an SQLite error in the light of the file it happened on, so that a damaged or foreign
    /// file is reported as such rather than as a bare SQLite code.
    pub(crate) fn from_sqlite(path: &Path, source: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => CallLogError::NotADatabase {
                path: path.to_owned(),
            },
            Some(ErrorCode::DatabaseCorrupt) => CallLogError::Corrupt {
                path: path.to_owned(),
                detail: source.to_string(),
            },
            _ => CallLogError::Database {
                path: path.to_owned(),
                source,
            },
        }
    }

    /// Ties a bare SQLite error to the file it happened on.
    pub(crate) fn on_file(self, path: &Path) -> Self {
        match self {
            CallLogError::Sqlite(source) => Self::from_sqlite(path, source),
            other => other,
        }
    }

    pub(crate) fn from_migration(path: &Path, error: rusqlite_migration::Error) -> Self {
        match error {
            rusqlite_migration::Error::RusqliteError { err, .. } => match err.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                    Self::from_sqlite(path, err)
                }
                _ => CallLogError::Migration {
                    path: path.to_owned(),
                    detail: err.to_string(),
                },
            },
            rusqlite_migration::Error::MigrationDefinition(
                rusqlite_migration::MigrationDefinitionError::DatabaseTooFarAhead,
            ) => CallLogError::TooNew {
                path: path.to_owned(),
            },
            other => CallLogError::Migration {
                path: path.to_owned(),
                detail: other.to_string(),
            },
        }
    }
}

/// The result of every call-log operation.
pub type Result<T, E = CallLogError> = std::result::Result<T, E>;
