//! The notification parser never panics, whatever it is fed.

use mtt_api::Notification;
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-zA-Z0-9 @.:_~!-]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("trying"),
            Just("showing"),
            Just("connected"),
            Just("hiding"),
            Just("finished"),
            Just("recorded"),
            Just("Incoming"),
            Just("outgoing"),
            Just("2020-06-02 11:18:16"),
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        let keys = prop_oneof![
            Just("event".to_owned()),
            Just("result".to_owned()),
            Just("callInfo".to_owned()),
            Just("call".to_owned()),
            Just("id".to_owned()),
            Just("tag".to_owned()),
            Just("state".to_owned()),
            Just("type".to_owned()),
            Just("caller".to_owned()),
            Just("callee".to_owned()),
            Just("duration".to_owned()),
            Just("reasonCode".to_owned()),
            Just("forwarderList".to_owned()),
            Just("startTime".to_owned()),
            Just("eventType".to_owned()),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Envelopes that look like the real thing, with arbitrary insides.
fn envelope() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("callNotifications"), Just("vpbxNotifications"), Just("other")],
        json_value(),
    )
        .prop_map(|(event, inner)| {
            serde_json::json!({"event": event, "result": {"callInfo": inner.clone(), "eventType": inner}})
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Notification::parse(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics_and_keeps_the_raw_value(value in json_value()) {
        let text = value.to_string();
        // Compared with the text read back rather than `value`, since JSON text need not
        // round-trip the last bit of a float.
        let expected: Value = serde_json::from_str(&text).unwrap();
        if let Ok(n) = Notification::parse(text.as_bytes()) {
            prop_assert_eq!(n.raw(), &expected);
        }
    }

    #[test]
    fn envelopes_with_arbitrary_insides_are_always_some_notification(value in envelope()) {
        let n = Notification::parse(value.to_string().as_bytes());
        prop_assert!(n.is_ok());
    }
}
