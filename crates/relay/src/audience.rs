//! Who may see an event on the stream: decided per subscriber at the fan-out, and the same way
//! for the backlog replayed on a resume, from the event alone (its kind and body), so that live
//! and replayed streams of one seat carry exactly the same events.
//!
//! Operators see the call events of their own workplace (caller, callee, account or forwarder is
//! it), directory changes, presence, availability, the callback queue and phonebook changes;
//! supervisors and admins see
//! everything except `team` events, which are for admins; a personal-mode client key sees
//! everything (which is why team mode refuses client keys unless allowed).

use std::collections::HashSet;

use mtt_api::Notification;
use serde_json::value::RawValue;
use team_api::{
    AVAILABILITY_KIND, CALLBACK_QUEUE_KIND, PHONEBOOK_KIND, PRESENCE_KIND, ROUTING_KIND, Role,
    TEAM_KIND,
};

use crate::calls::{CALL_KIND, DIRECTORY_KIND};

/// Who is reading a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    /// A client key (personal mode): everything.
    Everything,
    /// A seat.
    Seat {
        /// Its role.
        role: Role,
        /// Its workplace.
        workplace: String,
    },
}

/// Whom an event is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every seat.
    All,
    /// A call event: operators of these ids' workplaces, supervisors and admins.
    Call(HashSet<String>),
    /// Supervisors and admins.
    Privileged,
    /// Admins.
    Admins,
}

impl Audience {
    /// The audience of an event of `kind` with `body`.
    pub fn of(kind: &str, body: &RawValue) -> Self {
        match kind {
            DIRECTORY_KIND | PRESENCE_KIND | AVAILABILITY_KIND | CALLBACK_QUEUE_KIND
            | PHONEBOOK_KIND => Audience::All,
            TEAM_KIND => Audience::Admins,
            ROUTING_KIND => Audience::Call(crate::routing::audience_ids(body.get())),
            CALL_KIND => match Notification::parse(body.get().as_bytes()) {
                Ok(Notification::Call(call)) => {
                    let mut ids = HashSet::new();
                    for party in [&call.caller, &call.callee].into_iter().flatten() {
                        ids.extend(party.id.iter().cloned());
                        ids.extend(party.account_id.iter().cloned());
                        ids.extend(party.forwarder_list.iter().cloned());
                    }
                    ids.extend(call.account_id.iter().cloned());
                    Audience::Call(ids)
                }
                _ => Audience::Privileged,
            },
            _ => Audience::Privileged,
        }
    }
}

impl Viewer {
    /// Whether this viewer sees an event for `audience`.
    pub fn sees(&self, audience: &Audience) -> bool {
        let Viewer::Seat { role, workplace } = self else {
            return true;
        };
        match (audience, role) {
            (Audience::All, _) | (_, Role::Admin) => true,
            (Audience::Admins, _) => false,
            (_, Role::Supervisor) => true,
            (Audience::Privileged, Role::Operator) => false,
            (Audience::Call(ids), Role::Operator) => ids.contains(workplace),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn seat(role: Role) -> Viewer {
        Viewer::Seat {
            role,
            workplace: "883140000000001".into(),
        }
    }

    fn call(callee: &str) -> Box<RawValue> {
        raw(&format!(
            r#"{{"event":"callNotifications","result":{{"callInfo":{{"state":"connected","call":{{"id":"leg-1","tag":"t"}},"caller":{{"id":"79001234567"}},"callee":{{"id":"{callee}"}}}}}}}}"#
        ))
    }

    #[test]
    fn operators_see_their_own_calls_and_the_shared_kinds_only() {
        let mine = Audience::of(CALL_KIND, &call("883140000000001"));
        let theirs = Audience::of(CALL_KIND, &call("883140000000002"));
        let operator = seat(Role::Operator);
        assert!(operator.sees(&mine));
        assert!(!operator.sees(&theirs));
        assert!(seat(Role::Supervisor).sees(&theirs));
        assert!(operator.sees(&Audience::of(PRESENCE_KIND, &raw("{}"))));
        assert!(operator.sees(&Audience::of(AVAILABILITY_KIND, &raw("{}"))));
        assert!(operator.sees(&Audience::of(DIRECTORY_KIND, &raw("{}"))));
        assert!(!operator.sees(&Audience::of("unknown", &raw("{}"))));
        let team = Audience::of(TEAM_KIND, &raw("{}"));
        assert!(!operator.sees(&team));
        assert!(!seat(Role::Supervisor).sees(&team));
        assert!(seat(Role::Admin).sees(&team));
        assert!(Viewer::Everything.sees(&team));
    }
}
