//! Which call events reach an operator's stream: every event of a leg once any event of that
//! leg named their workplace, live, in a backlog read from the start, in a backlog resumed in
//! the middle of the leg, and across a relay restart. The case that needs it: an incoming call
//! rings the team's group (the leg's events name the workplaces rung) and the caller gives up
//! (the leg's end names only the company number); without the end, the operator's app keeps the
//! call ringing for ever.

use std::time::Duration;

use team_api::Role;

use crate::team_seat_api::{ANNA, SERGEY, backlog, call_event, joined};
use crate::util::{Frame, SseReader, TestRelay};

const WAIT: Duration = Duration::from_secs(20);
/// What a leg's end names when the caller gave up on the group: the company number.
const COMPANY: &str = "74951234567";
const CALLER: &str = "79001234567";

/// A seat's stream resumed after `after` (from the start when `None`).
async fn stream(relay: &TestRelay, credential: &str, after: Option<i64>) -> SseReader {
    let mut request = relay
        .http
        .get(format!("{}/events/stream", relay.base))
        .bearer_auth(credential);
    if let Some(after) = after {
        request = request.header("last-event-id", after.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    SseReader::new(response)
}

/// The call events among `frames`: (leg id, state).
fn calls(frames: &[Frame]) -> Vec<(String, String)> {
    frames
        .iter()
        .filter(|frame| frame.event.as_deref() == Some("callNotifications"))
        .map(|frame| {
            let info = &frame.json()["body"]["result"]["callInfo"];
            (
                info["call"]["id"].as_str().unwrap().to_owned(),
                info["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Call events read live from `stream` until one of `leg` in `state` arrives.
async fn live_until(stream: &mut SseReader, leg: &str, state: &str) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    while let Some(frame) = stream.next_event(WAIT).await {
        seen.extend(calls(std::slice::from_ref(&frame)));
        if seen.last().is_some_and(|(l, s)| l == leg && s == state) {
            return seen;
        }
    }
    panic!("the stream never carried {leg} {state}; it carried {seen:?}");
}

/// The frames a stream resumed after `after` sends before its end-of-backlog marker.
async fn resumed_backlog(relay: &TestRelay, credential: &str, after: i64) -> Vec<Frame> {
    let mut stream = stream(relay, credential, Some(after)).await;
    let mut frames = Vec::new();
    while let Some(frame) = stream.next_frame(WAIT).await {
        match frame.event.as_deref() {
            Some("caught-up") => return frames,
            Some("epoch" | "resync") | None => {}
            Some(_) => frames.push(frame),
        }
    }
    panic!("the resumed stream never caught up");
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(leg, state)| ((*leg).to_owned(), (*state).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_gets_the_end_of_a_group_call_that_rang_them_live_and_in_any_backlog() {
    let relay = crate::util::start().await;
    let operator = joined(&relay, "Анна", ANNA, Role::Operator).await;
    let supervisor = joined(&relay, "Сергей", SERGEY, Role::Supervisor).await;
    let mut live = stream(&relay, &operator, None).await;

    // A call to the company rings Anna's workplace and the caller gives up; another rings only
    // Sergey's and ends the same way.
    let showing = relay
        .post_ok(&call_event("group-1", "showing", CALLER, ANNA))
        .await;
    relay
        .post_ok(&call_event("group-2", "showing", CALLER, SERGEY))
        .await;
    relay
        .post_ok(&call_event("group-2", "finished", CALLER, COMPANY))
        .await;
    relay
        .post_ok(&call_event("group-1", "finished", CALLER, COMPANY))
        .await;
    let expected = pairs(&[("group-1", "showing"), ("group-1", "finished")]);

    assert_eq!(live_until(&mut live, "group-1", "finished").await, expected);
    assert_eq!(calls(&backlog(&relay, &operator).await), expected);
    assert_eq!(
        calls(&resumed_backlog(&relay, &operator, showing).await),
        pairs(&[("group-1", "finished")]),
        "a resume between the ring and the end"
    );
    assert_eq!(calls(&backlog(&relay, &supervisor).await).len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_end_of_a_group_call_reaches_the_operator_after_a_relay_restart() {
    let relay = crate::util::start().await;
    let operator = joined(&relay, "Анна", ANNA, Role::Operator).await;
    // An event of a leg that never touched Anna, before hers: her seat must not get it.
    relay
        .post_ok(&call_event("theirs", "showing", CALLER, SERGEY))
        .await;
    let showing = relay
        .post_ok(&call_event("group-1", "showing", CALLER, ANNA))
        .await;

    // The relay restarts while Anna's phone rings; her app resumes after the ring.
    let relay = relay.restart().await;
    let mut live = stream(&relay, &operator, Some(showing)).await;
    relay
        .post_ok(&call_event("theirs", "finished", CALLER, COMPANY))
        .await;
    relay
        .post_ok(&call_event("group-1", "finished", CALLER, COMPANY))
        .await;
    assert_eq!(
        live_until(&mut live, "group-1", "finished").await,
        pairs(&[("group-1", "finished")])
    );
    assert_eq!(
        calls(&resumed_backlog(&relay, &operator, showing).await),
        pairs(&[("group-1", "finished")])
    );
    assert_eq!(
        calls(&backlog(&relay, &operator).await),
        pairs(&[("group-1", "showing"), ("group-1", "finished")])
    );
}
