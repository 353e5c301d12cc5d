//! What the rules decide: a choice (transfer or release) with the rule that made it, and the
//! reasoning behind it.

use serde::{Deserialize, Serialize};

/// The rule name journalled when no rule decided and the call was released.
pub const NO_RULE: &str = "no_rule";

/// The rule name journalled when the decider had not decided by the deadline.
pub const DEADLINE_RULE: &str = "deadline";

/// The rule name journalled for a parked call that rang while the decider was away.
pub const OFFLINE_RULE: &str = "offline";

/// What to do with a parked call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    pub(crate) fn release(rule: &str, notes: Vec<String>) -> Self {
        Decision {
            choice: RoutingChoice::Release {
                rule: rule.to_owned(),
            },
            notes,
        }
    }
}
