//! `trubka`: the Trubka core from a terminal. Every command is a thin wrapper over the
//! `companion` crate, so what works here works in the window. Output is for people by default
//! and JSON with `--json` (the shapes are in `docs/cli-json.md`); errors are one line on stderr
//! with a documented exit code (the table is in [`exit`], `src/exit.rs`).
//!
//! The layout follows ripgrep's: [`args`] defines the command line, `main` parses it and
//! dispatches each command to a small function in its group's module under [`commands`], and
//! [`output`] holds the types `--json` prints.

mod args;
mod browser;
mod commands;
mod exit;
mod output;
mod profile;

use std::process::ExitCode;

use clap::Parser;
use companion::CompanionError;

use crate::args::{Cli, Command, TeamAction};
use crate::commands::{account, calls, contacts, demo, events, follow_up, history, routing, team};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRUBKA_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trubka: cannot start: {e}");
            return ExitCode::from(exit::OTHER);
        }
    };
    if let Command::Park {
        numbers, on, yes, ..
    } = &cli.command
        && !*yes
        && let Err(why) = routing::confirm_parking(numbers, *on)
    {
        eprintln!("trubka: {why}");
        return ExitCode::from(exit::NOT_CONFIRMED);
    }
    // Joining shows the server's host and asks before anything is sent.
    let mut offer = None;
    if let Command::Team {
        action:
            TeamAction::Join {
                invite,
                server,
                yes,
            },
    } = &cli.command
    {
        match team::confirm_join(invite, server.as_deref(), *yes) {
            Ok(o) => offer = Some(o),
            Err(why) => {
                eprintln!("trubka: {why}");
                let code = if why.starts_with("not joined") {
                    exit::NOT_CONFIRMED
                } else {
                    exit::INVALID_INPUT
                };
                return ExitCode::from(code);
            }
        }
    }
    match runtime.block_on(run(cli, offer)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trubka: {e}");
            ExitCode::from(exit::exit_code(&e))
        }
    }
}

/// Runs one command.
async fn run(cli: Cli, offer: Option<companion::JoinOffer>) -> Result<(), CompanionError> {
    let g = &cli.global;
    match cli.command {
        Command::Account { action } => account::account(g, action),
        Command::Login { no_browser } => account::login(g, no_browser).await,
        Command::Logout => account::logout(g).await,
        Command::Status => account::status(g).await,
        Command::Numbers => calls::numbers(g).await,
        Command::Workplaces => calls::workplaces(g).await,
        Command::Terminals => calls::terminals(g).await,
        Command::Call { number, from } => calls::call(g, &number, from.as_deref()).await,
        Command::Hangup { call } => calls::hang_up(g, &call).await,
        Command::Transfer { call, target } => calls::transfer(g, &call, &target).await,
        Command::Park { numbers, on, .. } => routing::park(g, numbers, on).await,
        Command::Routing { action } => routing::routing(g, action).await,
        Command::History {
            missed,
            search,
            tag,
            limit,
        } => history::history(g, missed, search, tag, limit).await,
        Command::Note { leg, text } => history::note(g, &leg, &text.join(" ")).await,
        Command::Tag { leg, tags } => history::tag(g, &leg, tags).await,
        Command::Callbacks => history::callbacks(g).await,
        Command::FollowUp { leg, when, clear } => {
            follow_up::set(g, &leg, when.as_deref(), clear).await
        }
        Command::FollowUps { limit } => follow_up::list(g, limit).await,
        Command::Contacts { action } => contacts::contacts(g, action).await,
        Command::Events => events::events(g).await,
        Command::Team { action } => match (action, offer) {
            (TeamAction::Join { .. }, Some(offer)) => team::join(g, offer).await,
            (TeamAction::Join { .. }, None) => Err(CompanionError::InvalidInput(
                "the invite was not confirmed".into(),
            )),
            (TeamAction::Status, _) => team::status(g).await,
            (TeamAction::Leave { delete_history }, _) => team::leave(g, delete_history).await,
        },
        Command::Demo {
            calls_per_minute,
            seconds,
        } => demo::run(g, calls_per_minute, seconds).await,
    }
}
