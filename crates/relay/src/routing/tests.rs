use super::*;

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
