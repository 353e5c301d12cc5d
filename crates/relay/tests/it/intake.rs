//! Webhook intake: what is stored, what is refused, and that refusals leave the relay serving.

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::util::{self, TestRelay};

/// The notifications of the source document's examples, as copied verbatim into `mtt-api`'s test
/// fixtures (the one copy of them in the repository), the two PBX events first. Trailing
/// whitespace is not part of a JSON text the stream can carry, so it is trimmed.
fn document_examples() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../mtt-api/tests/fixtures");
    [
        "vpbx_numbers_changed.json",
        "vpbx_workplaces_changed.json",
        "call_incoming_trying.json",
        "call_outgoing_trying.json",
        "call_showing.json",
        "call_connected.json",
        "call_finished.json",
        "call_recorded.json",
    ]
    .iter()
    .map(|name| {
        let path = format!("{dir}/{name}");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .trim_end()
            .to_owned()
    })
    .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamData<'a> {
    id: i64,
    received_at: String,
    kind: String,
    #[serde(borrow)]
    body: &'a RawValue,
}

#[tokio::test]
async fn the_documents_examples_come_out_of_the_stream_unchanged() {
    let relay = util::start().await;
    let examples = document_examples();
    for example in &examples {
        relay.post_ok(example).await;
    }
    let mut stream = relay.stream(None).await;
    for (n, example) in examples.iter().enumerate() {
        let frame = stream.next_event(Duration::from_secs(5)).await.unwrap();
        let expected_id = i64::try_from(n + 1).unwrap();
        assert_eq!(frame.id(), expected_id);
        let expected_kind = if n < 2 {
            "vpbxNotifications"
        } else {
            "callNotifications"
        };
        assert_eq!(frame.event.as_deref(), Some(expected_kind));
        let data_text = frame.data.clone().unwrap();
        let data: StreamData<'_> = serde_json::from_str(&data_text).unwrap();
        assert_eq!(data.id, expected_id);
        assert_eq!(data.kind, expected_kind);
        assert!(data.received_at.ends_with('Z') && data.received_at.len() == 24);
        // Byte for byte: the body inside `data` is the text the PBX sent.
        assert_eq!(data.body.get(), example);
    }
}

#[tokio::test]
async fn a_wrong_hook_is_404_and_stores_nothing() {
    let relay = util::start().await;
    let wrong_hook = relay::HookPath::generate();
    for url in [
        format!("{}/{}/events", relay.base, wrong_hook.expose_secret()),
        format!("{}/events", relay.base),
        format!("{}/{}/events/extra", relay.base, relay.hook),
        format!("{}/{}", relay.base, relay.hook),
    ] {
        let response = relay.http.post(&url).body("{}").send().await.unwrap();
        assert_eq!(response.status(), 404, "{url}");
    }
    assert_eq!(relay.stored_count().await, 0);
}

#[tokio::test]
async fn bad_bodies_are_refused_and_the_relay_keeps_serving() {
    let relay = util::start_with(|config| config.body_limit = 4096).await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_objects = format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (vec![b' '; 5000], 413),
        (
            format!("{{\"a\":\"{}\"}}", "x".repeat(5000)).into_bytes(),
            413,
        ),
        (b"not json".to_vec(), 400),
        (b"{\"event\":".to_vec(), 400),
        (vec![0xff, 0xfe, 0x00], 400),
        (deep.into_bytes(), 413),
        (Vec::new(), 400),
        (b"   ".to_vec(), 400),
    ];
    for (body, status) in cases {
        let length = body.len();
        let response = relay.post(body).await;
        assert_eq!(response.status(), status, "a body of {length} bytes");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert!(answer["error"].is_string());
    }
    // Within the limit, deep nesting is refused by the nesting check.
    let deep_small = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    assert_eq!(relay.post(deep_small).await.status(), 400);
    let relay_big = util::start().await;
    assert_eq!(relay_big.post(deep_objects).await.status(), 400);
    let deep_arrays = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(relay_big.post(deep_arrays).await.status(), 400);
    assert_eq!(relay.stored_count().await, 0);
    assert_eq!(relay_big.stored_count().await, 0);

    // Still serving, and unknown shapes are stored as they are.
    assert_eq!(relay.post_ok("[1,\"two\",{\"three\":3}]").await, 1);
    assert_eq!(relay.post_ok("42").await, 2);
    let metrics = relay
        .http
        .get(format!("{}/metrics", relay.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("trubka_relay_rejected_total{reason=\"too_large\"} 3\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("trubka_relay_rejected_total{reason=\"too_deep\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("trubka_relay_rejected_total{reason=\"empty\"} 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("trubka_relay_events_stored_total 2\n"),
        "{metrics}"
    );
    let health = relay
        .http
        .get(format!("{}/healthz", relay.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_repeated_delivery_is_stored_once() {
    let relay = util::start().await;
    let examples = document_examples();
    let body = &examples[2];
    let first = relay.post_ok(body).await;
    let response = relay.post(body.clone()).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["id"], first);
    assert_eq!(answer["duplicate"], true);
    assert_eq!(relay.stored_count().await, 1);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let relay: TestRelay = util::start().await;
    let url = relay.events_url();
    let http = relay.http.clone();
    relay.handle.shutdown().await.unwrap();
    assert!(http.post(url).body("{}").send().await.is_err());
}

#[tokio::test]
async fn every_directory_notification_is_streamed_even_when_repeated() {
    let relay = util::start().await;
    let body = r#"{"event":"vpbxNotifications","result":{"eventType":"numbersChanged"}}"#;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = relay.post(body.to_owned()).await;
        assert_eq!(response.status(), 200);
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(answer["duplicate"], false, "{answer}");
        ids.push(answer["id"].as_i64().unwrap());
    }
    assert_ne!(ids[0], ids[1]);
    let mut stream = relay.stream(None).await;
    for id in &ids {
        let frame = stream.next_event(Duration::from_secs(5)).await.unwrap();
        assert_eq!(frame.id(), *id);
        assert_eq!(frame.event.as_deref(), Some("vpbxNotifications"));
    }
    assert_eq!(relay.stored_count().await, 2);
}
