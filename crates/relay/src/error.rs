//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while configuring, starting or running the relay.
///
/// The Display strings are written for the operator who runs `trubka-relay`: each names what
/// was wrong and, where it helps, what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The event store could not be opened, read or written.
    #[error("event store {path}: {source}")]
    Store {
        /// The database file.
        path: PathBuf,
        /// What SQLite reported.
        #[source]
        source: rusqlite::Error,
    },
    /// The Postgres store could not be reached, read or written.
    #[error("postgres store: {context}: {source}")]
    Postgres {
        /// What the relay was doing.
        context: &'static str,
        /// What the driver or the server reported.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The database was written by a newer trubka-relay: this one would not understand it.
    #[error(
        "the store's schema is version {found}, newer than this trubka-relay knows ({known}); run the newer trubka-relay"
    )]
    StoreNewer {
        /// The version the database records.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A Postgres group commit failed; none of the events in it were stored.
    #[error("postgres store: the commit failed, nothing of this batch was stored: {0}")]
    PostgresCommit(String),
    /// A value read from the Postgres store is not what the relay wrote (a hand edit).
    #[error("postgres store: {0}")]
    PostgresData(String),
    /// No connection to the Postgres store could be had (the server is down or every
    /// connection of the pool is busy past its wait).
    #[error("postgres store: no connection: {0}")]
    PostgresPool(String),
    /// A group commit failed; none of the events in it were stored.
    #[error("event store {path}: the commit failed, nothing of this batch was stored: {message}")]
    Commit {
        /// The database file.
        path: PathBuf,
        /// What SQLite reported.
        message: String,
    },
    /// A backup could not be made or restored: the file named and what was wrong with it.
    #[error("{file}: {reason}")]
    Backup {
        /// The backup file or the database.
        file: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The database is open in another process, so it cannot be replaced now.
    #[error(
        "{0} is in use (by a running relay or another trubka-relay command); stop the relay first"
    )]
    StoreInUse(PathBuf),
    /// Relay instances are connected to the Postgres database, so it cannot be changed under
    /// them now.
    #[error(
        "{0} connection(s) of running trubka-relay instances use this database; stop every instance first"
    )]
    PostgresInUse(i64),
    /// The event store's writer has stopped (the process is shutting down or the writer failed).
    #[error("the event store's writer has stopped; the relay must be restarted")]
    StoreClosed,
    /// A configuration file could not be read or written.
    #[error("configuration file {path}: {source}")]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file is not valid TOML or has a wrong field.
    #[error("configuration file {path} is not valid: {message}")]
    ConfigSyntax {
        /// The file.
        path: PathBuf,
        /// The parser's explanation, naming the field.
        message: String,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("configuration value `{field}` is not valid: {reason}")]
    ConfigValue {
        /// The field's name as written in the file.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// `init` would overwrite an existing configuration.
    #[error(
        "{0} already exists; pass --force to replace it (this changes the hook path and the Redirect URI)"
    )]
    ConfigExists(PathBuf),
    /// A background thread could not be started.
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server failed while running.
    #[error("the HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// A client key label is empty, too long or uses characters other than letters, digits,
    /// `-`, `_` and `.`.
    #[error("client key label {0:?} is not valid: use 1 to 64 letters, digits, '-', '_' or '.'")]
    KeyLabel(String),
    /// A client key with that label is already active.
    #[error(
        "an active client key labelled {0:?} already exists; revoke it first or pick another label"
    )]
    KeyLabelTaken(String),
    /// No active client key has that label.
    #[error("no active client key is labelled {0:?}")]
    KeyNotFound(String),
    /// The operating system's random source failed.
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    /// The at-rest key could not be read or written.
    #[error("{source_name}: {reason}")]
    AtRestKey {
        /// The key file or environment variable.
        source_name: String,
        /// What was wrong.
        reason: String,
    },
    /// Team mode needs the at-rest key and there is none.
    #[error(
        "no at-rest key: {key_file} does not exist and TRUBKA_RELAY_KEY is not set; run `trubka-relay init` (it creates the key and keeps the configuration) or restore the key from its backup"
    )]
    NoAtRestKey {
        /// Where the key file was looked for.
        key_file: PathBuf,
    },
    /// A sealed record cannot be opened: damaged or changed.
    #[error("the stored secret {name:?} cannot be opened: {reason}")]
    Sealed {
        /// The record.
        name: String,
        /// What was wrong.
        reason: String,
    },
    /// A sealed record was sealed under another key than the one given.
    #[error(
        "the stored secret {name:?} was sealed with key {sealed_with}, but {source_name} holds key {key_id}: use the key file this database was sealed with (from its backup), or connect the integration again"
    )]
    WrongAtRestKey {
        /// The record.
        name: String,
        /// The id of the key it was sealed with.
        sealed_with: String,
        /// Where the key in use came from.
        source_name: String,
        /// The id of the key in use.
        key_id: String,
    },
    /// A seat, invite or team value given on the command line is not valid.
    #[error("{field} is not valid: {reason}")]
    TeamInput {
        /// What was given (`--workplace`, `--expires`…).
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A phonebook file could not be read or written, or holds rows that cannot be imported:
    /// the file, and what was wrong (each bad line named).
    #[error("{file}: {reason}")]
    ContactsFile {
        /// The file.
        file: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// No seat matches.
    #[error("no seat {0:?} (give its number or its name, as `seats list` shows them)")]
    SeatNotFound(String),
    /// The seat was revoked.
    #[error("seat {0:?} is revoked")]
    SeatRevoked(String),
    /// Several active seats have this name.
    #[error("several seats are named {0:?}; give the seat's number instead")]
    SeatAmbiguous(String),
    /// No integration is connected.
    #[error("no МТТ integration is connected; run `trubka-relay team connect`")]
    NotConnected,
    /// МТТ (through `mtt-api`) failed or refused.
    #[error("{what}: {source}")]
    Mtt {
        /// What the relay was doing.
        what: &'static str,
        /// What `mtt-api` reported.
        #[source]
        source: mtt_api::Error,
    },
    /// The team's routing rules are not valid (given by an admin) or do not read (stored).
    #[error("routing rules: {0}")]
    Routing(String),
}
