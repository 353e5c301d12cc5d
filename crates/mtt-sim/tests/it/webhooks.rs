//! Webhook delivery: ordering per call, the delivery log, optional retry.

use serde_json::{Value, json};

use crate::util::*;

#[tokio::test]
async fn deliveries_are_logged_with_status_and_failures_are_not_retried_by_default() {
    let h = Harness::start().await;
    h.hooks.reply_with(&[500]);
    h.control_post("/numbers", json!({"number": "74951112233"}))
        .await;
    h.control_post("/numbers", json!({"number": "74951112234"}))
        .await;
    h.hooks.wait_until("two posts", |b| b.len() >= 2).await;
    let log = wait_for_log(&h, 2).await;
    assert_eq!(log[0]["status"], 500);
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[1]["status"], 200);
    assert_eq!(log[1]["state"], "numbersChanged");
    assert_eq!(log[1]["url"], format!("{}/events", h.hooks.base));
    assert!(log[1]["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(log[1]["body"]["event"], "vpbxNotifications");
    assert_eq!(h.hooks.all().len(), 2, "a failed delivery is not retried");
    let (_, stats) = h.control(reqwest::Method::GET, "/stats", None).await;
    assert_eq!(stats["webhooks"]["failed"], 1);
    assert_eq!(stats["webhooks"]["delivered"], 1);
    // Paging through the log.
    let (_, later) = h
        .control(reqwest::Method::GET, "/deliveries?since=1", None)
        .await;
    assert_eq!(later.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn with_retry_a_failing_receiver_gets_the_notification_again() {
    let h = Harness::with(|c| {
        c.webhook.retry = Some(mtt_sim::config::RetryPolicy {
            max_attempts: 3,
            initial_backoff_ms: 5,
        });
    })
    .await;
    h.hooks.reply_with(&[503, 500]);
    h.control_post("/numbers", json!({"number": "74951112233"}))
        .await;
    h.hooks.wait_until("three attempts", |b| b.len() >= 3).await;
    let log = wait_for_log(&h, 1).await;
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[0]["attempts"], 3);
}

#[tokio::test]
async fn each_calls_notifications_arrive_in_order_while_calls_overlap() {
    let h = Harness::with(|c| {
        c.timings.incoming_answer_ms = Some(5);
        c.timings.talk_ms = Some(5);
        c.timings.record_delay_ms = 1;
    })
    .await;
    let mut legs = Vec::new();
    for i in 0..20 {
        let call = h
            .incoming(&format!("7916123450{i:02}"), MAIN_NUMBER, json!({}))
            .await;
        legs.push(call["leg_id"].as_str().unwrap().to_owned());
    }
    let all = h
        .hooks
        .wait_until("every call recorded", |b| {
            b.iter().filter(|n| state_of(n) == "recorded").count() >= 20
        })
        .await;
    for leg_id in legs {
        let states: Vec<&str> = all
            .iter()
            .filter(|n| leg(n) == leg_id)
            .map(state_of)
            .collect();
        assert_eq!(
            states,
            [
                "trying",
                "showing",
                "showing",
                "showing",
                "connected",
                "hiding",
                "hiding",
                "finished",
                "recorded"
            ],
            "{leg_id}"
        );
    }
}

#[tokio::test]
async fn the_webhook_target_can_be_changed_at_run_time() {
    let h = Harness::start().await;
    let other = Receiver::start().await;
    let (status, view) = h
        .control(
            reqwest::Method::PUT,
            "/webhook",
            Some(json!({"url": other.base})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(view["target"], format!("{}/events", other.base));
    h.control_post("/numbers", json!({"number": "74951112233"}))
        .await;
    other.wait_until("the move", |b| !b.is_empty()).await;
    assert!(h.hooks.all().is_empty());
}

async fn wait_for_log(h: &Harness, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let (_, log) = h.control(reqwest::Method::GET, "/deliveries", None).await;
        let log = log.as_array().unwrap().clone();
        if log.len() >= n {
            return log;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the delivery log did not reach {n} entries");
}
