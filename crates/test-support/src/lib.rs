//! Helpers for the integration tests of `companion` and `demo`: the simulator's control API and
//! waiting for the event a test expects. A dev-dependency only; never in a shipped binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

use std::time::Duration;

use tokio::sync::broadcast;

/// Calls the simulator's control API (`post` or `put` to `path` under its control address),
/// which must accept the request.
pub async fn control(sim: &mtt_sim::SimHandle, put: bool, path: &str, body: serde_json::Value) {
    let url = format!("{}{path}", sim.control_url());
    let http = reqwest::Client::new();
    let request = if put { http.put(url) } else { http.post(url) };
    let answer = request.json(&body).send().await.unwrap();
    assert!(
        answer.status().is_success(),
        "{path}: {}",
        answer.text().await.unwrap()
    );
}

/// The next event (the core's `DomainEvent`s, or any other broadcast) that `pred` accepts,
/// failing the test after 10 s without one.
pub async fn wait_for<E: Clone>(
    events: &mut broadcast::Receiver<E>,
    what: &str,
    pred: impl Fn(&E) -> bool,
) -> E {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = events.recv().await.unwrap();
            if pred(&e) {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} within 10 s"))
}
