//! Following the live calls: `trubka events`, and the printing `trubka demo` shares.

use std::collections::HashMap;
use std::time::Duration;

use companion::{CallPhase, CompanionError, DomainEvent};
use tokio::sync::broadcast;

use crate::args::Global;
use crate::output::{self, say};
use crate::profile::open;

/// `trubka events`: the profile's live calls until Ctrl+C.
pub async fn events(g: &Global) -> Result<(), CompanionError> {
    let c = open(g)?;
    let events = c.subscribe();
    c.start_live_events().await?;
    follow(events, g.json, None).await;
    c.shutdown().await;
    Ok(())
}

/// Prints domain events until Ctrl+C (or `limit` passes).
pub async fn follow(
    mut events: broadcast::Receiver<DomainEvent>,
    json: bool,
    limit: Option<Duration>,
) {
    let stop = async {
        match limit {
            Some(d) => tokio::time::sleep(d).await,
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    tokio::pin!(stop);
    // A call rung at several workplaces updates once per workplace; people want one line per
    // change they can see (ringing, mine, connected, ended), so repeats are left out of the text.
    // What happened while the app was away (late events) is left out of the text too: it is in
    // the history, and the line at the end of the catch-up counts it and shows the calls still
    // going. JSON has every event, late ones marked `late`.
    let mut shown: HashMap<String, (CallPhase, bool)> = HashMap::new();
    loop {
        tokio::select! {
            _ = &mut stop => return,
            e = events.recv() => match e {
                Ok(event) if json => say(true, &output::Event::from(&event), String::new),
                Ok(event) => {
                    let repeat = match &event {
                        DomainEvent::CallStarted { late: true, .. }
                        | DomainEvent::CallUpdated { late: true, .. }
                        | DomainEvent::CallEnded { late: true, .. }
                        | DomainEvent::ColleagueWrapUp { late: true, .. }
                        | DomainEvent::CaughtUp { late_events: 0, .. } => true,
                        DomainEvent::CallStarted { call, .. } | DomainEvent::CallUpdated { call, .. } => {
                            shown.insert(call.leg.clone(), (call.phase, call.mine)) == Some((call.phase, call.mine))
                        }
                        DomainEvent::CallEnded { call, .. } => {
                            shown.remove(&call.leg);
                            false
                        }
                        _ => false,
                    };
                    if !repeat {
                        say(false, &output::Event::from(&event), || describe(&event));
                    }
                    if let DomainEvent::CaughtUp { live, .. } = &event {
                        for call in live {
                            let state = (call.phase, call.mine);
                            if shown.insert(call.leg.clone(), state) != Some(state) {
                                let now = DomainEvent::CallUpdated { call: call.clone(), late: false };
                                say(false, &output::Event::from(&now), || describe(&now));
                            }
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => eprintln!("({n} events skipped: output too slow)"),
                Err(_) => return,
            },
        }
    }
}

/// One line for people: the time, what happened, and to whom.
fn describe(event: &DomainEvent) -> String {
    let now = chrono::Local::now().format("%H:%M:%S");
    let who = |call: &companion::LiveCall| {
        let number = call
            .remote_number
            .as_deref()
            .map(|n| companion::display_number(n, companion::dialer::DEFAULT_REGION))
            .unwrap_or_else(|| "unknown number".into());
        match &call.remote_name {
            Some(name) => format!("{name} ({number})"),
            None => number,
        }
    };
    match event {
        DomainEvent::CallStarted { call, summary, .. } => {
            let earlier = summary.as_ref().map(|s| s.earlier_calls).unwrap_or(0);
            format!(
                "{now}  {:<10} {}{}{}",
                match call.direction {
                    companion::CallDirection::Outgoing => "calling",
                    _ => "ringing",
                },
                who(call),
                if call.mine { "  [mine]" } else { "" },
                if earlier > 0 {
                    format!("  ({earlier} earlier calls)")
                } else {
                    String::new()
                }
            )
        }
        DomainEvent::CallUpdated { call, .. } => format!(
            "{now}  {:<10} {}{}{}",
            match call.phase {
                CallPhase::Connected => "connected",
                CallPhase::PickUp => "pick up",
                CallPhase::Calling => "calling",
                CallPhase::Ringing => "ringing",
                CallPhase::Ended => "ended",
            },
            who(call),
            call.answered_by
                .as_deref()
                .map(|w| format!(" at {w}"))
                .unwrap_or_default(),
            if call.mine { "  [mine]" } else { "" }
        ),
        DomainEvent::CallEnded { call, missed, .. } => format!(
            "{now}  {:<10} {}{}",
            if *missed { "MISSED" } else { "ended" },
            who(call),
            call.duration_secs
                .map(|d| format!(" after {d} s"))
                .unwrap_or_default()
        ),
        DomainEvent::CallRecorded { url, .. } => format!("{now}  {:<10} {url}", "recording"),
        DomainEvent::WrapUpOffered { call, .. } => format!(
            "{now}  {:<10} {}  (trubka note {} …, trubka tag {} …)",
            "wrap up",
            who(call),
            call.leg,
            call.leg
        ),
        DomainEvent::ColleagueWrapUp {
            leg,
            author,
            note,
            tags,
            ..
        } => format!(
            "{now}  {:<10} {author} on {leg}{}{}",
            "wrapped up",
            if tags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", tags.join(", "))
            },
            if note.is_empty() {
                String::new()
            } else {
                format!(": {note}")
            }
        ),
        DomainEvent::FollowUpDue { follow_up } => format!(
            "{now}  {:<10} {}{}{}",
            "call back",
            follow_up.number.as_deref().unwrap_or("?"),
            follow_up
                .contact_name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            if follow_up.note.is_empty() {
                String::new()
            } else {
                format!(": {}", follow_up.note)
            }
        ),
        DomainEvent::DirectoryChanged { what } => {
            format!("{now}  {:<10} {what} changed", "directory")
        }
        DomainEvent::Link { state, reason, .. } => {
            format!(
                "{now}  {:<10} {state}{}",
                "relay",
                reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            )
        }
        DomainEvent::CaughtUp { late_events, .. } => format!(
            "{now}  {:<10} caught up: {late_events} call event{} while away, in the history",
            "relay",
            if *late_events == 1 { "" } else { "s" }
        ),
        DomainEvent::Resynced {
            reason,
            resume_after,
        } => {
            format!(
                "{now}  {:<10} resumed after {resume_after} ({reason})",
                "relay"
            )
        }
        DomainEvent::Trouble { message, .. } => format!("{now}  {:<10} {message}", "PROBLEM"),
        DomainEvent::Colleague { colleague } => format!(
            "{now}  {:<10} {} ({}): {}, {}",
            "colleague",
            colleague.name,
            colleague.workplace,
            colleague.presence_word(),
            colleague.availability.as_str()
        ),
        DomainEvent::ColleaguesReloaded => format!("{now}  {:<10} colleagues read again", "team"),
        DomainEvent::TeamPhonebookChanged { version } => {
            format!(
                "{now}  {:<10} team phonebook updated (version {version})",
                "team"
            )
        }
        DomainEvent::Session {
            signed_in: false, ..
        } => {
            format!(
                "{now}  {:<10} sign-in required (trubka login); live calls keep coming",
                "session"
            )
        }
        DomainEvent::Session {
            renew_soon: true,
            refresh_expires_at,
            ..
        } => format!(
            "{now}  {:<10} the sign-in lapses at {}; sign in again soon",
            "session",
            refresh_expires_at
                .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
                .unwrap_or_default()
        ),
        DomainEvent::Session { .. } => format!("{now}  {:<10} signed in", "session"),
        DomainEvent::SeatRevoked {
            reason,
            delete_local_data,
        } => format!(
            "{now}  {:<10} the team's admin revoked this seat: {reason}{}",
            "team",
            if *delete_local_data {
                " (and asked for the team's history to be deleted from this computer)"
            } else {
                ""
            }
        ),
        DomainEvent::Routed { outcome } => format!(
            "{now}  {:<10} {} in {} ms{}",
            "routed",
            match &outcome.choice {
                companion::RoutingChoice::Transfer { to, rule } => format!("to {to} ({rule})"),
                companion::RoutingChoice::Release { rule } => format!("released ({rule})"),
            },
            outcome.elapsed_ms,
            outcome
                .error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
    }
}
