//! Each kind of bad Open API request gets a JSON error with a 4xx status.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::*;

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_missing_unknown_or_expired_token_gets_401() {
    let h = Harness::start().await;
    let url = format!("{}/externalNumbersInfo", h.sim.api_url());
    let r = h.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    assert_eq!(code(&r.json().await.unwrap()), "missing_token");

    let r = h.http.get(&url).bearer_auth("NOPE").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(code(&r.json().await.unwrap()), "invalid_token");

    let r = h
        .http
        .get(&url)
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let short = h.control_post("/tokens", json!({"lifetime_ms": 1})).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let r = h.http.get(&url).bearer_auth(&short).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(code(&r.json().await.unwrap()), "token_expired");

    let r = h.http.get(&url).bearer_auth(&h.token).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn make_call_refuses_terminals_unknown_workplaces_and_malformed_bodies() {
    let h = Harness::start().await;
    let (status, body) = h
        .api_post(
            "makeCall",
            json!({"params": {"callerId": "883140582526567", "calleeId": "79219462761"}}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(code(&body), "not_a_workplace");
    assert!(body["error"]["message"].as_str().unwrap().contains(ANNA));

    let (status, body) = h
        .api_post(
            "makeCall",
            json!({"params": {"callerId": "883149999999999", "calleeId": "79219462761"}}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(code(&body), "unknown_workplace");

    let (status, body) = h
        .api_post(
            "makeCall",
            json!({"params": {"callerId": ANNA, "calleeId": "call me"}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "invalid_number");

    let (status, body) = h
        .api_post("makeCall", json!({"callerId": ANNA, "calleeId": "7"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "missing_params");

    let (status, body) = h
        .api_post("makeCall", json!({"params": {"callerId": ANNA}}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "invalid_params");

    let r = h
        .http
        .post(format!("{}/makeCall", h.sim.api_url()))
        .bearer_auth(&h.token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(code(&r.json().await.unwrap()), "invalid_json");
    // None of this started a call.
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert!(h.hooks.all().is_empty());
}

#[tokio::test]
async fn unknown_legs_tags_and_transports_are_refused() {
    let h = Harness::start().await;
    let call = h.incoming(CALLER, MAIN_NUMBER, json!({})).await;
    let main = call["leg_id"].as_str().unwrap().to_owned();
    let ns = h.hooks.wait_for_state(&main, "showing").await;
    let (call_ref, transport) = Harness::leg_ref(&ns[0]);

    let (status, body) = h
        .api_post("terminateCall", json!({"params": {"call": {"id": "nope", "tag": call_ref["tag"]}, "transportId": transport}}))
        .await;
    assert_eq!((status.as_u16(), code(&body)), (404, "unknown_leg"));
    let (status, body) = h
        .api_post(
            "terminateCall",
            json!({"params": {"call": {"id": main, "tag": "0"}, "transportId": transport}}),
        )
        .await;
    assert_eq!((status.as_u16(), code(&body)), (404, "unknown_tag"));
    let (status, body) = h
        .api_post("transferCall", json!({"params": {"call": call_ref, "calleeId": PETROV, "transportId": "10.0.0.1:5060"}}))
        .await;
    assert_eq!((status.as_u16(), code(&body)), (404, "unknown_transport"));
    let (status, body) = h
        .api_post(
            "transferCall",
            json!({"params": {"call": call_ref, "calleeId": "nobody", "transportId": transport}}),
        )
        .await;
    assert_eq!((status.as_u16(), code(&body)), (400, "invalid_number"));
    // The document's own example leg is not a call of this simulator.
    let (status, _) = h
        .api_post("terminateCall", json!({"params": {"call": {"id": "b9111e52e5d011e9aec7ac162d8cda20_00015D95DB072BFC_7022A1~2o", "tag": "133609"}, "transportId": "10.133.51.137:5070"}}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn transfer_before_the_operator_answers_is_a_conflict() {
    let h = Harness::start().await;
    h.api_post(
        "makeCall",
        json!({"params": {"callerId": ANNA, "calleeId": "79219462761"}}),
    )
    .await;
    let first = h.hooks.wait_until("trying", |b| !b.is_empty()).await;
    let (call_ref, transport) = Harness::leg_ref(&first[0]);
    let (status, body) = h
        .api_post(
            "transferCall",
            json!({"params": {"call": call_ref, "calleeId": PETROV, "transportId": transport}}),
        )
        .await;
    assert_eq!((status.as_u16(), code(&body)), (409, "wrong_state"));
}

#[tokio::test]
async fn parking_numbers_outside_the_account_is_refused() {
    let h = Harness::start().await;
    let (status, body) = h
        .api_post(
            "setParkingNumbers",
            json!({"params": {"numbers": ["880023213", MAIN_NUMBER], "isParking": true}}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(code(&body), "unknown_number");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("880023213")
    );
    // Nothing was parked, not even the valid number.
    let state = h.control(reqwest::Method::GET, "/state", None).await.1;
    assert_eq!(state["account"]["parked"], json!([]));
    let (status, _) = h
        .api_post(
            "setParkingNumbers",
            json!({"params": {"numbers": [], "isParking": true}}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = h
        .api_post(
            "setParkingNumbers",
            json!({"params": {"numbers": [MAIN_NUMBER], "isParking": "yes"}}),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn injected_failures_and_latency_reach_the_client() {
    let h = Harness::start().await;
    let (status, _) = h
        .control(
            reqwest::Method::PUT,
            "/faults",
            Some(json!({"workPlacesInfo": {"failure_rate": 1.0, "failure_status": 502}, "terminalsInfo": {"latency_ms": 300}})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = h.api_get("workPlacesInfo").await;
    assert_eq!(status, 502);
    assert_eq!(code(&body), "injected_failure");
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = quick
        .get(format!("{}/terminalsInfo", h.sim.api_url()))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    h.control(
        reqwest::Method::PUT,
        "/faults",
        Some(json!({"workPlacesInfo": null})),
    )
    .await;
    assert_eq!(h.api_get("workPlacesInfo").await.0, 200);
    let (status, _) = h
        .control(
            reqwest::Method::PUT,
            "/faults",
            Some(json!({"makeCall": {"failure_rate": 2.0}})),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn control_requests_naming_nothing_are_refused() {
    let h = Harness::start().await;
    let (status, body) = h
        .control(
            reqwest::Method::POST,
            "/incoming",
            Some(json!({"from": CALLER, "to": "70000000000"})),
        )
        .await;
    assert_eq!((status.as_u16(), code(&body)), (422, "unknown_number"));
    let (status, body) = h
        .control(
            reqwest::Method::POST,
            "/incoming",
            Some(json!({"from": CALLER, "to": MAIN_NUMBER, "answer_after": 5})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("answer_after")
    );
    let (status, body) = h
        .control(
            reqwest::Method::POST,
            "/answer",
            Some(json!({"call": "42"})),
        )
        .await;
    assert_eq!((status.as_u16(), code(&body)), (404, "unknown_call"));
    let (status, _) = h
        .control(
            reqwest::Method::PUT,
            "/timings",
            Some(json!({"parking_window": 1})),
        )
        .await;
    assert_eq!(status, 400);
    let call = h.incoming(CALLER, MAIN_NUMBER, json!({})).await;
    let (status, body) = h
        .control(
            reqwest::Method::POST,
            "/answer",
            Some(json!({"call": call["leg_id"], "by": RECEPTION})),
        )
        .await;
    assert_eq!((status.as_u16(), code(&body)), (409, "wrong_state"));
    h.control_post("/answer", json!({"call": call["leg_id"], "by": ANNA}))
        .await;
    let (status, body) = h
        .control(
            reqwest::Method::POST,
            "/hangup",
            Some(json!({"call": call["leg_id"], "by": RECEPTION})),
        )
        .await;
    assert_eq!((status.as_u16(), code(&body)), (409, "wrong_state"));
    let (status, _) = h
        .control(
            reqwest::Method::POST,
            "/hangup",
            Some(json!({"call": call["leg_id"], "by": ANNA})),
        )
        .await;
    assert_eq!(status, 200);
}
