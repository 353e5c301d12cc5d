//! The relay's facts for the rules: the two owned by other parts of the relay come through small
//! traits ([`PersonalManagers`]: the team phonebook; [`Availability`]: the operators' own
//! Available / Break / Away), the rest from its own store (who last answered a number, and
//! whether it called before) and its live-call view (who is talking now).

use std::fmt;
use std::sync::Arc;

use call_routing::{CallerView, RoutingFacts, WorkplaceFacts};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use mtt_api::CallState;
use team_api::Presence;

use crate::calls::{CallView, number_key};
use crate::error::RelayError;
use crate::store::team::SharedTeamStore;

/// What the team phonebook says about a number that is in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhonebookMatch {
    /// The contact's personal manager (a workplace SIP ID or a terminal), if it has one.
    pub manager: Option<String>,
}

/// The team phonebook as routing asks it.
pub trait PersonalManagers: Send + Sync + fmt::Debug + 'static {
    /// The contact `number` belongs to, if any, with its personal manager. `number` is as the PBX
    /// gave it (digits, maybe a leading `+`).
    fn manager_of<'a>(
        &'a self,
        number: &'a str,
    ) -> BoxFuture<'a, Result<Option<PhonebookMatch>, RelayError>>;
}

/// Whether a workplace's operator takes calls now.
pub trait Availability: Send + Sync + fmt::Debug + 'static {
    /// `false` for an operator on a break, away, or whose app is closed.
    fn is_available(&self, workplace: &str) -> bool;
}

/// No phonebook: nobody has a personal manager (until the phonebook is wired in).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPhonebook;

impl PersonalManagers for NoPhonebook {
    fn manager_of<'a>(
        &'a self,
        _number: &'a str,
    ) -> BoxFuture<'a, Result<Option<PhonebookMatch>, RelayError>> {
        Box::pin(async { Ok(None) })
    }
}

/// Everyone available (until availability is wired in).
#[derive(Debug, Default, Clone, Copy)]
pub struct EveryoneAvailable;

impl Availability for EveryoneAvailable {
    fn is_available(&self, _workplace: &str) -> bool {
        true
    }
}

/// The facts for one decision.
pub(crate) struct RelayFacts {
    pub(crate) team: SharedTeamStore,
    pub(crate) calls: Arc<CallView>,
    pub(crate) managers: Arc<dyn PersonalManagers>,
    pub(crate) availability: Arc<dyn Availability>,
}

impl RelayFacts {
    fn workplace_of(&self, id: &str) -> String {
        self.calls
            .team_workplace_of(id)
            .unwrap_or_else(|| id.to_owned())
    }
}

impl WorkplaceFacts for RelayFacts {
    fn is_workplace(&self, id: &str) -> bool {
        // The relay knows its seats' workplaces and, once read, the directory's; a SIP ID it
        // has not heard of yet may still be one of the account's, so only what cannot be a
        // workplace (a short number, a name) is refused.
        self.calls.team_workplace_of(id).is_some() || mtt_api::SipId::looks_like(id)
    }

    fn is_busy(&self, workplace: &str) -> bool {
        // Presence is followed only for workplaces the view knows (seats, the directory once
        // read); a connected live leg touching the workplace counts either way.
        self.calls.presence_of(workplace) == Some(Presence::Talking)
            || self
                .calls
                .live_calls(Some(workplace))
                .iter()
                .any(|call| call.state == CallState::Connected.as_wire())
    }

    fn is_available(&self, workplace: &str) -> bool {
        self.availability.is_available(workplace)
    }
}

impl RoutingFacts for RelayFacts {
    type Error = RelayError;

    async fn caller(
        &self,
        number: &str,
        last_operator_since: DateTime<Utc>,
        known_before: DateTime<Utc>,
    ) -> Result<CallerView, RelayError> {
        let (contact, record) = futures::join!(
            self.managers.manager_of(number),
            self.team.caller_record(number_key(number))
        );
        let (contact, record) = (contact?, record?);
        let last_operator = record
            .as_ref()
            .and_then(|r| r.last_operator.as_ref())
            .filter(|(_, at)| *at >= last_operator_since)
            .map(|(operator, _)| self.workplace_of(operator));
        let called_before = record.is_some_and(|r| r.first_seen_at < known_before);
        Ok(CallerView {
            known: contact.is_some() || called_before,
            manager: contact
                .and_then(|c| c.manager)
                .filter(|m| !m.trim().is_empty())
                .map(|m| self.workplace_of(&m)),
            last_operator,
        })
    }
}
