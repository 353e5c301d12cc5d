//! `trubka-relay seats …`: the team's seats and their invites.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Subcommand;
use relay::RelayError;
use relay::seats::{DEFAULT_INVITE_LIFE, InviteCode, parse_life, validate_seat};
use relay::store::team::{NewSeat, SeatRecord, SeatRef};
use serde::Serialize;
use team_api::{JoinLink, Role};

use super::{settings, team_store};

#[derive(Debug, Subcommand)]
pub enum SeatsCommand {
    /// Make a seat: who sits there, their workplace, what they may do.
    Add {
        /// Who sits there (shown to the team and in the audit).
        #[arg(long)]
        name: String,
        /// The seat's workplace: its SIP ID at the PBX.
        #[arg(long)]
        workplace: String,
        /// operator (own workplace), supervisor (every call) or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List the seats (never their credentials or codes).
    List {
        /// JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a seat: its live stream closes at once and its next request is refused.
    Revoke {
        /// The seat's number or name.
        seat: String,
        /// Also ask the seat's app to delete the team's call history and contacts from its
        /// computer when it learns of the revocation (its next request or stream).
        #[arg(long)]
        delete_local_data: bool,
    },
    /// Make a one-time invite for a seat and print its code and `trubka://join` link. Joining
    /// with it replaces the seat's credential in use (one device per seat); a newer invite
    /// replaces an unused older one.
    Invite {
        /// The seat's number or name.
        seat: String,
        /// How long the invite works: a number and s, m, h or d.
        #[arg(long, default_value = "72h")]
        expires: String,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "operator, supervisor or admin".to_owned())
}

/// `seats list --json`: one object per seat.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SeatJson<'a> {
    id: i64,
    name: &'a str,
    role: Role,
    workplace: &'a str,
    status: &'static str,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    joined_at: Option<DateTime<Utc>>,
    invite_expires_at: Option<DateTime<Utc>>,
}

fn status_of(seat: &SeatRecord, now: DateTime<Utc>) -> &'static str {
    if seat.revoked_at.is_some() {
        "revoked"
    } else if seat.joined_at.is_some() {
        "joined"
    } else if seat.invite_expires_at.is_some_and(|at| at > now) {
        "invited"
    } else {
        "not joined"
    }
}

pub async fn run(
    config_path: &Path,
    database: Option<PathBuf>,
    action: SeatsCommand,
) -> Result<(), RelayError> {
    let (file, base) = settings(config_path, database)?;
    let team = team_store(&file, &base).await?;
    match action {
        SeatsCommand::Add {
            name,
            workplace,
            role,
        } => {
            let seat = NewSeat {
                name: name.trim().to_owned(),
                workplace: workplace.trim().to_owned(),
                role,
            };
            validate_seat(&seat)?;
            let added = team.add_seat(seat).await?;
            println!(
                "Seat {} added: {} ({}, workplace {}). Send its holder an invite: `trubka-relay seats invite {}`.",
                added.profile.id,
                added.profile.name,
                added.profile.role,
                added.profile.workplace,
                added.profile.id
            );
        }
        SeatsCommand::List { json } => {
            let seats = team.seats().await?;
            let now = Utc::now();
            if json {
                let rows: Vec<SeatJson<'_>> = seats
                    .iter()
                    .map(|seat| SeatJson {
                        id: seat.profile.id,
                        name: &seat.profile.name,
                        role: seat.profile.role,
                        workplace: &seat.profile.workplace,
                        status: status_of(seat, now),
                        created_at: seat.created_at,
                        revoked_at: seat.revoked_at,
                        joined_at: seat.joined_at,
                        invite_expires_at: seat.invite_expires_at,
                    })
                    .collect();
                let text =
                    serde_json::to_string_pretty(&rows).map_err(|err| RelayError::TeamInput {
                        field: "seats",
                        reason: err.to_string(),
                    })?;
                println!("{text}");
            } else {
                for seat in &seats {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        seat.profile.id,
                        seat.profile.name,
                        seat.profile.role,
                        seat.profile.workplace,
                        status_of(seat, now)
                    );
                }
            }
        }
        SeatsCommand::Revoke {
            seat,
            delete_local_data,
        } => {
            let revoked = team
                .revoke_seat_asking(SeatRef::parse(&seat), delete_local_data)
                .await?;
            println!(
                "Revoked seat {} ({}): its stream closes now and its next request is refused.",
                revoked.profile.id, revoked.profile.name
            );
            if delete_local_data {
                println!(
                    "Its app will be asked to delete the team's call history and contacts when it next reaches this server."
                );
            }
        }
        SeatsCommand::Invite { seat, expires } => {
            let life = parse_life(&expires)?;
            let code = InviteCode::generate()?;
            let expires_at = Utc::now()
                + chrono::TimeDelta::from_std(life).unwrap_or_else(|_| {
                    chrono::TimeDelta::from_std(DEFAULT_INVITE_LIFE).unwrap_or_default()
                });
            let invited = team
                .add_invite(SeatRef::parse(&seat), code.hash(), expires_at)
                .await?;
            println!("{}", code.expose_secret());
            match &file.public_url {
                Some(server) => match JoinLink::new(server, &code.expose_secret()) {
                    Ok(link) => println!("{link}"),
                    Err(err) => eprintln!("No join link: {err}"),
                },
                None => eprintln!(
                    "No join link: set public_url in the configuration (the relay's HTTPS address)."
                ),
            }
            eprintln!(
                "Invite for seat {} ({}), shown only now; it works once, until {}. Joining with it replaces the seat's credential in use.",
                invited.profile.id,
                invited.profile.name,
                expires_at.format("%Y-%m-%d %H:%M UTC")
            );
        }
    }
    Ok(())
}
