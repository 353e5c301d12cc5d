//! Webhook intake: what is stored, what is refused, and that refusals leave the relay serving.

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::util::{self, TestRelay};

/// The notifications of the source document's examples, as written there.
const DOCUMENT_EXAMPLES: &[&str] = &[
    r#"{ "event": "vpbxNotifications", "result": { "eventType": "numbersChanged" } }"#,
    r#"{
  "event": "vpbxNotifications",
  "result": {
    "eventType": "workplacesChanged"
  }
}"#,
    r#"{
  "event": "callNotifications",
  "result": {
    "callInfo": {
      "call": {
        "id": "c166e238a4c211ea9d373863bb43daf8_00015ED635780FC7~1o",
        "tag": "hswdfry52vmykfla____.o"
      },
      "callee": {
        "accountId": "74996497803",
        "centrexId": "67821426",
        "displayId": "74996497803",
        "displayName": "",
        "forwarderList": [],
        "id": "74996497803"
      },
      "caller": {
        "accountId": "78124241500@pstn",
        "displayId": "78124241500",
        "forwarderList": [],
        "id": "78124241500"
      },
      "startTime": "2020-06-02 11:18:16",
      "state": "trying",
      "transportId": "10.133.33.136:5073",
      "type": "incoming"
    }
  }
}"#,
    r#"{
  "event": "callNotifications",
  "result": {
    "callInfo": {
      "call": {
        "id": "SDfe2n901-b510751695c9e53584301f0c0e8d98c9200@127.0.0.1",
        "tag": "sdfe2n901-281028329"
      },
      "callee": {
        "displayId": "+79219462761",
        "forwarderList": [],
        "id": "+79219462761"
      },
      "caller": {
        "accountId": "883140582526566",
        "centrexId": "48212857",
        "displayId": "78005560251",
        "forwarderList": [],
        "id": "78005560251"
      },
      "startTime": "2020-06-24 15:01:45",
      "state": "trying",
      "transportId": "10.133.51.137:5070",
      "type": "outgoing"
    }
  }
}"#,
    r#"{
  "event": "callNotifications",
  "result": {
    "callInfo": {
      "accountId": "883140777446532",
      "call": {
        "id": "SDvapac01-3bd7d743109f2668f16de50c9ab53559100@127.0.0.1"
      },
      "state": "recorded",
      "urlRecord": "https://<serverhost>/<path>/<filename>.mp3"
    }
  }
}"#,
    r#"{
  "event": "callNotifications",
  "result": {
    "callInfo": {
      "call": {
        "id": "SDfe2n901-b510751695c9e53584301f0c0e8d98c9200@127.0.0.1",
        "tag": "sdfe2n901-281028329"
      },
      "callee": {
        "displayId": "+79219462761",
        "forwarderList": [],
        "id": "+79219462761"
    },
    "caller": {
        "accountId": "883140582526566",
        "centrexId": "48212857",
        "displayId": "78005560251",
        "forwarderList": [],
        "id": "78005560251"
    },
    "startTime": "2020-06-24 15:01:45",
    "state": "showing",
    "transportId": "10.133.51.137:5070",
    "type": "outgoing"
}
}
}"#,
    r#"{
  "event": "callNotifications",
  "result": {
    "callInfo": {
      "call": {
        "id": "SDfe2n901-b510751695c9e53584301f0c0e8d98c9200@127.0.0.1",
        "tag": "sdfe2n901-281028329"
      },
      "callee": {
        "displayId": "79219462761",
        "forwarderList": [],
        "id": "79219462761"
      },
      "caller": {
        "accountId": "883140582526566",
        "centrexId": "48212857",
        "displayId": "78005560251",
        "forwarderList": [],
        "id": "78005560251"
      },
      "startTime": "2020-06-24 15:01:55",
      "state": "connected",
      "transportId": "10.133.51.137:5070",
      "type": "outgoing"
    }
  }
}"#,
    r#"{
  "event": "callNotifications",
  "result": {
    "callInfo": {
      "call": {
        "id": "SDfe2n901-b510751695c9e53584301f0c0e8d98c9200@127.0.0.1",
        "tag": "sdfe2n901-281028329"
      },
      "callee": {
        "displayId": "79219462761",
        "forwarderList": [],
        "id": "79219462761"
      },
      "caller": {
        "accountId": "883140582526566",
        "centrexId": "48212857",
        "displayId": "78005560251",
        "forwarderList": [],
        "id": "78005560251"
      },
      "duration": 3,
      "reason": "Originate leg disconnected",
      "reasonCode": null,
      "state": "finished",
      "transportId": "10.133.51.137:5070",
      "type": "outgoing"
    }
  }
}"#,
];

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
    for example in DOCUMENT_EXAMPLES {
        relay.post_ok(example).await;
    }
    let mut stream = relay.stream(None).await;
    for (n, example) in DOCUMENT_EXAMPLES.iter().enumerate() {
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
        assert_eq!(data.body.get(), *example);
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
    let body = DOCUMENT_EXAMPLES[2];
    let first = relay.post_ok(body).await;
    let response = relay.post(body).await;
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
