//! The engine: for one parked call, asks the decider's facts what the rules need and applies
//! the rules. The facts come through [`RoutingFacts`], which the app implements from its call
//! log and live calls and the relay from its store and call view, so this crate reads no
//! database and no network itself.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::choice::Decision;
use crate::rules::{CallerView, RoutingSettings, Rule, WorkplaceFacts};

/// A parked call's own legs are in the history by the time it is decided; only calls that
/// started this long before it make the caller known.
pub const OWN_LEGS: Duration = Duration::seconds(30);

/// What a decider knows: about the caller (one query, so that a decider with a database reads
/// it once per call) and about workplaces (from memory).
pub trait RoutingFacts: WorkplaceFacts + Sync {
    /// Why the caller's facts could not be read.
    type Error: fmt::Display;

    /// The facts about the caller `number`: the personal manager's workplace (as a workplace
    /// SIP ID, terminals already resolved), the workplace of the latest connected call with the
    /// number since `last_operator_since`, and whether the number is known (a contact, or a
    /// call that started before `known_before`).
    fn caller(
        &self,
        number: &str,
        last_operator_since: DateTime<Utc>,
        known_before: DateTime<Utc>,
    ) -> impl Future<Output = Result<CallerView, Self::Error>> + Send;
}

/// The longest "last operator" window the rules use, in days (0 without the rule): how far
/// back the last operator is looked for, and how long a decider must keep that fact.
pub fn last_operator_days(settings: &RoutingSettings) -> u32 {
    settings
        .rules
        .iter()
        .find_map(|r| match r {
            Rule::LastOperator {
                enabled: true,
                days,
            } => Some(*days),
            _ => None,
        })
        .unwrap_or(0)
}

/// The decision for a parked call from `caller_number` received at `received_at`, with its
/// reasoning. Facts that cannot be read are noted and the rules go on without them (an unknown
/// caller, say), so that a decision is always made.
pub async fn decide<F: RoutingFacts>(
    settings: &RoutingSettings,
    zone: Tz,
    caller_number: Option<&str>,
    received_at: DateTime<Utc>,
    facts: &F,
) -> Decision {
    let days = last_operator_days(settings);
    let mut notes = Vec::new();
    let number = caller_number.map(str::trim).filter(|n| !n.is_empty());
    let caller = match number {
        None => {
            notes.push("the caller's number is hidden".to_owned());
            CallerView::default()
        }
        Some(number) => {
            let since = received_at - Duration::days(i64::from(days));
            match facts.caller(number, since, received_at - OWN_LEGS).await {
                Ok(caller) => caller,
                Err(e) => {
                    notes.push(format!("the call history could not be read: {e}"));
                    CallerView::default()
                }
            }
        }
    };
    let mut decision = settings.evaluate(&caller, received_at, zone, facts);
    notes.append(&mut decision.notes);
    decision.notes = notes;
    decision
}

#[cfg(test)]
mod tests;
