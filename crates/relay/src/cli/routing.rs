//! `trubka-relay routing show|set|journal`: the team's routing rules and the journal of the
//! relay's decisions, read and written in the store. A running relay takes up rules set here
//! within seconds and applies parking to numbers newly parked (or off for numbers no longer
//! parked) through its integration.
//!
//! The file `routing set` reads is TOML: the app's `[routing]` table (the same rules), and at
//! the top the parked external numbers and the account's time zone:
//!
//! ```toml
//! parked = ["74996497803"]
//! time_zone = "Europe/Moscow"
//!
//! [routing]
//! deadline_ms = 4000
//! rules = [{ kind = "manager" }, { kind = "last_operator", days = 30 }, { kind = "unknown_caller" }]
//! ```

use std::path::{Path, PathBuf};

use call_routing::RoutingSettings;
use clap::Subcommand;
use relay::RelayError;
use serde::{Deserialize, Serialize};
use team_api::TeamRouting;

use super::{settings, team_store};

#[derive(Debug, Subcommand)]
pub enum RoutingCommand {
    /// Print the team's routing as the TOML `routing set` reads.
    Show,
    /// Replace the team's routing with the TOML file's (checked first; nothing changes if a
    /// rule is wrong).
    Set {
        /// The TOML file.
        file: PathBuf,
    },
    /// Print the latest decisions, newest first.
    Journal {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

/// The file's shape.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoutingFile {
    #[serde(default)]
    parked: Vec<String>,
    #[serde(default = "default_zone")]
    time_zone: String,
    #[serde(default)]
    routing: RoutingSettings,
}

fn default_zone() -> String {
    TeamRouting::default().time_zone
}

fn bad_file(file: &Path, reason: String) -> RelayError {
    RelayError::Routing(format!("{}: {reason}", file.display()))
}

/// Reads a routing file, checked.
pub fn read_file(file: &Path) -> Result<TeamRouting, RelayError> {
    let text = std::fs::read_to_string(file).map_err(|err| bad_file(file, err.to_string()))?;
    let parsed: RoutingFile =
        toml::from_str(&text).map_err(|err| bad_file(file, err.to_string()))?;
    let mut routing = TeamRouting {
        settings: parsed.routing,
        parked: parsed.parked,
        time_zone: parsed.time_zone,
    };
    relay::routing::check(&mut routing).map_err(|err| bad_file(file, err.to_string()))?;
    Ok(routing)
}

pub async fn run(
    config_path: &Path,
    database: Option<PathBuf>,
    command: RoutingCommand,
) -> Result<(), RelayError> {
    let (file, base) = settings(config_path, database)?;
    let store = team_store(&file, &base).await?;
    match command {
        RoutingCommand::Show => {
            let routing = store.routing().await?.unwrap_or_default();
            let text = toml::to_string_pretty(&RoutingFile {
                parked: routing.parked,
                time_zone: routing.time_zone,
                routing: routing.settings,
            })
            .map_err(|err| RelayError::Routing(err.to_string()))?;
            print!("{text}");
        }
        RoutingCommand::Set { file } => {
            let mut routing = read_file(&file)?;
            if let Some(before) = store.routing().await? {
                routing.settings.parking_applied_at = before.settings.parking_applied_at;
            }
            store.put_routing(routing.clone()).await?;
            eprintln!(
                "Saved: {} rules, {} parked numbers. A running relay takes them up within seconds.",
                routing.settings.rules.len(),
                routing.parked.len()
            );
        }
        RoutingCommand::Journal { limit } => {
            for decision in store
                .decisions(limit.clamp(1, team_api::JOURNAL_LIMIT))
                .await?
            {
                let e = decision.entry;
                println!(
                    "{} {} leg={} from={} to={} rule={} outcome={} took={}ms/{}ms{}",
                    decision.id,
                    e.decided_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    e.leg,
                    e.caller_number.as_deref().unwrap_or("-"),
                    e.target.as_deref().unwrap_or("-"),
                    e.rule.as_deref().unwrap_or("-"),
                    e.outcome.as_text(),
                    e.took_ms,
                    e.deadline_ms,
                    e.detail.map(|d| format!(" ({d})")).unwrap_or_default(),
                );
            }
        }
    }
    Ok(())
}
