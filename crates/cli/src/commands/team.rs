//! `trubka team join|status|leave`: team mode from a terminal.

use std::io::{IsTerminal, Write};

use companion::{CompanionError, ErrorCode, JoinOffer, TeamState};

use crate::args::Global;
use crate::output::{self, say};
use crate::profile::open;

/// Reads the invite and asks whether to join the server it names (unless `--yes`).
pub fn confirm_join(invite: &str, server: Option<&str>, yes: bool) -> Result<JoinOffer, String> {
    let offer = JoinOffer::read(invite, server).map_err(|e| e.to_string())?;
    if yes {
        return Ok(offer);
    }
    let question = format!(
        "Join the team at {}? This app will act for its seat there: the personal client secret and MTT tokens leave this computer's keyring, and the team server decides parked calls.",
        offer.host()
    );
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "not joined: it needs a confirmation and there is no terminal to ask in; add --yes to confirm. {question}"
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| format!("not joined: cannot read the answer: {e}"))?;
    match answer.trim().to_lowercase().as_str() {
        "y" | "yes" | "д" | "да" => Ok(offer),
        _ => Err("not joined: not confirmed".into()),
    }
}

/// `trubka team join`, once confirmed.
pub async fn join(g: &Global, offer: JoinOffer) -> Result<(), CompanionError> {
    let c = open(g)?;
    let report = c.join_team(&offer).await?;
    say(g.json, &output::TeamJoined::from(&report), || {
        let mut text = format!(
            "Joined the team at {} as {} ({}, workplace {}).",
            report.host, report.seat.name, report.seat.role, report.seat.workplace
        );
        if report.removed_personal_secrets {
            text.push_str(
                "\nThe personal client secret and MTT tokens were removed from the keyring.",
            );
        }
        if report.stopped_routing {
            text.push_str(
                "\nThis app no longer decides parked calls: the team server does from now on.",
            );
        }
        text.push_str("\nThe local call history was kept.");
        text
    });
    Ok(())
}

/// `trubka team status`: the team, the seat, and whether the server answers now.
pub async fn status(g: &Global) -> Result<(), CompanionError> {
    let c = open(g)?;
    let (link, reason) = match c.check_team().await {
        Ok(None) => (None, None),
        Ok(Some(_)) => (Some("connected"), None),
        Err(e) => match e.code() {
            ErrorCode::SeatRevoked => (Some("revoked"), Some(e.to_string())),
            ErrorCode::RelayUnreachable => (Some("unreachable"), Some(e.to_string())),
            _ => (Some("refused"), Some(e.to_string())),
        },
    };
    let team = c.team();
    let state = c.team_state();
    let value = output::TeamStatus {
        state: state.as_str().to_owned(),
        server: team.as_ref().map(|t| t.server.clone()),
        host: team.as_ref().map(|t| t.host()),
        seat: team.as_ref().map(|t| output::Seat::from(&t.seat)),
        joined_at: team.as_ref().map(|t| t.joined_at),
        revoked_at: team.as_ref().and_then(|t| t.revoked_at),
        link: link.map(str::to_owned),
        reason: reason.clone(),
    };
    say(g.json, &value, || match (&team, state) {
        (None, _) => "Not in a team (personal mode).".into(),
        (Some(t), TeamState::Revoked) => format!(
            "The seat {} at {} was revoked by the team's admin; this app no longer acts for the team. `trubka team leave` returns it to personal mode.",
            t.seat.name,
            t.host()
        ),
        (Some(t), _) => {
            let mut text = format!(
                "Team: {}\nSeat: {} ({}, workplace {})\nServer: {}",
                t.host(),
                t.seat.name,
                t.seat.role,
                t.seat.workplace,
                link.unwrap_or("unknown")
            );
            if let Some(reason) = &reason {
                text.push_str(&format!(" ({reason})"));
            }
            text
        }
    });
    Ok(())
}

/// `trubka team leave`.
pub async fn leave(g: &Global, delete_history: bool) -> Result<(), CompanionError> {
    let c = open(g)?;
    let report = c.leave_team(delete_history).await?;
    say(g.json, &output::TeamLeft::from(report), || {
        if delete_history {
            format!(
                "Left the team. Deleted {} calls and {} contacts that came in since joining.",
                report.deleted_calls, report.deleted_contacts
            )
        } else {
            "Left the team. The history stays on this computer.".into()
        }
    });
    Ok(())
}
