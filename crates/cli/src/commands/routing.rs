//! Parking external numbers and the routing of parked calls: the rules, the journal and the
//! router switch.

use std::io::{IsTerminal, Write};
use std::path::Path;

use companion::CompanionError;

use crate::args::{Global, RoutingAction};
use crate::output::{self, say};
use crate::profile::open;

/// Asks before changing parking, saying what it does to callers; refuses without a terminal.
/// Runs before anything else (`main` turns a refusal into its exit code), so nothing is opened
/// until the person has agreed.
pub fn confirm_parking(numbers: &[String], on: bool) -> Result<(), String> {
    let what = if on {
        format!(
            "Turn parking ON for {}? Every incoming call to them will wait up to 5 seconds for this account's router (the Trubka app marked as router) to send it on; with no decision in time the PBX follows the cabinet's routing.",
            numbers.join(", ")
        )
    } else {
        format!(
            "Turn parking OFF for {}? Incoming calls to them will follow the cabinet's routing at once; routing rules stop applying to them.",
            numbers.join(", ")
        )
    };
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "parking not changed: it needs a confirmation and there is no terminal to ask in; add --yes to confirm. {what}"
        ));
    }
    eprint!("{what} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| format!("parking not changed: cannot read the answer: {e}"))?;
    match answer.trim().to_lowercase().as_str() {
        "y" | "yes" | "д" | "да" => Ok(()),
        _ => Err("parking not changed: not confirmed".into()),
    }
}

/// `trubka park`, once confirmed.
pub async fn park(g: &Global, numbers: Vec<String>, on: bool) -> Result<(), CompanionError> {
    let c = open(g)?;
    c.set_parking(&numbers, on).await?;
    let text = if on {
        format!(
            "Parking on for {}: incoming calls wait up to 5 seconds for a routing decision, then follow the cabinet's routing.",
            numbers.join(", ")
        )
    } else {
        format!("Parking off for {}.", numbers.join(", "))
    };
    say(
        g.json,
        &output::Parking {
            numbers,
            parking: on,
        },
        || text,
    );
    Ok(())
}

/// `trubka routing rules|set-rules|journal|router`.
pub async fn routing(g: &Global, action: RoutingAction) -> Result<(), CompanionError> {
    let c = open(g)?;
    match action {
        RoutingAction::Rules => rules(g, &c),
        RoutingAction::SetRules { file } => set_rules(g, &c, &file),
        RoutingAction::Journal => journal(g, &c).await,
        RoutingAction::Router { on, .. } => router(g, &c, on),
    }
}

fn rules(g: &Global, c: &companion::Companion) -> Result<(), CompanionError> {
    let rules = c.routing_settings();
    let text = rules.to_toml().map_err(CompanionError::InvalidInput)?;
    say(g.json, &output::RoutingRules::from(&rules), || {
        text.trim_end().to_owned()
    });
    Ok(())
}

fn set_rules(g: &Global, c: &companion::Companion, file: &Path) -> Result<(), CompanionError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        CompanionError::InvalidInput(format!("cannot read {}: {e}", file.display()))
    })?;
    let rules = c.set_routing_settings_toml(&text)?;
    say(g.json, &output::RoutingRules::from(&rules), || {
        let names: Vec<&str> = rules
            .rules
            .iter()
            .filter(|r| r.enabled())
            .map(companion::Rule::name)
            .collect();
        format!(
            "Routing rules saved: {} (deadline {} ms).",
            names.join(", "),
            rules.deadline_ms
        )
    });
    Ok(())
}

async fn journal(g: &Global, c: &companion::Companion) -> Result<(), CompanionError> {
    let journal = c
        .routing_journal(companion::routing::api::JOURNAL_PAGE)
        .await?;
    let value = output::Journal::from(&journal);
    say(g.json, &value, || {
        let mut lines: Vec<String> = value
            .decisions
            .iter()
            .map(|d| {
                format!(
                    "{}\t{}\t{}\t{}\t{}\t{} ms{}\t{}",
                    d.decided_at
                        .with_timezone(&chrono::Local)
                        .format("%Y-%m-%d %H:%M:%S"),
                    d.caller_number.as_deref().unwrap_or("hidden"),
                    d.rule.as_deref().unwrap_or("-"),
                    d.target.as_deref().unwrap_or("-"),
                    d.outcome.as_str(),
                    d.took_ms,
                    if d.met_deadline { "" } else { " (late)" },
                    d.detail.as_deref().unwrap_or("")
                )
            })
            .collect();
        lines.push(match value.share {
            Some(share) => format!(
                "{} of {} decisions met the deadline ({:.1}%).",
                value.met,
                value.decisions.len(),
                share * 100.0
            ),
            None => "No routing decisions yet.".into(),
        });
        lines.join("\n")
    });
    Ok(())
}

fn router(g: &Global, c: &companion::Companion, on: bool) -> Result<(), CompanionError> {
    c.set_is_router(on)?;
    say(g.json, &output::Router { router: on }, || {
        if on {
            "This app now decides parked calls for the account (make sure no other app is marked as router).".into()
        } else {
            "This app now only watches; another app must be the router for parked calls to be decided.".into()
        }
    });
    Ok(())
}
