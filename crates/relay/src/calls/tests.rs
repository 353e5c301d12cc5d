use std::sync::Arc;

use chrono::Utc;
use serde_json::value::RawValue;

use super::*;
use crate::store::{Epoch, EventId};

const ANNA: &str = "883140000000001";

fn event(
    id: i64,
    leg: &str,
    state: &str,
    direction: &str,
    caller: &str,
    callee: &str,
) -> StoredEvent {
    let body = format!(
        r#"{{"event":"callNotifications","result":{{"callInfo":{{"state":"{state}","type":"{direction}","call":{{"id":"{leg}","tag":"t-{leg}"}},"transportId":"10.0.0.1:5070","caller":{{"id":"{caller}","displayName":"Иван"}},"callee":{{"id":"{callee}"}}}}}}}}"#
    );
    StoredEvent {
        epoch: Epoch::from_stored(1),
        id: EventId(id),
        received_at: Utc::now(),
        kind: CALL_KIND.into(),
        body: RawValue::from_string(body).unwrap(),
    }
}

fn view() -> Arc<CallView> {
    let view = Arc::new(CallView::default());
    view.add_workplace(ANNA);
    view
}

#[test]
fn a_leg_is_followed_while_live_and_presence_carries_no_number_or_name() {
    let view = view();
    let derived = view.observe(&[event(1, "a", "trying", "incoming", "79001234567", ANNA)]);
    assert_eq!(
        derived,
        vec![Derived::Presence(PresenceEvent {
            workplace: ANNA.into(),
            presence: Presence::Ringing
        })]
    );
    let leg = view.leg("a").unwrap();
    assert!(leg.touches(ANNA));
    assert_eq!(leg.tag.as_deref(), Some("t-a"));
    let derived = view.observe(&[event(2, "a", "connected", "incoming", "79001234567", ANNA)]);
    assert_eq!(
        derived,
        vec![Derived::Presence(PresenceEvent {
            workplace: ANNA.into(),
            presence: Presence::Talking
        })]
    );
    assert_eq!(view.live_calls(Some(ANNA)).len(), 1);
    assert!(view.live_calls(Some("883140000000002")).is_empty());
    view.observe(&[event(3, "a", "finished", "incoming", "79001234567", ANNA)]);
    assert!(view.leg("a").is_none());
    assert_eq!(view.presence()[0].presence, Presence::Free);
}

#[test]
fn a_missed_call_from_outside_is_offered_once_and_the_first_dial_clears_it() {
    let view = view();
    view.observe(&[event(
        1,
        "a",
        "trying",
        "incoming",
        "79001234567",
        "78005560251",
    )]);
    view.observe(&[event(
        2,
        "b",
        "trying",
        "incoming",
        "79001234567",
        "78005560251",
    )]);
    // One leg of the caller ends; the other still rings: nothing offered yet.
    assert!(
        view.observe(&[event(
            3,
            "a",
            "finished",
            "incoming",
            "79001234567",
            "78005560251"
        )])
        .is_empty()
    );
    let derived = view.observe(&[event(
        4,
        "b",
        "finished",
        "incoming",
        "79001234567",
        "78005560251",
    )]);
    let [Derived::Callback(CallbackQueueEvent::Offered(offer))] = derived.as_slice() else {
        panic!("{derived:?}");
    };
    assert_eq!(offer.number, "79001234567");
    assert_eq!(offer.company_number.as_deref(), Some("78005560251"));
    assert_eq!(view.callbacks().len(), 1);
    assert_eq!(
        view.dialled("+7 900 123-45-67", 5),
        Some(Derived::Callback(CallbackQueueEvent::Cleared(
            CallbackCleared {
                number: "79001234567".into(),
                by_seat: Some(5)
            }
        )))
    );
    assert!(view.callbacks().is_empty());
    assert_eq!(view.dialled("79001234567", 6), None);
}

#[test]
fn an_answered_call_is_not_offered() {
    let view = view();
    view.observe(&[event(
        1,
        "a",
        "trying",
        "incoming",
        "79001234567",
        "78005560251",
    )]);
    view.observe(&[event(2, "a", "connected", "incoming", "79001234567", ANNA)]);
    let derived = view.observe(&[event(3, "a", "finished", "incoming", "79001234567", ANNA)]);
    assert!(
        !derived.iter().any(|d| matches!(d, Derived::Callback(_))),
        "{derived:?}"
    );
}

/// A call to the company rings a group on one leg (`showing` at each workplace); one answers
/// (`connected` naming it) and the others get `hiding`: the answerer talks, the others are free,
/// and the call stays live until `finished` (issue #16: a `hiding` for the colleague who did not
/// answer ended the whole leg, so the one talking read as free; and everyone the leg had rung
/// read as talking).
#[test]
fn in_a_group_call_only_the_answerer_talks_and_hiding_elsewhere_keeps_the_call() {
    const SERGEY: &str = "883140000000002";
    let view = view();
    view.add_workplace(SERGEY);
    let caller = "79001234567";
    let company = "78005560251";
    view.observe(&[
        event(1, "g", "trying", "incoming", caller, company),
        event(2, "g", "showing", "incoming", caller, ANNA),
        event(3, "g", "showing", "incoming", caller, SERGEY),
    ]);
    let presence = |w: &str| {
        view.presence()
            .into_iter()
            .find(|p| p.workplace == w)
            .unwrap()
            .presence
    };
    assert_eq!(presence(ANNA), Presence::Ringing);
    assert_eq!(presence(SERGEY), Presence::Ringing);
    view.observe(&[event(4, "g", "connected", "incoming", caller, SERGEY)]);
    assert_eq!(presence(SERGEY), Presence::Talking);
    assert_eq!(presence(ANNA), Presence::Ringing, "still showing at Anna's");
    view.observe(&[event(5, "g", "hiding", "incoming", caller, ANNA)]);
    assert_eq!(presence(SERGEY), Presence::Talking, "the hiding was Anna's");
    assert_eq!(presence(ANNA), Presence::Free);
    assert!(view.leg("g").is_some(), "the call goes on");
    view.observe(&[event(6, "g", "finished", "incoming", caller, SERGEY)]);
    assert_eq!(presence(SERGEY), Presence::Free);
    assert!(view.leg("g").is_none());
    assert!(
        view.callbacks().is_empty(),
        "an answered call is no missed call"
    );
}

/// Nobody answers: `hiding` at each, then `finished`; the call is offered for a call back.
#[test]
fn a_group_call_nobody_answers_frees_everyone_and_is_offered_once_finished() {
    const SERGEY: &str = "883140000000002";
    let view = view();
    view.add_workplace(SERGEY);
    let caller = "79001234567";
    view.observe(&[
        event(1, "g", "trying", "incoming", caller, "78005560251"),
        event(2, "g", "showing", "incoming", caller, ANNA),
        event(3, "g", "showing", "incoming", caller, SERGEY),
        event(4, "g", "hiding", "incoming", caller, ANNA),
        event(5, "g", "hiding", "incoming", caller, SERGEY),
    ]);
    assert!(view.presence().iter().all(|p| p.presence == Presence::Free));
    view.observe(&[event(6, "g", "finished", "incoming", caller, "78005560251")]);
    assert!(view.leg("g").is_none());
    assert_eq!(view.callbacks().len(), 1);
}
