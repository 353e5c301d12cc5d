use super::*;
use call_routing::{JournalEntry, RoutingOutcome};

#[test]
fn a_routing_event_is_for_the_workplace_the_call_was_sent_to() {
    let entry = JournalEntry {
        leg: "park-1".into(),
        caller_number: Some("79161112233".into()),
        line_number: Some("74996497803".into()),
        rule: Some("manager".into()),
        target: Some("883140777551301".into()),
        outcome: RoutingOutcome::Transferred,
        detail: None,
        decided_at: Utc::now(),
        took_ms: 12,
        deadline_ms: 4000,
    };
    let body = serde_json::to_string(&RoutingDecisionEvent { id: 7, entry }).unwrap();
    assert_eq!(
        audience_ids(&body),
        ["883140777551301".to_owned()].into_iter().collect()
    );
    assert!(audience_ids("{}").is_empty());
}

fn call_event(state: &str, leg: &str, caller: &str, callee: &str) -> IncomingNotification {
    IncomingNotification::new(
        CALL_KIND.to_owned(),
        format!(
            r#"{{"event":"callNotifications","result":{{"callInfo":{{"state":"{state}","type":"incoming","transportId":"tr-1","call":{{"id":"{leg}","tag":"tag-1"}},"caller":{{"id":"{caller}"}},"callee":{{"id":"{callee}"}}}}}}}}"#
        ),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_keeps_who_answered_a_number_and_decides_only_parked_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let state = crate::RelayState::open(crate::RelayConfig::new(
        crate::HookPath::generate(),
        dir.path().join("relay.sqlite3"),
    ))
    .unwrap();
    let router = Arc::clone(&state.routing);
    const OPERATOR: &str = "883140777551201";
    // A connected call from outside: the number and who answered it are noted.
    let seen = router
        .watch(&call_event("connected", "leg-1", "79161112233", OPERATOR))
        .unwrap();
    assert_eq!(seen.answered_by.as_deref(), Some(OPERATOR));
    router.act(seen);
    let mut record = None;
    for _ in 0..200 {
        record = state
            .team
            .caller_record("79161112233".into())
            .await
            .unwrap();
        if record.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let record = record.expect("the caller noted");
    assert_eq!(record.last_operator.unwrap().0, OPERATOR);
    // An older sighting never replaces a newer last operator.
    state
        .team
        .note_caller(CallerSeen {
            number_key: "79161112233".into(),
            at: Utc::now() - TimeDelta::days(2),
            answered_by: Some("883140777551301".into()),
        })
        .await
        .unwrap();
    let record = state
        .team
        .caller_record("79161112233".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.last_operator.unwrap().0, OPERATOR);
    assert!(record.first_seen_at <= Utc::now() - TimeDelta::days(2));
    // A trying to a number nobody parked is noted, not decided.
    let trying = call_event("trying", "leg-2", "79990004455", "74996497803");
    assert!(router.watch(&trying).is_some());
    assert_eq!(router.parked_leg(&stored(&trying, Utc::now())), None);
    // Once parked, its committed trying is a parked call — unless the PBX's window for it has
    // passed (an old event read again).
    write(
        &router.current,
        Arc::new(TeamRouting {
            parked: vec!["74996497803".into()],
            ..TeamRouting::default()
        }),
    );
    let parked = router
        .parked_leg(&stored(&trying, Utc::now()))
        .expect("a parked call");
    assert_eq!(parked.leg.id.as_str(), "leg-2");
    assert_eq!(parked.caller_number.as_deref(), Some("79990004455"));
    assert_eq!(parked.external_number, "74996497803");
    let old = stored(&trying, Utc::now() - TimeDelta::seconds(6));
    assert_eq!(router.parked_leg(&old), None);
    // Its answer is not.
    let connected = call_event("connected", "leg-2", "79990004455", "74996497803");
    assert_eq!(router.parked_leg(&stored(&connected, Utc::now())), None);
}

fn stored(notification: &IncomingNotification, received_at: DateTime<Utc>) -> StoredEvent {
    StoredEvent {
        epoch: crate::store::Epoch::generate(),
        id: crate::store::EventId(1),
        received_at,
        kind: notification.kind().to_owned(),
        body: serde_json::value::RawValue::from_string(notification.body().to_owned()).unwrap(),
    }
}
