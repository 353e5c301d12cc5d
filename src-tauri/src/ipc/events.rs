//! The events the shell sends to its windows: each one's name, which the UI listens to, and by
//! type what it carries. The UI's names come from here too (`ui/src/bindings/contract.ts`, which
//! the contract test generates), so a name is written once.

use std::marker::PhantomData;

use companion::DomainEvent;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use ts_rs::TS;

use super::{DialRequest, FollowUpRow, LiveCall, PopupView, Preferences, WrapUpView};

/// An event the shell sends: its name, and by type its payload.
#[derive(Debug)]
pub struct Event<T> {
    /// The name the window listens to.
    pub name: &'static str,
    payload: PhantomData<fn(&T)>,
}

impl<T: Serialize + Clone> Event<T> {
    const fn new(name: &'static str) -> Self {
        Event {
            name,
            payload: PhantomData,
        }
    }

    /// Sends `payload` to every window.
    pub fn emit<R: Runtime>(&self, app: &AppHandle<R>, payload: &T) -> tauri::Result<()> {
        app.emit(self.name, payload)
    }

    /// Sends `payload` to the window labelled `window` only.
    pub fn emit_to<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        window: &str,
        payload: &T,
    ) -> tauri::Result<()> {
        app.emit_to(window, self.name, payload)
    }
}

