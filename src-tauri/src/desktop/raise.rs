//! What a core event may raise on the desktop: a popup (and with it the incoming-call
//! notification) or a missed-call notification.
//!
//! Late events raise nothing. After the app was away (asleep, closed, offline) the relay first
//! streams what happened meanwhile, and the core announces it with `late: true`: it updates the
//! history and the live calls, but a call that rang an hour ago must not pop up, nor a miss from
//! last night be notified as if it had just happened. A call that is still ringing when the
//! backlog ends is in [`DomainEvent::CaughtUp`]'s live calls, and may pop up then. Whether it
//! does is the settings' business (popups on, mine only, notifications on), decided after this.

use companion::{DomainEvent, LiveCall};

/// What one event may raise.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Raised<'a> {
    /// Calls that may pop up now (a call pops up at most once, and only if it wants a popup).
    pub popups: Vec<&'a LiveCall>,
    /// A missed call that may be notified.
    pub missed: Option<&'a LiveCall>,
}

/// What `event` may raise: nothing when it is late.
pub fn raised(event: &DomainEvent) -> Raised<'_> {
    match event {
        DomainEvent::CallStarted {
            call, late: false, ..
        }
        | DomainEvent::CallUpdated { call, late: false } => Raised {
            popups: vec![call],
            missed: None,
        },
        DomainEvent::CaughtUp { live, .. } => Raised {
            popups: live.iter().collect(),
            missed: None,
        },
        DomainEvent::CallEnded {
            call,
            missed: true,
            late: false,
        } => Raised {
            popups: Vec::new(),
            missed: Some(call),
        },
        _ => Raised::default(),
    }
}

#[cfg(test)]
mod tests {
    use companion::{CallDirection, CallPhase};

    use super::*;

    fn call(leg: &str, phase: CallPhase) -> LiveCall {
        LiveCall {
            leg: leg.into(),
            tag: Some("t".into()),
            transport_id: Some("10.0.0.1:5070".into()),
            direction: CallDirection::Incoming,
            phase,
            remote_number: Some("79161234567".into()),
            remote_name: None,
            workplaces: Default::default(),
            answered_by: None,
            mine: true,
            whose: None,
            started_at: chrono::Utc::now(),
            connected_at: None,
            ended_at: None,
            duration_secs: None,
            end_reason: None,
        }
    }

    #[test]
    fn a_live_call_may_pop_up_and_a_live_miss_may_be_notified() {
        let ringing = call("a", CallPhase::Ringing);
        let started = DomainEvent::CallStarted {
            call: ringing.clone(),
            summary: None,
            late: false,
        };
        assert_eq!(raised(&started).popups, [&ringing]);
        let updated = DomainEvent::CallUpdated {
            call: ringing.clone(),
            late: false,
        };
        assert_eq!(raised(&updated).popups, [&ringing]);
        let ended = call("a", CallPhase::Ended);
        let missed = DomainEvent::CallEnded {
            call: ended.clone(),
            missed: true,
            late: false,
        };
        assert_eq!(
            raised(&missed),
            Raised {
                popups: Vec::new(),
                missed: Some(&ended)
            }
        );
        let answered = DomainEvent::CallEnded {
            call: ended,
            missed: false,
            late: false,
        };
        assert_eq!(raised(&answered), Raised::default());
    }

    #[test]
    fn a_late_event_raises_nothing() {
        let ringing = call("a", CallPhase::Ringing);
        let ended = call("a", CallPhase::Ended);
        for late in [
            DomainEvent::CallStarted {
                call: ringing.clone(),
                summary: None,
                late: true,
            },
            DomainEvent::CallUpdated {
                call: ringing.clone(),
                late: true,
            },
            DomainEvent::CallEnded {
                call: ended.clone(),
                missed: true,
                late: true,
            },
        ] {
            assert_eq!(raised(&late), Raised::default(), "{late:?}");
        }
    }

    #[test]
    fn the_calls_still_live_when_the_backlog_ends_may_pop_up_then() {
        let ringing = call("b", CallPhase::Ringing);
        let talking = call("c", CallPhase::Connected);
        let caught_up = DomainEvent::CaughtUp {
            last_id: 51,
            late_events: 101,
            live: vec![ringing.clone(), talking.clone()],
        };
        // The connected call is offered too; it does not want a popup, which the settings'
        // check (`Companion::wants_popup`) decides after this.
        assert_eq!(raised(&caught_up).popups, [&ringing, &talking]);
        assert_eq!(raised(&caught_up).missed, None);
    }
}
