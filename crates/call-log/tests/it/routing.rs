//! The routing journal and its effect on missed calls.

use call_log::{HistoryFilter, LoggedEvent, RoutingDecision, RoutingOutcome};

use crate::harness::{TestLog, at, call};

/// An incoming call to the company's line that nobody answered, its events numbered from
/// `first_id` and starting at `start` seconds.
fn unanswered(first_id: i64, start: i64, leg: &str, caller: &str) -> Vec<LoggedEvent> {
    call(
        first_id,
        start,
        leg,
        "incoming",
        caller,
        "74996497803",
        &["trying", "finished"],
    )
}

fn decision(leg: &str, outcome: RoutingOutcome, took_ms: i64) -> RoutingDecision {
    RoutingDecision {
        leg: leg.into(),
        caller_number: Some("79219462761".into()),
        line_number: Some("74996497803".into()),
        rule: Some("personal manager".into()),
        target: (outcome == RoutingOutcome::Transferred).then(|| "883140777716581".into()),
        outcome,
        detail: None,
        decided_at: at(took_ms),
        took_ms,
        deadline_ms: 4_000,
    }
}

#[tokio::test]
async fn decisions_are_journalled_and_counted_against_the_deadline() {
    let t = TestLog::new();
    t.log
        .record_routing_decision(decision("p1", RoutingOutcome::Transferred, 300))
        .await
        .unwrap();
    t.log
        .record_routing_decision(decision("p2", RoutingOutcome::TimedOut, 5_000))
        .await
        .unwrap();
    t.log
        .record_routing_decision(decision("p3", RoutingOutcome::Released, 900))
        .await
        .unwrap();
    let latest = t.log.routing_decisions(2).await.unwrap();
    assert_eq!(latest.len(), 2);
    assert_eq!(latest[0].decision.leg, "p2");
    assert_eq!(latest[1].decision.leg, "p3");
    let share = t.log.routing_deadline_share(at(-1)).await.unwrap();
    assert_eq!((share.decisions, share.met), (3, 2));
    assert!((share.share.unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(
        t.log.routing_decisions_for("p1").await.unwrap()[0]
            .decision
            .rule
            .as_deref(),
        Some("personal manager")
    );
}

#[tokio::test]
async fn a_routed_parking_leg_is_not_missed_whichever_comes_first() {
    // Decision first, then the events.
    let t = TestLog::new();
    t.log
        .record_routing_decision(decision("park-1", RoutingOutcome::Transferred, 200))
        .await
        .unwrap();
    t.log
        .apply(unanswered(1, 0, "park-1", "79219462761"))
        .await
        .unwrap();
    // Events first, then the decision.
    t.log
        .apply(unanswered(10, 10, "park-2", "79219462761"))
        .await
        .unwrap();
    assert!(t.log.call("park-2").await.unwrap().unwrap().missed);
    t.log
        .record_routing_decision(decision("park-2", RoutingOutcome::Transferred, 200))
        .await
        .unwrap();
    for leg in ["park-1", "park-2"] {
        let c = t.log.call(leg).await.unwrap().unwrap();
        assert!(!c.missed, "{leg}");
        assert_eq!(
            c.transfer_target.as_deref(),
            Some("883140777716581"),
            "{leg}"
        );
    }
    // An unrouted leg that ends unanswered is missed.
    t.log
        .apply(unanswered(20, 20, "plain", "79219462761"))
        .await
        .unwrap();
    let missed = t
        .log
        .history(
            HistoryFilter {
                missed_only: true,
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        missed
            .calls
            .iter()
            .map(|c| c.leg.as_str())
            .collect::<Vec<_>>(),
        ["plain"]
    );
}

#[tokio::test]
async fn caller_facts_name_the_manager_the_last_operator_and_earlier_calls() {
    let t = TestLog::new();
    let caller = "79219462761";
    let unknown = t.log.caller_facts(caller, at(-100), at(0)).await.unwrap();
    assert_eq!(unknown.key.as_deref(), Some(caller));
    assert!(unknown.contact_id.is_none() && unknown.last_operator.is_none());
    assert!(!unknown.called_before);

    t.log
        .add_contact(call_log::NewContact {
            name: "Иван".into(),
            company: None,
            numbers: vec!["8 921 946-27-61".into()],
            manager_sip_id: Some("883140777446532".into()),
            notes: None,
        })
        .await
        .unwrap();
    // An answered call at 10 s (by one workplace), a newer unanswered one at 100 s.
    t.log
        .apply(call(
            1,
            10,
            "a",
            "incoming",
            caller,
            "883140777551201",
            &["trying", "connected", "finished"],
        ))
        .await
        .unwrap();
    t.log.apply(unanswered(10, 100, "b", caller)).await.unwrap();
    let facts = t
        .log
        .caller_facts("+7 921 946 27 61", at(0), at(50))
        .await
        .unwrap();
    assert!(facts.contact_id.is_some());
    assert_eq!(facts.manager_sip_id.as_deref(), Some("883140777446532"));
    assert_eq!(facts.last_operator.as_deref(), Some("883140777551201"));
    assert!(facts.called_before);
    // Outside the last-operator window, and nothing before the first call.
    let later = t.log.caller_facts(caller, at(20), at(5)).await.unwrap();
    assert_eq!(later.last_operator, None);
    assert!(!later.called_before);
    // A hidden number matches nothing.
    assert_eq!(
        t.log.caller_facts("", at(0), at(50)).await.unwrap(),
        call_log::CallerFacts::default()
    );
}

#[tokio::test]
async fn a_parked_calls_main_leg_finds_the_decision_of_its_parking_leg() {
    let t = TestLog::new();
    t.log
        .apply(unanswered(1, 0, "park-1", "79219462761"))
        .await
        .unwrap();
    let mut d = decision("park-1", RoutingOutcome::Transferred, 1);
    d.decided_at = at(1);
    t.log.record_routing_decision(d).await.unwrap();
    // The main leg starts when the parking ends; another caller's call does not match.
    t.log
        .apply(unanswered(10, 2, "main-1", "79219462761"))
        .await
        .unwrap();
    t.log
        .apply(unanswered(20, 2, "other", "79160000000"))
        .await
        .unwrap();
    t.log
        .apply(unanswered(30, 600, "later", "79219462761"))
        .await
        .unwrap();
    for leg in ["park-1", "main-1"] {
        let found = t.log.routing_decision_for_call(leg).await.unwrap();
        assert_eq!(
            found.map(|r| r.decision.leg).as_deref(),
            Some("park-1"),
            "{leg}"
        );
    }
    for leg in ["other", "later", "nonexistent"] {
        assert!(
            t.log
                .routing_decision_for_call(leg)
                .await
                .unwrap()
                .is_none(),
            "{leg}"
        );
    }
}

#[tokio::test]
async fn a_call_missed_while_the_router_was_away_is_journalled_and_never_meets_its_deadline() {
    let t = TestLog::new();
    t.log
        .record_routing_decision(decision("p1", RoutingOutcome::Transferred, 300))
        .await
        .unwrap();
    // Heard of 1.2 s after it rang (the deadline is 4 s), but nothing was sent: not met.
    t.log
        .record_routing_decision(decision("p2", RoutingOutcome::MissedOffline, 1_200))
        .await
        .unwrap();
    let share = t.log.routing_deadline_share(at(-1)).await.unwrap();
    assert_eq!((share.decisions, share.met), (2, 1));
    let back = t.log.routing_decisions_for("p2").await.unwrap();
    assert_eq!(back[0].decision.outcome, RoutingOutcome::MissedOffline);
}