/// Declares the events once: their constants here, and the list the contract test turns into
/// TypeScript.
macro_rules! events {
    ($($(#[$doc:meta])* $konst:ident: $payload:ty = $name:literal;)+) => {
        $($(#[$doc])* pub const $konst: Event<$payload> = Event::new($name);)+

        /// Every event as the UI's contract names it: the constant's name, the event's name and
        /// the payload's TypeScript type.
        #[cfg(test)]
        pub(crate) fn contract(cfg: &ts_rs::Config) -> Vec<(&'static str, &'static str, String)> {
            vec![$((stringify!($konst), $name, <$payload as TS>::name(cfg))),+]
        }

        /// Visits every event's payload type, for the bindings.
        #[cfg(test)]
        pub(crate) fn visit_payloads(v: &mut impl ts_rs::TypeVisitor) {
            $(v.visit::<$payload>();)+
        }
    };
}

events! {
    /// The core's domain events, as the window shows them.
    DOMAIN_EVENT: AppEvent = "domain-event";
    /// The settings were saved (in a window or from the tray): every window follows the
    /// language and theme at once.
    SETTINGS_CHANGED: Preferences = "settings-changed";
    /// A number for the main window's dialer (a link, the hotkey, the tray).
    DIAL_REQUEST: DialRequest = "dial-request";
    /// A team invite link (`trubka://join?…`) for the main window to confirm: the link itself.
    JOIN_REQUEST: String = "join-request";
    /// The call the popup window shows (`null`: nothing to show).
    POPUP_CALL: Option<PopupView> = "popup-call";
}

/// What the core announces, as the window hears it under [`DOMAIN_EVENT`].
/// Only what a screen uses crosses; the rest stays in the core.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export_to = "AppEvent.ts")]
pub enum AppEvent {
    /// A call started, changed or ended: the Calls screen replaces its row by leg.
    #[serde(rename_all = "camelCase")]
    Call {
        /// The call as it now stands.
        call: LiveCall,
        /// An incoming call that ended with nobody answering.
        missed: bool,
        /// It happened while the app was away: the screen updates its row, but an ended call
        /// does not linger as if it had just ended.
        late: bool,
    },
    /// A recording arrived for a leg.
    #[serde(rename_all = "camelCase")]
    Recorded {
        /// The leg.
        leg: String,
        /// The mp3's address.
        url: String,
    },
    /// The relay link's health: `connected`, `reconnecting`, `offline` or `refused`.
    #[serde(rename_all = "camelCase")]
    Link {
        /// The state.
        state: String,
        /// Why it is not connected.
        reason: Option<String>,
    },
    /// Events were missed (the window fell behind or the relay resynchronised): re-read
    /// everything.
    Resync,
    /// A call of mine ended and the settings want a wrap-up: the panel offers note, tags and a
    /// follow-up for it.
    #[serde(rename_all = "camelCase")]
    WrapUp {
        /// The call as it ended.
        call: LiveCall,
        /// What was saved for it already, if anything.
        saved: Option<WrapUpView>,
    },
    /// A colleague's wrap-up of their call arrived (team mode, a supervisor's or an admin's app)
    /// and is now that call's note and tags: an open History reads its list again.
    #[serde(rename_all = "camelCase")]
    ColleagueWrapUp {
        /// The leg.
        leg: String,
    },
    /// A follow-up fell due: the callback queue shows it first.
    #[serde(rename_all = "camelCase")]
    FollowUpDue {
        /// The follow-up.
        follow_up: FollowUpRow,
    },
    /// A colleague's presence or availability changed (team mode): the Team panel and the
    /// transfer picker replace their row by seat; for this seat, the availability switch follows.
    #[serde(rename_all = "camelCase")]
    Colleague {
        /// The colleague as they now stand.
        colleague: super::Colleague,
    },
    /// The colleagues were read again from the team's server: re-read them all.
    Colleagues,
    /// A team phonebook sync changed the local copy: the Contacts screen, if shown, reads its
    /// list again.
    TeamContacts,
    /// What happened while the app was away has arrived (late, one event at a time); from here
    /// on events are live. The screens re-read what those events changed, once.
    CaughtUp,
}

impl AppEvent {
    /// The window's view of a domain event, or `None` when no screen shows it.
    pub fn from_domain(event: &DomainEvent) -> Option<Self> {
        Self::from_domain_for(event, None)
    }

    /// [`AppEvent::from_domain`] for the seat `me` (team mode), which marks its own row.
    pub fn from_domain_for(event: &DomainEvent, me: Option<i64>) -> Option<Self> {
        match event {
            DomainEvent::Colleague { colleague } => Some(AppEvent::Colleague {
                colleague: super::Colleague::new(colleague, me),
            }),
            DomainEvent::ColleaguesReloaded => Some(AppEvent::Colleagues),
            DomainEvent::TeamPhonebookChanged { .. } => Some(AppEvent::TeamContacts),
            DomainEvent::CallStarted { call, late, .. }
            | DomainEvent::CallUpdated { call, late } => Some(AppEvent::Call {
                call: call.into(),
                missed: false,
                late: *late,
            }),
            DomainEvent::CallEnded { call, missed, late } => Some(AppEvent::Call {
                call: call.into(),
                missed: *missed,
                late: *late,
            }),
            DomainEvent::CallRecorded { leg, url } => Some(AppEvent::Recorded {
                leg: leg.clone(),
                url: url.clone(),
            }),
            DomainEvent::Link { state, reason, .. } => Some(AppEvent::Link {
                state: state.clone(),
                reason: reason.clone(),
            }),
            DomainEvent::Resynced { .. } => Some(AppEvent::Resync),
            DomainEvent::WrapUpOffered { call, saved } => Some(AppEvent::WrapUp {
                call: call.into(),
                saved: saved.as_ref().map(WrapUpView::from),
            }),
            // A late one is read with the rest of the backlog at `CaughtUp`, once.
            DomainEvent::ColleagueWrapUp {
                leg, late: false, ..
            } => Some(AppEvent::ColleagueWrapUp { leg: leg.clone() }),
            DomainEvent::FollowUpDue { follow_up } => Some(AppEvent::FollowUpDue {
                follow_up: FollowUpRow::from(follow_up),
            }),
            DomainEvent::CaughtUp { late_events, .. } if *late_events > 0 => {
                Some(AppEvent::CaughtUp)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use companion::{CallDirection, CallPhase};

    use super::*;

    fn live(phase: CallPhase) -> companion::LiveCall {
        companion::LiveCall {
            leg: "leg-1".into(),
            tag: Some("t".into()),
            transport_id: None,
            direction: CallDirection::Incoming,
            phase,
            remote_number: Some("79219462761".into()),
            remote_name: Some("  ".into()),
            workplaces: Default::default(),
            answered_by: None,
            mine: true,
            whose: None,
            started_at: DateTime::from_timestamp_millis(1_000).unwrap(),
            connected_at: None,
            ended_at: None,
            duration_secs: Some(42),
            end_reason: None,
        }
    }

    #[test]
    fn an_ended_call_reaches_the_window_with_its_outcome_and_a_readable_number() {
        let event = DomainEvent::CallEnded {
            call: live(CallPhase::Ended),
            missed: true,
            late: false,
        };
        let json = serde_json::to_value(AppEvent::from_domain(&event).unwrap()).unwrap();
        assert_eq!(json["kind"], "call");
        assert_eq!(json["missed"], true);
        assert_eq!(json["late"], false);
        assert_eq!(json["call"]["phase"], "ended");
        assert_eq!(json["call"]["number"], "+7 921 946-27-61");
        assert_eq!(json["call"]["numberRaw"], "79219462761");
        assert_eq!(
            json["call"]["name"],
            serde_json::Value::Null,
            "a blank name is no name"
        );
        assert_eq!(json["call"]["startedAtMs"], 1000.0);
    }

    #[test]
    fn a_colleagues_wrapup_reaches_the_window_unless_it_came_in_the_backlog() {
        let event = |late| DomainEvent::ColleagueWrapUp {
            leg: "leg-1".into(),
            author: "Анна".into(),
            note: "wants a quote".into(),
            tags: vec!["sale".into()],
            late,
        };
        let json = serde_json::to_value(AppEvent::from_domain(&event(false)).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "colleagueWrapUp", "leg": "leg-1"})
        );
        assert_eq!(AppEvent::from_domain(&event(true)), None);
    }

    #[test]
    fn a_click_to_call_ringing_my_phone_is_the_pick_up_phase() {
        let event = DomainEvent::CallUpdated {
            call: live(CallPhase::PickUp),
            late: false,
        };
        let json = serde_json::to_value(AppEvent::from_domain(&event).unwrap()).unwrap();
        assert_eq!(json["call"]["phase"], "pickUp");
        assert_eq!(json["missed"], false);
    }

    #[test]
    fn a_late_call_reaches_the_window_marked_and_the_end_of_the_backlog_once() {
        let event = DomainEvent::CallEnded {
            call: live(CallPhase::Ended),
            missed: true,
            late: true,
        };
        let json = serde_json::to_value(AppEvent::from_domain(&event).unwrap()).unwrap();
        assert_eq!(json["late"], true);
        let caught_up = |late_events| DomainEvent::CaughtUp {
            last_id: 7,
            late_events,
            live: Vec::new(),
        };
        assert_eq!(
            AppEvent::from_domain(&caught_up(3)),
            Some(AppEvent::CaughtUp)
        );
        // A reconnection with nothing late changes nothing on screen.
        assert_eq!(AppEvent::from_domain(&caught_up(0)), None);
    }

    #[test]
    fn a_team_phonebook_sync_that_changed_the_copy_reaches_the_window() {
        let event = DomainEvent::TeamPhonebookChanged { version: 12 };
        let json = serde_json::to_value(AppEvent::from_domain(&event).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "teamContacts"}));
    }

    #[test]
    fn events_no_screen_shows_stay_in_the_core() {
        let event = DomainEvent::DirectoryChanged {
            what: "numbers".into(),
        };
        assert_eq!(AppEvent::from_domain(&event), None);
    }
}
