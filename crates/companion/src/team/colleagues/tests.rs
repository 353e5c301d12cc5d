use serde_json::json;
use team_api::{Colleague, Role};

use super::*;

fn colleague(seat: i64, workplace: &str) -> Colleague {
    Colleague {
        seat,
        name: format!("Seat {seat}"),
        workplace: workplace.into(),
        role: Role::Operator,
        presence: Presence::Free,
        availability: Availability::Available,
    }
}

fn roster() -> TeamRoster {
    let roster = TeamRoster::default();
    roster.replace(Colleagues {
        colleagues: vec![colleague(1, "wp-1"), colleague(2, "wp-2")],
    });
    roster
}

#[test]
fn presence_and_availability_events_change_the_colleague_they_name() {
    let roster = roster();
    let changed = roster
        .follow(
            PRESENCE_KIND,
            &json!({"workplace": "wp-2", "presence": "talking"}),
        )
        .unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].seat, 2);
    assert_eq!(changed[0].presence, Presence::Talking);
    assert!(!changed[0].is_free());
    let changed = roster
        .follow(
            AVAILABILITY_KIND,
            &json!({"seat": 1, "workplace": "wp-1", "availability": "break"}),
        )
        .unwrap();
    assert_eq!(changed[0].availability, Availability::Break);
    // The same value again changes nothing.
    assert!(
        roster
            .follow(
                AVAILABILITY_KIND,
                &json!({"seat": 1, "workplace": "wp-1", "availability": "break"}),
            )
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        roster.colleague(1).unwrap().availability,
        Availability::Break
    );
}

#[test]
fn other_kinds_are_not_the_rosters_and_bad_bodies_change_nothing() {
    let roster = roster();
    assert!(roster.follow("callNotifications", &json!({})).is_none());
    assert!(
        roster
            .follow(PRESENCE_KIND, &json!({"workplace": 5}))
            .unwrap()
            .is_empty()
    );
    assert!(
        roster
            .follow(
                AVAILABILITY_KIND,
                &json!({"seat": 9, "workplace": "wp-9", "availability": "away"}),
            )
            .unwrap()
            .is_empty(),
        "an unknown seat waits for the next reload"
    );
    assert_eq!(roster.colleagues().len(), 2);
}
