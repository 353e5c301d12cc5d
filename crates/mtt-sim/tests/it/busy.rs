//! Busy workplaces (issue #16 item 8): with `busy_workplace = next_in_routing` a workplace on a
//! call is passed by, so each workplace holds one call; by default it rings anyway.

use mtt_sim::config::BusyWorkplace;
use serde_json::{Value, json};

use crate::util::*;

async fn one_call_per_workplace() -> Harness {
    Harness::with(|c| c.busy_workplace = BusyWorkplace::NextInRouting).await
}

/// An incoming call answered by `by` (the control API, as a test's person), talking on.
async fn talking(h: &Harness, from: &str, by: &str) -> String {
    let call = h.incoming(from, MAIN_NUMBER, json!({})).await;
    let leg_id = call["leg_id"].as_str().unwrap().to_owned();
    h.hooks
        .wait_until(&format!("{by} ringing"), |b| {
            b.iter().any(|n| {
                leg(n) == leg_id && state_of(n) == "showing" && info(n)["callee"]["id"] == by
            })
        })
        .await;
    h.control_post("/answer", json!({"call": leg_id, "by": by}))
        .await;
    h.hooks.wait_for_state(&leg_id, "connected").await;
    leg_id
}

fn shown(ns: &[Value]) -> Vec<String> {
    sequence(ns)
        .into_iter()
        .filter(|s| s.starts_with("showing:"))
        .collect()
}

#[tokio::test]
async fn a_call_for_a_workplace_on_a_call_rings_the_rest_of_its_group() {
    let h = one_call_per_workplace().await;
    talking(&h, CALLER, ANNA).await;

    let second = h.incoming("79031112233", MAIN_NUMBER, json!({})).await;
    let leg_id = second["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&leg_id, "finished").await;
    assert_eq!(
        shown(&ns),
        [
            format!("showing:{PETROV}"),
            format!("showing:{SMIRNOVA}"),
            format!("showing:{RECEPTION}"),
        ],
        "Anna, on a call, is passed by: {}",
        pretty(&ns)
    );
}

#[tokio::test]
async fn a_call_with_every_workplace_of_the_routing_busy_is_missed_as_busy() {
    let h = Harness::with(|c| {
        c.busy_workplace = BusyWorkplace::NextInRouting;
        c.account.routing = vec![vec![ANNA.to_owned()]];
    })
    .await;
    talking(&h, CALLER, ANNA).await;

    let second = h.incoming("79031112233", MAIN_NUMBER, json!({})).await;
    let leg_id = second["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&leg_id, "finished").await;
    assert_eq!(sequence(&ns), ["trying", "finished"], "{}", pretty(&ns));
    let finished = info(ns.last().unwrap());
    assert_eq!(finished["reason"], "Busy here");
    assert_eq!(finished["reasonCode"], 486);
    assert_eq!(finished["duration"], 0);
}

#[tokio::test]
async fn by_default_a_workplace_on_a_call_still_rings() {
    let h = Harness::with(|c| c.account.routing = vec![vec![ANNA.to_owned()]]).await;
    talking(&h, CALLER, ANNA).await;

    let second = h.incoming("79031112233", MAIN_NUMBER, json!({})).await;
    let leg_id = second["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&leg_id, "finished").await;
    assert_eq!(shown(&ns), [format!("showing:{ANNA}")], "{}", pretty(&ns));
    assert_eq!(info(ns.last().unwrap())["reason"], "No answer");
}

#[tokio::test]
async fn a_simulated_person_on_a_call_leaves_a_second_ringing_call_to_a_free_colleague() {
    let h = Harness::with(|c| {
        c.busy_workplace = BusyWorkplace::NextInRouting;
        c.account.routing = vec![vec![ANNA.to_owned(), PETROV.to_owned()]];
    })
    .await;
    // Both calls ring Anna and Petrov while both are free; Anna picks up the first, and the
    // second would be hers too, later, if she were not talking by then.
    let first = h
        .incoming(
            CALLER,
            MAIN_NUMBER,
            json!({"answer_after_ms": 60, "answer_by": ANNA}),
        )
        .await;
    let second = h
        .incoming(
            "79031112233",
            MAIN_NUMBER,
            json!({"answer_after_ms": 120, "answer_by": ANNA}),
        )
        .await;
    let first = first["leg_id"].as_str().unwrap().to_owned();
    let second = second["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&first, "connected").await;
    assert_eq!(sequence(&ns).last().unwrap(), &format!("connected:{ANNA}"));
    let ns = h.hooks.wait_for_state(&second, "connected").await;
    assert_eq!(
        shown(&ns),
        [format!("showing:{ANNA}"), format!("showing:{PETROV}")],
        "both rang while both were free: {}",
        pretty(&ns)
    );
    assert!(
        sequence(&ns).contains(&format!("connected:{PETROV}")),
        "Petrov, free, took the second call: {}",
        pretty(&ns)
    );
}

#[tokio::test]
async fn a_transfer_to_a_workplace_on_a_call_goes_on_along_the_routing() {
    let h = one_call_per_workplace().await;
    talking(&h, CALLER, PETROV).await;

    // A second call rings the first group (Anna and Smirnova; Petrov is busy); a transfer to
    // Petrov passes him by, and the call goes on to the next group.
    let second = h.incoming("79031112233", MAIN_NUMBER, json!({})).await;
    let leg_id = second["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&leg_id, "showing").await;
    let (call_ref, transport) = Harness::leg_ref(&ns[0]);
    let (status, answer) = h
        .api_post(
            "transferCall",
            json!({"params": {"call": call_ref, "calleeId": PETROV, "transportId": transport}}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let ns = h.hooks.wait_for_state(&leg_id, "finished").await;
    assert_eq!(
        shown(&ns),
        [
            format!("showing:{ANNA}"),
            format!("showing:{SMIRNOVA}"),
            format!("showing:{RECEPTION}"),
        ],
        "{}",
        pretty(&ns)
    );
}

/// Who is on each call in a `/control/calls` snapshot: the workplace talking, and the operator
/// of a makeCall who has picked up.
fn on_calls(calls: &[Value]) -> Vec<String> {
    let mut on = Vec::new();
    for c in calls {
        if let Some(w) = c["talking_with"].as_str() {
            on.push(w.to_owned());
        }
        if c["direction"] == "outgoing"
            && matches!(c["phase"].as_str(), Some("callee_ringing" | "talking"))
        {
            on.push(c["from"].as_str().unwrap_or_default().to_owned());
        }
    }
    on
}

#[tokio::test]
async fn generated_traffic_keeps_every_workplace_to_one_call_at_a_time() {
    let h = one_call_per_workplace().await;
    h.control_post(
        "/traffic",
        json!({"calls_per_second": 40.0, "time_scale": 0.01}),
    )
    .await;
    let mut busiest = 0;
    for _ in 0..150 {
        let (_, calls) = h.control(reqwest::Method::GET, "/calls", None).await;
        let mut on = on_calls(calls.as_array().unwrap());
        busiest = busiest.max(on.len());
        on.sort();
        let before = on.len();
        on.dedup();
        assert_eq!(
            on.len(),
            before,
            "a workplace on two calls at once: {calls}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (status, _) = h.control(reqwest::Method::DELETE, "/traffic", None).await;
    assert_eq!(status, 200);
    assert!(
        busiest >= 2,
        "the traffic kept several workplaces busy at once"
    );
}
