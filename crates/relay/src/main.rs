//! `trubka-relay`: the relay as a command. `init` writes a configuration with a fresh hook
//! (and the at-rest key beside it, if there is none), `serve` runs the relay, `keys` manages
//! the client keys of personal-mode apps, `team` the МТТ integration the relay holds in team
//! mode, `seats` the team's seats and their invites, `audit` the seats' actions at the PBX,
//! `tags` the team's wrap-up tags, `backup` copies the event store while it
//! runs and `restore` puts a backup in its place with a new epoch.
//!
//! Without `--config`, the configuration is `trubka-relay.toml` in the working folder, or the
//! packaged relay's `/etc/trubka-relay/relay.toml` when there is none here and that one exists.
//!
//! Settings come from the configuration file, then `TRUBKA_RELAY_*` environment variables,
//! then flags, each overriding the one before.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod cli;

use clap::{Args, Parser, Subcommand};
use relay::store::NoSink;
use relay::store::StoreLocation;
use relay::store::sqlite;
use relay::{ClientKey, ConfigFile, HookPath, Relay, RelayError};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "trubka-relay",
    version,
    about = "Durable, resumable webhook relay and OAuth hand-off for Trubka"
)]
struct Cli {
    /// The configuration file [default: trubka-relay.toml, or /etc/trubka-relay/relay.toml when
    /// there is none in the working folder and that one exists].
    #[arg(long, global = true, env = "TRUBKA_RELAY_CONFIG")]
    config: Option<PathBuf>,
    /// Log filter (tracing's EnvFilter syntax), written to standard error.
    #[arg(long, global = true, env = "TRUBKA_RELAY_LOG", default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a configuration with a fresh secret hook and print the Redirect URI to register.
    Init(InitArgs),
    /// Run the relay; prints one JSON line with the listen address, Redirect URI and stream URL.
    Serve(Box<ServeArgs>),
    /// Manage client keys (personal-mode apps; in team mode seats join with invites).
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
        /// The database file (default: from the configuration).
        #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
        database: Option<PathBuf>,
    },
    /// Copy the event store into a new file, consistently, while the relay runs.
    Backup {
        /// The backup file to write (never overwritten).
        file: PathBuf,
        /// The database file (default: from the configuration).
        #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
        database: Option<PathBuf>,
    },
    /// The МТТ integration the relay holds in team mode: connect it, see its state, rotate the
    /// at-rest key.
    Team {
        #[command(subcommand)]
        action: cli::team::TeamCommand,
        /// The database file (default: from the configuration).
        #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
        database: Option<PathBuf>,
    },
    /// The audit log of the seats' actions at the PBX: print it, or export it as CSV.
    Audit(cli::audit::AuditArgs),
    /// The team's routing of parked calls: show or set the rules, read the journal.
    Routing {
        #[command(subcommand)]
        action: cli::routing::RoutingCommand,
        /// The database file (default: from the configuration).
        #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
        database: Option<PathBuf>,
    },
    /// The team's seats: add, list, revoke, invite.
    Seats {
        #[command(subcommand)]
        action: cli::seats::SeatsCommand,
        /// The database file (default: from the configuration).
        #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
        database: Option<PathBuf>,
    },
    /// Who may sign in to the admin console: add (a password for an admin's or supervisor's
    /// seat), list, remove.
    Admin {
        #[command(subcommand)]
        action: cli::admin::AdminCommand,
        /// The database file (default: from the configuration).
        #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
        database: Option<PathBuf>,
    },
    /// The team's wrap-up tags: list them, or set them and whether one is required.
    Tags {
        #[command(subcommand)]
        action: cli::tags::TagsCommand,
        /// The database file (default: from the configuration).
        #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
        database: Option<PathBuf>,
    },
    /// The team phonebook: import a CSV or vCard file, list it, export it as CSV.
    Contacts {
        #[command(subcommand)]
        action: cli::contacts::ContactsCommand,
        /// The database file (default: from the configuration).
        #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
        database: Option<PathBuf>,
    },
    /// Put a backup in place of the event store (stop the relay first). The store gets a new
    /// epoch, so that apps which were ahead of the backup reload instead of missing events;
    /// the replaced database is kept beside it as `<database>.replaced-<time>`.
    Restore {
        /// The backup file to restore.
        file: PathBuf,
        /// The database file (default: from the configuration).
        #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
        database: Option<PathBuf>,
    },
    /// Give a Postgres store a new epoch after `pg_restore` put it back to an older state
    /// (stop every instance first): apps that were ahead of the restored state reload instead
    /// of missing events. A SQLite store gets its new epoch from `restore`.
    RenewEpoch {
        /// The database (default: from the configuration).
        #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
        database: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct InitArgs {
    /// The public HTTPS base URL the TLS proxy serves, e.g. `https://relay.example.com`.
    #[arg(long, env = "TRUBKA_RELAY_PUBLIC_URL")]
    public_url: Option<String>,
    /// The address to listen on behind the proxy.
    #[arg(long, env = "TRUBKA_RELAY_LISTEN", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// The database file (relative to the configuration file's folder).
    #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
    database: Option<PathBuf>,
    /// Replace an existing configuration (this changes the hook and the Redirect URI).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Overrides of the configuration file")]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "TRUBKA_RELAY_LISTEN")]
    listen: Option<SocketAddr>,
    /// Public base URL (for the printed Redirect URI and stream URL).
    #[arg(long, env = "TRUBKA_RELAY_PUBLIC_URL")]
    public_url: Option<String>,
    /// The secret hook path segment (prefer the configuration file or the environment).
    #[arg(long, env = "TRUBKA_RELAY_HOOK", hide_env_values = true)]
    hook: Option<String>,
    /// The database file.
    #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
    database: Option<PathBuf>,
    /// Largest notification body in bytes.
    #[arg(long, env = "TRUBKA_RELAY_BODY_LIMIT_BYTES")]
    body_limit_bytes: Option<usize>,
    /// Duplicate window in seconds.
    #[arg(long, env = "TRUBKA_RELAY_DUPLICATE_WINDOW_SECS")]
    duplicate_window_secs: Option<u64>,
    /// Retention in days.
    #[arg(long, env = "TRUBKA_RELAY_RETENTION_DAYS")]
    retention_days: Option<u64>,
    /// How long the audit log is kept, in days (default 365).
    #[arg(long, env = "TRUBKA_RELAY_AUDIT_RETENTION_DAYS")]
    audit_retention_days: Option<u64>,
    /// How long the team's wrap-ups are kept, in days (default 365).
    #[arg(long, env = "TRUBKA_RELAY_WRAPUP_RETENTION_DAYS")]
    wrapup_retention_days: Option<u64>,
    /// How long the journal of routing decisions is kept, in days (default 365).
    #[arg(long, env = "TRUBKA_RELAY_ROUTING_JOURNAL_RETENTION_DAYS")]
    routing_journal_retention_days: Option<u64>,
    /// How often retention runs, in seconds.
    #[arg(long, env = "TRUBKA_RELAY_PRUNE_INTERVAL_SECS")]
    prune_interval_secs: Option<u64>,
    /// Heartbeat interval in milliseconds.
    #[arg(long, env = "TRUBKA_RELAY_HEARTBEAT_MS")]
    heartbeat_ms: Option<u64>,
    /// Suggested reconnection delay in milliseconds.
    #[arg(long, env = "TRUBKA_RELAY_RETRY_MS")]
    retry_ms: Option<u64>,
    /// Live events buffered per stream client before it is cut off.
    #[arg(long, env = "TRUBKA_RELAY_CLIENT_BUFFER")]
    client_buffer: Option<usize>,
    /// Longest OAuth code long poll in milliseconds.
    #[arg(long, env = "TRUBKA_RELAY_OAUTH_POLL_TIMEOUT_MS")]
    oauth_poll_timeout_ms: Option<u64>,
    /// How long a received OAuth code is kept, in seconds.
    #[arg(long, env = "TRUBKA_RELAY_OAUTH_CODE_TTL_SECS")]
    oauth_code_ttl_secs: Option<u64>,
    /// A trubka:// link the sign-in page offers.
    #[arg(long, env = "TRUBKA_RELAY_APP_LINK")]
    app_link: Option<String>,
    /// Sign-in long polls waiting at once before the next gets 503.
    #[arg(long, env = "TRUBKA_RELAY_OAUTH_POLLS_MAX")]
    oauth_polls_max: Option<usize>,
    /// Event streams open at once, all keys together, before the next gets 503.
    #[arg(long, env = "TRUBKA_RELAY_STREAMS_MAX")]
    streams_max: Option<usize>,
    /// Event streams one client key may hold open before the next gets 429.
    #[arg(long, env = "TRUBKA_RELAY_STREAMS_PER_KEY")]
    streams_per_key: Option<usize>,
    /// How often keys changed by another process are looked for, in milliseconds.
    #[arg(long, env = "TRUBKA_RELAY_KEYS_RECHECK_MS")]
    keys_recheck_ms: Option<u64>,
    /// Time to send a request's headers, and to keep an idle connection, in milliseconds.
    #[arg(long, env = "TRUBKA_RELAY_HEADER_READ_TIMEOUT_MS")]
    header_read_timeout_ms: Option<u64>,
    /// Longest intake or sign-in landing request, body included, in milliseconds.
    #[arg(long, env = "TRUBKA_RELAY_REQUEST_TIMEOUT_MS")]
    request_timeout_ms: Option<u64>,
    /// The write-ahead log is brought back under this many bytes after a burst.
    #[arg(long, env = "TRUBKA_RELAY_WAL_LIMIT_BYTES")]
    wal_limit_bytes: Option<u64>,
    /// The at-rest key's file (TRUBKA_RELAY_KEY, the key itself, overrides it).
    #[arg(long, env = "TRUBKA_RELAY_KEY_FILE")]
    key_file: Option<PathBuf>,
    /// In team mode, still admit personal-mode client keys (they get the unfiltered stream).
    #[arg(long, env = "TRUBKA_RELAY_ALLOW_CLIENT_KEYS")]
    allow_client_keys: bool,
    /// МТТ's OAuth server.
    #[arg(long, env = "TRUBKA_RELAY_MTT_OAUTH_URL")]
    mtt_oauth_url: Option<String>,
    /// МТТ's Open API.
    #[arg(long, env = "TRUBKA_RELAY_MTT_API_URL")]
    mtt_api_url: Option<String>,
    /// Refresh the integration's access token this many seconds before it expires.
    #[arg(long, env = "TRUBKA_RELAY_REFRESH_MARGIN_SECS")]
    refresh_margin_secs: Option<u64>,
    /// Join attempts taken per minute, all clients together.
    #[arg(long, env = "TRUBKA_RELAY_JOIN_ATTEMPTS_PER_MINUTE")]
    join_attempts_per_minute: Option<u32>,
}

impl ServeArgs {
    fn into_file(self) -> ConfigFile {
        ConfigFile {
            listen: self.listen,
            public_url: self.public_url,
            hook: self.hook,
            database: self.database,
            body_limit_bytes: self.body_limit_bytes,
            duplicate_window_secs: self.duplicate_window_secs,
            retention_days: self.retention_days,
            audit_retention_days: self.audit_retention_days,
            wrapup_retention_days: self.wrapup_retention_days,
            routing_journal_retention_days: self.routing_journal_retention_days,
            prune_interval_secs: self.prune_interval_secs,
            heartbeat_ms: self.heartbeat_ms,
            retry_ms: self.retry_ms,
            client_buffer: self.client_buffer,
            oauth_poll_timeout_ms: self.oauth_poll_timeout_ms,
            oauth_code_ttl_secs: self.oauth_code_ttl_secs,
            app_link: self.app_link,
            oauth_polls_max: self.oauth_polls_max,
            streams_max: self.streams_max,
            streams_per_key: self.streams_per_key,
            keys_recheck_ms: self.keys_recheck_ms,
            header_read_timeout_ms: self.header_read_timeout_ms,
            request_timeout_ms: self.request_timeout_ms,
            wal_limit_bytes: self.wal_limit_bytes,
            key_file: self.key_file,
            allow_client_keys: self.allow_client_keys.then_some(true),
            mtt_oauth_url: self.mtt_oauth_url,
            mtt_api_url: self.mtt_api_url,
            refresh_margin_secs: self.refresh_margin_secs,
            join_attempts_per_minute: self.join_attempts_per_minute,
            // The console's table has no flags: it is read from the file only.
            console: None,
        }
    }
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key for an operator seat and print it (the only time it is shown).
    Add {
        /// Who the key is for, e.g. seat-1 or alice.
        label: String,
    },
    /// List the keys (labels and dates; never the keys).
    List,
    /// Revoke the active key with this label.
    Revoke {
        /// The key's label.
        label: String,
    },
}

/// The configuration file: the one named, else `trubka-relay.toml` here, else the packaged
/// relay's if it exists.
fn config_path(named: Option<PathBuf>) -> PathBuf {
    if let Some(path) = named {
        return path;
    }
    let here = PathBuf::from("trubka-relay.toml");
    let packaged = PathBuf::from(relay::config::PACKAGED_CONFIG);
    if !here.exists() && packaged.exists() {
        packaged
    } else {
        here
    }
}

pub(crate) fn config_dir(config: &Path) -> PathBuf {
    match config.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The configuration file if it exists; without one, everything must come from the
/// environment and flags.
pub(crate) fn load_optional(config: &Path) -> Result<ConfigFile, RelayError> {
    if config.exists() {
        ConfigFile::load(config)
    } else {
        Ok(ConfigFile::default())
    }
}

fn init(config_path: &Path, args: InitArgs) -> Result<(), RelayError> {
    let hook = HookPath::generate();
    let file = ConfigFile {
        listen: Some(args.listen),
        public_url: args.public_url,
        hook: Some(hook.expose_secret().to_owned()),
        database: Some(
            args.database
                .unwrap_or_else(|| PathBuf::from(relay::config::DEFAULT_DATABASE)),
        ),
        ..ConfigFile::default()
    };
    // Check the values before writing anything.
    let config = file.clone().into_config(&config_dir(config_path))?;
    file.write(config_path, args.force)?;
    println!("Wrote {}", config_path.display());
    // The key is never replaced: the database's secrets are sealed with it.
    if relay::sealing::ensure_key_file(&config.key_file)? {
        println!(
            "Wrote the at-rest key {} (mode 0600): back it up apart from the database.",
            config.key_file.display()
        );
    } else {
        println!(
            "Kept the at-rest key {} (init never replaces it).",
            config.key_file.display()
        );
    }
    match &config.public_url {
        Some(base) => println!(
            "Register this Redirect URI in the МТТ Бизнес cabinet (it is a secret):\n  {base}/{}",
            hook.expose_secret()
        ),
        None => println!(
            "Set public_url (the HTTPS address of your TLS proxy); the Redirect URI to register is then\n  <public_url>/{}",
            hook.expose_secret()
        ),
    }
    Ok(())
}

async fn serve(config_path: &Path, args: ServeArgs) -> Result<(), RelayError> {
    let file = load_optional(config_path)?.overridden_by(args.into_file());
    let config = file.into_config(&config_dir(config_path))?;
    let relay = Relay::start(config).await?;
    let announcement = serde_json::json!({
        "listen": relay.local_addr().to_string(),
        "redirectUri": relay.redirect_uri().expose_secret(),
        "streamUrl": relay.stream_url(),
    });
    println!("{announcement}");
    wait_for_stop_signal().await;
    tracing::info!("stopping");
    relay.shutdown().await
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The store a command works on: the flag's, else the configuration's.
fn location_of(config_path: &Path, database: Option<PathBuf>) -> Result<StoreLocation, RelayError> {
    let (file, base) = cli::settings(config_path, database)?;
    file.store_location(&base)
}

/// The SQLite file a command that works on files only (backup, restore) works on.
fn sqlite_file_of(
    config_path: &Path,
    database: Option<PathBuf>,
    command: &str,
) -> Result<PathBuf, RelayError> {
    match location_of(config_path, database)? {
        StoreLocation::Sqlite(path) => Ok(path),
        StoreLocation::Postgres(_) => Err(RelayError::ConfigValue {
            field: "database",
            reason: format!(
                "`{command}` copies a SQLite file; a Postgres store is backed up with pg_dump and restored with pg_restore, then `trubka-relay renew-epoch` (DEPLOY.md, \"High availability\")"
            ),
        }),
    }
}

async fn renew_epoch(config_path: &Path, database: Option<PathBuf>) -> Result<(), RelayError> {
    match location_of(config_path, database)? {
        StoreLocation::Postgres(url) => {
            let renewed = relay::store::postgres::renew_epoch(url.expose_secret()).await?;
            println!(
                "The store's new epoch is {}: apps that were ahead of the restored state are resynced when they reconnect; new events get ids after {}. Start the instances now.",
                renewed.epoch, renewed.ids_after.0
            );
            Ok(())
        }
        StoreLocation::Sqlite(_) => Err(RelayError::ConfigValue {
            field: "database",
            reason: "a SQLite store gets its new epoch from `trubka-relay restore <backup>`".into(),
        }),
    }
}

fn backup(config_path: &Path, file: &Path, database: Option<PathBuf>) -> Result<(), RelayError> {
    let database = sqlite_file_of(config_path, database, "backup")?;
    sqlite::backup(&database, file)?;
    println!("Backed up {} to {}", database.display(), file.display());
    Ok(())
}

fn restore(config_path: &Path, file: &Path, database: Option<PathBuf>) -> Result<(), RelayError> {
    let database = sqlite_file_of(config_path, database, "restore")?;
    let restored = sqlite::restore(file, &database)?;
    println!(
        "Restored {} into {}: {} events; new events continue after id {}.",
        file.display(),
        database.display(),
        restored.events,
        restored.last_id
    );
    println!(
        "The store's new epoch is {}: apps that were ahead of the backup are resynced when they reconnect.",
        restored.epoch
    );
    if let Some(replaced) = &restored.replaced {
        println!("The replaced database was kept as {}.", replaced.display());
    }
    match &restored.keys {
        sqlite::KeysFrom::Replaced => {
            println!(
                "Client keys and the team (seats, invites, credentials and their revocations, the integration) were kept from the replaced database."
            );
        }
        sqlite::KeysFrom::Backup(None) => {
            println!(
                "Client keys and seats come from the backup: review them with `keys list` and `seats list`."
            );
        }
        sqlite::KeysFrom::Backup(Some(why)) => println!(
            "Client keys and seats come from the backup, since the replaced database could not be read ({why}): review them with `keys list` and `seats list`, and revoke any revoked since the backup."
        ),
    }
    Ok(())
}

async fn keys(
    config_path: &Path,
    database: Option<PathBuf>,
    action: KeysCommand,
) -> Result<(), RelayError> {
    let store = location_of(config_path, database)?
        .open(std::sync::Arc::new(NoSink))
        .await?;
    match action {
        KeysCommand::Add { label } => {
            relay::keys::validate_label(&label)?;
            let key = ClientKey::generate();
            store.add_client_key(label.clone(), key.hash()).await?;
            println!("{}", key.expose_secret());
            eprintln!(
                "Client key for {label:?} created. It is shown only now: give it to the operator's app."
            );
        }
        KeysCommand::List => {
            for record in store.client_keys().await? {
                let status = match record.revoked_at {
                    Some(at) => format!("revoked {}", at.format("%Y-%m-%d %H:%M UTC")),
                    None => "active".to_owned(),
                };
                println!(
                    "{}\tcreated {}\t{status}",
                    record.label,
                    record.created_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        KeysCommand::Revoke { label } => {
            store.revoke_client_key(label.clone()).await?;
            println!("Revoked the key of {label:?}; its holder can no longer open the stream.");
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = config_path(cli.config);
    let result = match cli.command {
        Command::Init(args) => init(&config, args),
        Command::Serve(args) => serve(&config, *args).await,
        Command::Keys { action, database } => keys(&config, database, action).await,
        Command::Team { action, database } => cli::team::run(&config, database, action).await,
        Command::Seats { action, database } => cli::seats::run(&config, database, action).await,
        Command::Admin { action, database } => cli::admin::run(&config, database, action).await,
        Command::Audit(args) => cli::audit::run(&config, args).await,
        Command::Tags { action, database } => cli::tags::run(&config, database, action).await,
        Command::Contacts { action, database } => {
            cli::contacts::run(&config, database, action).await
        }
        Command::Routing { action, database } => cli::routing::run(&config, database, action).await,
        Command::Backup { file, database } => backup(&config, &file, database),
        Command::Restore { file, database } => restore(&config, &file, database),
        Command::RenewEpoch { database } => renew_epoch(&config, database).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Every error's message already names its cause.
            eprintln!("trubka-relay: {err}");
            ExitCode::FAILURE
        }
    }
}
