//! The seven methods: each request's exact shape, and which failures are retried.

use std::time::Duration;

use mtt_api::{Callee, Error, HttpConfig, LegRef, SipId};
use serde_json::json;

use crate::mock::{Mock, Reply, fresh_tokens};

fn quick() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_millis(400),
    }
}

fn leg() -> LegRef {
    LegRef::new(
        "b9111e52e5d011e9aec7ac162d8cda20_00015D95DB072BFC_7022A1~2o",
        "133609",
        "10.133.51.137:5070",
    )
    .unwrap()
}

#[tokio::test]
async fn every_method_sends_the_documented_request() {
    let mock = Mock::start(|seen, _| match seen.path.as_str() {
        "/makeCall" => Reply::ok(r#"{"result":{"call":{"id":"x@1"},"success":1}}"#),
        "/externalNumbersInfo" => Reply::ok(r#"{"result":{"total":0,"numbersList":[]}}"#),
        "/workPlacesInfo" => Reply::ok(r#"{"result":{"total":0,"workplacesList":[]}}"#),
        "/terminalsInfo" => Reply::ok(r#"{"result":{"total":0,"terminals_list":[]}}"#),
        "/setParkingNumbers" => Reply::ok(r#"{"success":1}"#),
        _ => Reply::ok(r#"{"result":{"success":1}}"#),
    })
    .await;
    let client = mock.client(
        Some(fresh_tokens("the-access-token", "r")),
        HttpConfig::default(),
    );
    let pbx = &client.pbx;
    pbx.external_numbers().await.unwrap();
    pbx.workplaces().await.unwrap();
    pbx.terminals().await.unwrap();
    pbx.make_call(
        &SipId::parse("883140582526566").unwrap(),
        &Callee::parse("89219462761").unwrap(),
    )
    .await
    .unwrap();
    pbx.terminate_call(&leg()).await.unwrap();
    pbx.transfer_call(&leg(), &Callee::parse("883140582526566").unwrap())
        .await
        .unwrap();
    pbx.set_parking(&["880023213".into(), "880034344".into()], true)
        .await
        .unwrap();
    pbx.set_parking(&["880023213".into()], false).await.unwrap();

    let seen = mock.seen();
    let expected: Vec<(&str, &str, Option<serde_json::Value>)> = vec![
        ("GET", "/externalNumbersInfo", None),
        ("GET", "/workPlacesInfo", None),
        ("GET", "/terminalsInfo", None),
        (
            "POST",
            "/makeCall",
            Some(json!({"params":{"callerId":"883140582526566","calleeId":"89219462761"}})),
        ),
        (
            "POST",
            "/terminateCall",
            Some(json!({"params":{
            "call":{"id":"b9111e52e5d011e9aec7ac162d8cda20_00015D95DB072BFC_7022A1~2o","tag":"133609"},
            "transportId":"10.133.51.137:5070"}})),
        ),
        (
            "POST",
            "/transferCall",
            Some(json!({"params":{
            "call":{"id":"b9111e52e5d011e9aec7ac162d8cda20_00015D95DB072BFC_7022A1~2o","tag":"133609"},
            "calleeId":"883140582526566",
            "transportId":"10.133.51.137:5070"}})),
        ),
        (
            "POST",
            "/setParkingNumbers",
            Some(json!({"params":{"numbers":["880023213","880034344"],"isParking":true}})),
        ),
        (
            "POST",
            "/setParkingNumbers",
            Some(json!({"params":{"numbers":["880023213"],"isParking":false}})),
        ),
    ];
    assert_eq!(seen.len(), expected.len());
    for (req, (method, path, body)) in seen.iter().zip(expected) {
        assert_eq!(req.method, method, "{path}");
        assert_eq!(req.path, path);
        assert_eq!(req.query, None, "{path}");
        assert_eq!(
            req.header("authorization"),
            Some("Bearer the-access-token"),
            "{path}"
        );
        match body {
            Some(body) => {
                assert_eq!(
                    req.header("content-type"),
                    Some("application/json"),
                    "{path}"
                );
                assert_eq!(req.json(), body, "{path}");
            }
            None => assert!(req.body.is_empty(), "{path} has a body"),
        }
    }
    // The document's own example request is exactly what make_call sends.
    assert_eq!(
        seen[3].json(),
        serde_json::from_str::<serde_json::Value>(&crate::fixture("make_call_request.json"))
            .unwrap()
    );
    assert_eq!(
        seen[4].json(),
        serde_json::from_str::<serde_json::Value>(&crate::fixture("terminate_call_request.json"))
            .unwrap()
    );
    assert_eq!(
        seen[5].json(),
        serde_json::from_str::<serde_json::Value>(&crate::fixture("transfer_call_request.json"))
            .unwrap()
    );
    assert_eq!(
        seen[6].json(),
        serde_json::from_str::<serde_json::Value>(&crate::fixture("set_parking_request.json"))
            .unwrap()
    );
}

#[tokio::test]
async fn reads_retry_5xx_up_to_three_tries_and_succeed() {
    let mock = Mock::start(|_, i| {
        if i < 2 {
            Reply::with(503, "text/html", "<h1>busy</h1>")
        } else {
            Reply::ok(
                r#"{"result":{"total":1,"numbersList":[{"number":"78005560251","type":"main"}]}}"#,
            )
        }
    })
    .await;
    let client = mock.client(Some(fresh_tokens("a", "r")), quick());
    let numbers = client.pbx.external_numbers().await.unwrap();
    assert_eq!(numbers[0].kind.as_deref(), Some("main"));
    assert_eq!(mock.seen().len(), 3);
}

#[tokio::test]
async fn reads_give_up_after_three_tries_and_never_retry_4xx() {
    let mock = Mock::start(|seen, _| {
        if seen.path == "/workPlacesInfo" {
            Reply::with(500, "text/plain", "")
        } else {
            Reply::json(
                404,
                r#"{"error":{"code":"not_found","message":"no such method"}}"#,
            )
        }
    })
    .await;
    let client = mock.client(Some(fresh_tokens("a", "r")), quick());
    let err = client.pbx.workplaces().await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 500, .. }), "{err:?}");
    assert_eq!(mock.seen_at("/workPlacesInfo").len(), 3);
    let err = client.pbx.terminals().await.unwrap_err();
    assert!(
        matches!(&err, Error::Api { status: 404, code: Some(c), message: Some(m), .. } if c == "not_found" && m == "no such method"),
        "{err:?}"
    );
    assert_eq!(mock.seen_at("/terminalsInfo").len(), 1);
}

#[tokio::test]
async fn make_call_timing_out_is_not_retried() {
    let mock = Mock::start(|_, _| {
        Reply::ok(r#"{"result":{"call":{"id":"x"},"success":1}}"#).after(Duration::from_secs(2))
    })
    .await;
    let client = mock.client(Some(fresh_tokens("a", "r")), quick());
    let err = client
        .pbx
        .make_call(
            &SipId::parse("883140582526566").unwrap(),
            &Callee::parse("79219462761").unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                retryable: false,
                timeout: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code().as_str(), "timeout");
    assert!(!err.is_retryable());
    // Give a retry, were there one, time to arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        mock.seen().len(),
        1,
        "a timed-out makeCall must never be sent twice"
    );
}

#[tokio::test]
async fn actions_are_not_retried_after_5xx_either() {
    let mock = Mock::start(|_, _| Reply::with(502, "text/html", "<html>gateway</html>")).await;
    let client = mock.client(Some(fresh_tokens("a", "r")), quick());
    let err = client
        .pbx
        .transfer_call(&leg(), &Callee::parse("883140582526566").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 502, .. }), "{err:?}");
    assert_eq!(mock.seen().len(), 1);
}

#[tokio::test]
async fn html_empty_and_non_json_answers_are_typed_errors() {
    let mock = Mock::start(|seen, _| match seen.path.as_str() {
        "/makeCall" => Reply::with(200, "text/html", "<html>maintenance</html>"),
        "/terminateCall" => Reply::ok(""),
        "/transferCall" => Reply::ok(r#"{"result":{"success":0}}"#),
        "/setParkingNumbers" => Reply::json(400, r#"{"error":"numbers outside the account"}"#),
        _ => Reply::ok(r#"{"result":{"total":1}}"#),
    })
    .await;
    let client = mock.client(Some(fresh_tokens("a", "r")), quick());
    let pbx = &client.pbx;
    let err = pbx
        .make_call(
            &SipId::parse("883140582526566").unwrap(),
            &Callee::parse("79219462761").unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Undecodable { excerpt, .. } if excerpt.contains("maintenance")),
        "{err:?}"
    );
    let err = pbx.terminate_call(&leg()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Undecodable { detail, .. } if detail.contains("empty")),
        "{err:?}"
    );
    let err = pbx
        .transfer_call(&leg(), &Callee::parse("101").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 200, .. }), "{err:?}");
    let err = pbx
        .set_parking(&["74950000000".into()], true)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api { status: 400, code: Some(c), .. } if c == "numbers outside the account"),
        "{err:?}"
    );
    let err = pbx.external_numbers().await.unwrap_err();
    assert!(
        matches!(&err, Error::Undecodable { detail, .. } if detail.contains("numbersList")),
        "{err:?}"
    );
    assert!(err.to_string().contains("externalNumbersInfo"), "{err}");
}

#[tokio::test]
async fn invalid_input_is_refused_before_any_request() {
    let mock = Mock::start(|_, _| Reply::ok(r#"{"success":1}"#)).await;
    let client = mock.client(Some(fresh_tokens("a", "r")), quick());
    assert!(matches!(
        client.pbx.set_parking(&[], true).await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        client.pbx.set_parking(&["7495-123".into()], true).await,
        Err(Error::InvalidInput(_))
    ));
    assert!(Callee::parse("").is_err());
    assert!(
        Callee::parse("8 (921) 946-27-61").is_err(),
        "formatting is the dialer's to remove"
    );
    assert!(SipId::parse("workplace").is_err());
    assert!(mock.seen().is_empty());
}

#[tokio::test]
async fn without_tokens_every_call_says_sign_in_required() {
    let mock = Mock::start(|_, _| Reply::ok("{}")).await;
    let client = mock.client(None, quick());
    let err = client.pbx.workplaces().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired(_)), "{err:?}");
    assert_eq!(err.code().as_str(), "sign_in_required");
    assert!(mock.seen().is_empty());
}
