//! The routing rules and what they decide: the part of routing that is plain data and a pure
//! function, so that it can run anywhere a parked call is decided (the router app today, the
//! relay in a later team mode).
//!
//! [`rules`] holds the operator's ordered rules as settings data ([`RoutingSettings`]) and
//! [`RoutingSettings::evaluate`], which applies them to what is known about a caller
//! ([`CallerView`]) and answers with a [`Decision`]. Nothing here reads the call log, the live
//! calls, the settings file or the network: whoever decides gathers those facts and passes them
//! in. Carrying a decision out (the parking hook, the deadline, the journal) is the `routing`
//! module's.

pub mod rules;

use serde::Serialize;

pub use rules::{BusinessHours, CallerView, RoutingSettings, Rule, WhenBusy};

/// The rule name journalled when no rule decided and the call was released.
pub const NO_RULE: &str = "no_rule";

/// What to do with a parked call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum RoutingChoice {
    /// Transfer the call to a workplace SIP ID or a number.
    #[serde(rename_all = "camelCase")]
    Transfer {
        /// Where to.
        to: String,
        /// Which rule chose it, for the journal.
        rule: String,
    },
    /// Release the call to the cabinet's routing at once.
    #[serde(rename_all = "camelCase")]
    Release {
        /// Which rule chose it.
        rule: String,
    },
}

impl RoutingChoice {
    /// The rule that chose it.
    pub fn rule(&self) -> &str {
        match self {
            RoutingChoice::Transfer { rule, .. } | RoutingChoice::Release { rule } => rule,
        }
    }
}

/// A choice with the reasoning behind it (a busy manager passed over, say), for the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What to do.
    pub choice: RoutingChoice,
    /// Why, in short phrases, in the order the rules were tried.
    pub notes: Vec<String>,
}

impl Decision {
    fn release(rule: &str, notes: Vec<String>) -> Self {
        Decision {
            choice: RoutingChoice::Release {
                rule: rule.to_owned(),
            },
            notes,
        }
    }
}
