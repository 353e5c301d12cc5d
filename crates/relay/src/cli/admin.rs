//! `trubka-relay admin add|list|remove`: who may sign in to the admin console. A console
//! account is a seat with role admin or supervisor and a password (argon2id); `admin add`
//! makes the first one, the console makes the others.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;
use relay::RelayError;
use relay::console::password;
use relay::store::NoSink;
use relay::store::console::ConsoleStore as _;
use relay::store::sqlite::{SqliteOptions, SqliteStore};
use relay::store::team::{SeatRecord, SeatRef, TeamStore as _};
use team_api::Role;

use super::settings;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Give a seat (an active admin or supervisor) a console password, asked without echo
    /// (or read as a line from a pipe); replaces its password and ends its console sessions.
    Add {
        /// The seat's name or number.
        seat: String,
    },
    /// The seats that may sign in to the console.
    List,
    /// Take a seat's console password away and end its console sessions.
    Remove {
        /// The seat's name or number.
        seat: String,
    },
}

/// The password typed at a terminal without echo, or a line from a pipe (for scripts); only
/// the line's end is taken off.
fn read_password() -> Result<String, RelayError> {
    let input_error = |err: std::io::Error| RelayError::TeamInput {
        field: "password",
        reason: err.to_string(),
    };
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Console password (12 characters or more): ")
            .map_err(input_error)?;
        let again = rpassword::prompt_password("The same again: ").map_err(input_error)?;
        if first != again {
            return Err(RelayError::TeamInput {
                field: "password",
                reason: "the two passwords differ".into(),
            });
        }
        return Ok(first);
    }
    eprint!("Console password: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(input_error)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

fn console_seat(seats: &[SeatRecord], named: &str) -> Result<SeatRecord, RelayError> {
    let found: Vec<&SeatRecord> = match SeatRef::parse(named) {
        SeatRef::Id(id) => seats.iter().filter(|s| s.profile.id == id).collect(),
        SeatRef::Name(name) => seats
            .iter()
            .filter(|s| s.profile.name == name && s.revoked_at.is_none())
            .collect(),
    };
    match found.as_slice() {
        [] => Err(RelayError::SeatNotFound(named.to_owned())),
        [seat] if seat.revoked_at.is_some() => Err(RelayError::SeatRevoked(named.to_owned())),
        [seat] => Ok((*seat).clone()),
        _ => Err(RelayError::SeatAmbiguous(named.to_owned())),
    }
}

pub async fn run(
    config_path: &Path,
    database: Option<PathBuf>,
    action: AdminCommand,
) -> Result<(), RelayError> {
    let (file, base) = settings(config_path, database)?;
    let store = Arc::new(SqliteStore::open(
        &file.database_path(&base),
        SqliteOptions::default(),
        Arc::new(NoSink),
    )?);
    match action {
        AdminCommand::Add { seat } => {
            let seat = console_seat(&store.seats().await?, &seat)?;
            if !matches!(seat.profile.role, Role::Admin | Role::Supervisor) {
                return Err(RelayError::TeamInput {
                    field: "seat",
                    reason: format!(
                        "seat {} ({}) is an operator; only an admin or a supervisor signs in to the console (change its role with the console or make a seat)",
                        seat.profile.id, seat.profile.name
                    ),
                });
            }
            let typed = read_password()?;
            password::check_new(&typed).map_err(|reason| RelayError::TeamInput {
                field: "password",
                reason,
            })?;
            let hash = password::hash(typed).await?;
            store.set_console_password(seat.profile.id, hash).await?;
            let ended = store.remove_console_sessions_of(seat.profile.id).await?;
            println!(
                "Seat {} ({}, {}) may sign in to the console at <public_url>/admin{}.",
                seat.profile.id,
                seat.profile.name,
                seat.profile.role,
                if ended > 0 {
                    format!("; {ended} earlier sessions ended")
                } else {
                    String::new()
                }
            );
        }
        AdminCommand::List => {
            let seats = store.seats().await?;
            for account in store.console_accounts().await? {
                let Some(seat) = seats.iter().find(|s| s.profile.id == account.seat) else {
                    continue;
                };
                let state = if seat.revoked_at.is_some() {
                    "revoked"
                } else if !matches!(seat.profile.role, Role::Admin | Role::Supervisor) {
                    "operator (no access)"
                } else if account
                    .locked_until
                    .is_some_and(|at| at > chrono::Utc::now())
                {
                    "locked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{state}",
                    seat.profile.id, seat.profile.name, seat.profile.role
                );
            }
        }
        AdminCommand::Remove { seat } => {
            let found = console_seat(&store.seats().await?, &seat)?;
            if !store.remove_console_account(found.profile.id).await? {
                return Err(RelayError::TeamInput {
                    field: "seat",
                    reason: format!("seat {} has no console password", found.profile.id),
                });
            }
            println!(
                "Seat {} ({}) can no longer sign in to the console; its sessions ended.",
                found.profile.id, found.profile.name
            );
        }
    }
    Ok(())
}
