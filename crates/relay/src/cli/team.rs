//! `trubka-relay team …`: connect the МТТ integration to the relay, see its state, rotate the
//! at-rest key.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use relay::RelayError;
use relay::integration::{self, ClientCredentials};
use relay::sealing::{self, Sealer};
use team_api::{IntegrationState, TeamStatus};

use relay::store::team::SharedTeamStore;
use relay::store::{NoSink, StoreLocation};
use std::sync::Arc;

use super::settings;

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Connect the МТТ integration to the relay: prints the address to open in a browser; the
    /// sign-in lands on the relay's Redirect URI and the running relay finishes it. The client
    /// id and secret are stored sealed with the at-rest key.
    Connect {
        /// The integration's client id (from the МТТ cabinet); asked for when not given.
        #[arg(long, env = "TRUBKA_RELAY_CLIENT_ID")]
        client_id: Option<String>,
        /// The integration's client secret; asked for when not given (prefer that, or the
        /// environment, to a flag that lands in the shell's history).
        #[arg(long, env = "TRUBKA_RELAY_CLIENT_SECRET", hide_env_values = true)]
        client_secret: Option<String>,
    },
    /// The integration's state as the running relay last recorded it.
    Status {
        /// JSON for scripts (team-api's TeamStatus).
        #[arg(long)]
        json: bool,
    },
    /// Seal every stored secret with a new at-rest key (stop the relay first). The old key is
    /// kept as `<key>.old-<time>` until every secret is sealed again; back up the new key.
    RotateKey,
}

fn ask(prompt: &str) -> Result<String, RelayError> {
    eprint!("{prompt}: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|err| RelayError::TeamInput {
            field: "standard input",
            reason: err.to_string(),
        })?;
    Ok(line.trim().to_owned())
}

/// A secret typed at a terminal without echo (over a shoulder or a shared screen it would
/// otherwise be read); from a pipe it is read as a line, for scripts.
fn ask_secret(prompt: &str) -> Result<String, RelayError> {
    if !std::io::stdin().is_terminal() {
        return ask(prompt);
    }
    let typed =
        rpassword::prompt_password(format!("{prompt}: ")).map_err(|err| RelayError::TeamInput {
            field: "the terminal",
            reason: err.to_string(),
        })?;
    Ok(typed.trim().to_owned())
}

pub async fn run(
    config_path: &Path,
    database: Option<PathBuf>,
    action: TeamCommand,
) -> Result<(), RelayError> {
    let (file, base) = settings(config_path, database)?;
    let location = file.store_location(&base)?;
    let key_file = file.key_file_path(&base);
    match action {
        TeamCommand::Connect {
            client_id,
            client_secret,
        } => {
            let config = file.into_config(&base)?;
            let Some(public_url) = config.public_url.clone() else {
                return Err(RelayError::ConfigValue {
                    field: "public_url",
                    reason: "team connect needs the relay's public HTTPS address: the sign-in lands on its Redirect URI".into(),
                });
            };
            let sealer = Sealer::load(&key_file)?.ok_or(RelayError::NoAtRestKey {
                key_file: key_file.clone(),
            })?;
            let client_id = match client_id {
                Some(id) => id,
                None => ask("Client id (МТТ cabinet, Мои интеграции)")?,
            };
            let client_secret = match client_secret {
                Some(secret) => secret,
                None => ask_secret("Client secret")?,
            };
            let redirect_uri = format!("{public_url}/{}", config.hook.expose_secret());
            let team: SharedTeamStore = location.open(Arc::new(NoSink)).await?;
            let url = integration::begin_connect(
                &team,
                &sealer,
                &config,
                &redirect_uri,
                ClientCredentials {
                    client_id,
                    client_secret: mtt_api::ClientSecret::new(client_secret),
                },
            )
            .await?;
            println!("{url}");
            eprintln!(
                "Open this address in a browser within {} minutes and sign in with the МТТ Бизнес cabinet's login. The sign-in returns to the relay, which must be running (`trubka-relay serve`); it finishes the connection itself. Then check `trubka-relay team status`.",
                integration::CONNECT_TTL.num_minutes()
            );
        }
        TeamCommand::Status { json } => {
            let team: SharedTeamStore = location.open(Arc::new(NoSink)).await?;
            let recorded = integration::recorded_status(&team).await?;
            let connected = match Sealer::load(&key_file)? {
                Some(sealer) => integration::client_credentials(&team, &sealer)
                    .await?
                    .is_some(),
                None => false,
            };
            let status = recorded.unwrap_or_else(|| TeamStatus::not_connected(connected));
            if json {
                let text =
                    serde_json::to_string_pretty(&status).map_err(|err| RelayError::TeamInput {
                        field: "status",
                        reason: err.to_string(),
                    })?;
                println!("{text}");
            } else {
                print_status(&status);
            }
        }
        TeamCommand::RotateKey => {
            let rotated = sealing::rotate_key(&key_file, &location).await?;
            if rotated.finished_earlier {
                println!("Finished an interrupted rotation.");
            }
            println!(
                "Sealed {} stored secrets with the new key {} in {}. Back up the new key file now: the old one no longer opens them.",
                rotated.resealed,
                rotated.key_id,
                key_file.display()
            );
            if matches!(location, StoreLocation::Postgres(_)) {
                println!(
                    "Copy the new key file to every instance's host (the same path and mode 0600) before starting any instance again."
                );
            }
        }
    }
    Ok(())
}

fn print_status(status: &TeamStatus) {
    let state = match status.integration {
        IntegrationState::Connected => "connected",
        IntegrationState::RefreshFailing => "REFRESH FAILING",
        IntegrationState::NotConnected => "not connected",
    };
    println!("integration: {state}");
    println!("team mode: {}", if status.team_mode { "on" } else { "off" });
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map_or_else(
            || "-".to_owned(),
            |at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
    };
    println!("access token expires: {}", time(status.access_expires_at));
    println!("refresh token lapses: {}", time(status.refresh_expires_at));
    println!("last refresh: {}", time(status.last_refresh_at));
    let rotates = match status.refresh_rotates {
        Some(true) => "yes",
        Some(false) => "no (the sign-in lapses with the refresh token)",
        None => "not known yet",
    };
    println!("МТТ rotates refresh tokens: {rotates}");
    if let Some(error) = &status.last_error {
        println!("last error: {error}");
    }
    if status.lapse_warning {
        println!(
            "WARNING: the refresh token lapses within a day and will not be extended: run `trubka-relay team connect` before then."
        );
    }
    if status.integration == IntegrationState::RefreshFailing {
        println!(
            "МТТ refused or failed the last refresh: events still arrive and stream, calls to the PBX fail. If it was refused, run `trubka-relay team connect`."
        );
    }
}
