//! `trubka-relay audit [--since] [--seat] [--csv FILE]`: the seats' actions at the PBX.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use relay::RelayError;
use relay::audit_export::{line, write_csv};
use relay::store::audit::AuditQuery;
use relay::store::team::SeatRef;

use super::settings;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only entries from this time on: an RFC 3339 time or a date (YYYY-MM-DD, UTC).
    #[arg(long)]
    since: Option<String>,
    /// Only this seat's entries: its number or name.
    #[arg(long)]
    seat: Option<String>,
    /// Write CSV (safe to open in a spreadsheet) to this new file instead of printing.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// The database file (default: from the configuration).
    #[arg(long, env = "TRUBKA_RELAY_DATABASE")]
    database: Option<PathBuf>,
}

fn parse_since(text: &str) -> Result<DateTime<Utc>, RelayError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
        .ok_or_else(|| RelayError::TeamInput {
            field: "--since",
            reason: format!("{text:?} is neither an RFC 3339 time nor a date YYYY-MM-DD"),
        })
}

pub async fn run(config_path: &Path, args: AuditArgs) -> Result<(), RelayError> {
    let (file, base) = settings(config_path, args.database)?;
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let store = super::store_of(&file, &base).await?;
    let seat_id = match args.seat.as_deref() {
        None => None,
        Some(text) => {
            let seats = store.seats().await?;
            let found = match SeatRef::parse(text) {
                SeatRef::Id(id) => seats.iter().find(|s| s.profile.id == id),
                SeatRef::Name(name) => seats.iter().find(|s| s.profile.name == name),
            };
            Some(
                found
                    .ok_or_else(|| RelayError::TeamInput {
                        field: "--seat",
                        reason: format!("no seat is numbered or named {text:?}"),
                    })?
                    .profile
                    .id,
            )
        }
    };
    let entries = store.entries(AuditQuery { since, seat_id }).await?;
    match args.csv {
        Some(path) => {
            let io_error = |err: std::io::Error| RelayError::Backup {
                file: path.clone(),
                reason: format!("the audit export could not be written: {err}"),
            };
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(io_error)?;
            let mut text = Vec::new();
            write_csv(&entries, &mut text).map_err(io_error)?;
            out.write_all(&text).map_err(io_error)?;
            eprintln!("Wrote {} entries to {}", entries.len(), path.display());
        }
        None => {
            for entry in &entries {
                println!("{}", line(entry));
            }
        }
    }
    Ok(())
}
