//! The document's curl examples, run as given with only the host changed (and `-sS -w` added
//! to read the status), against a simulator whose account holds the examples' data.

use mtt_sim::{Secret, Sim, SimConfig};
use serde_json::{Value, json};

async fn run_curl(command: &str) -> (u16, String) {
    let full = format!("{command} -sS -w '\\n%{{http_code}}'");
    // curl runs on the blocking pool so the simulator keeps serving on this runtime.
    let command_line = full.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(&command_line)
            .output()
    })
    .await
    .unwrap()
    .expect("curl runs");
    assert!(
        output.status.success(),
        "{full}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.trim().parse().unwrap(), body.to_owned())
}

fn examples_config() -> SimConfig {
    let mut config = SimConfig::default();
    config.client.client_id = "23c9ddf7-caec-8caa-88e6-b8f758ce0186".to_owned();
    config.client.client_secret = Secret::new("LMZkfataV6EZFergkB36im");
    config.client.redirect_uris = vec!["https://oauth.myanycrm.ru".to_owned()];
    config.timings.operator_answer_ms = None;
    config
}

async fn control(sim: &mtt_sim::SimHandle, path: &str, body: Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", sim.control_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "{path}: {}",
        r.text().await.unwrap()
    );
}

#[tokio::test]
async fn the_documents_curl_examples_succeed_as_given() {
    let sim = Sim::start(examples_config()).await.unwrap();
    let oauth = sim.oauth_url();
    let api = sim.api_url();

    let authorize = "curl --location --request GET 'https://oauth.mtt.ru/oauth/authorize?response_type=code&client_id=23c9ddf7-caec-8caa-88e6-b8f758ce0186&redirect_uri=https://oauth.myanycrm.ru&scope=https://mtt.ru/auth.tokens.readwrite'";
    let (status, body) = run_curl(&authorize.replace("https://oauth.mtt.ru", oauth)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("name=\"password\""),
        "the login form is shown: {body}"
    );

    // The example's code, as if the login above had issued it.
    control(
        &sim,
        "/codes",
        json!({"code": "NMI1NGVIMDCNTNTHKOS0ZYTMYLWFKODMTZMRHMG5YWU0MDBL", "redirect_uri": "https://oauth.myanycrm.ru"}),
    )
    .await;
    let token = r#"curl --location --request POST 'https://oauth.mtt.ru/oauth/token' \
--header 'Content-Type: application/x-www-form-urlencoded' \
--data-urlencode 'client_id=23c9ddf7-caec-8caa-88e6-b8f758ce0186' \
--data-urlencode 'client_secret=LMZkfataV6EZFergkB36im' \
--data-urlencode 'code=NMI1NGVIMDCNTNTHKOS0ZYTMYLWFKODMTZMRHMG5YWU0MDBL' \
--data-urlencode 'redirect_uri=https://oauth.myanycrm.ru' \
--data-urlencode 'scope=https://mtt.ru/auth.tokens.readwrite' \
--data-urlencode 'grant_type=authorization_code'"#;
    let (status, body) = run_curl(&token.replace("https://oauth.mtt.ru", oauth)).await;
    assert_eq!(status, 200, "{body}");
    let tokens: Value = serde_json::from_str(&body).unwrap();
    let mut keys: Vec<&String> = tokens.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(tokens["expires_in"], 7200);
    assert_eq!(tokens["token_type"], "Bearer");

    // The two API examples carry two different made-up tokens; both are issued.
    for t in [
        "MMRLZJU5NTETMTNHZI0ZNZIYLVJHOTGTNJY1M2ZMM2YZNMYX",
        "MMRLZJU5NTETMTNHZI0ZNZIYLWJHOTGTNJY1M2ZMM2YZNMYX",
    ] {
        control(&sim, "/tokens", json!({"access_token": t})).await;
    }
    let workplaces = r#"curl --location --request GET 'https://openapi.mtt.ru/workplacesInfo' \
--header 'Authorization: Bearer MMRLZJU5NTETMTNHZI0ZNZIYLVJHOTGTNJY1M2ZMM2YZNMYX'"#;
    let (status, body) = run_curl(&workplaces.replace("https://openapi.mtt.ru", api)).await;
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["result"]["total"], 6);
    assert_eq!(
        list["result"]["workplacesList"][1],
        json!({"workplace": "883140777716581", "name": ""})
    );

    // The makeCall example's callerId (14 digits) as a workplace of this account.
    control(
        &sim,
        "/workplaces",
        json!({"workplace": "88314077777777", "name": "", "terminals": []}),
    )
    .await;
    let make_call = r#"curl --location --request POST 'https://openapi.mtt.ru/makeCall' \
--header 'Authorization: Bearer MMRLZJU5NTETMTNHZI0ZNZIYLWJHOTGTNJY1M2ZMM2YZNMYX' \
--header 'Content-Type: application/json' \
--data-raw '{
"params":
{ "callerId": "88314077777777", "calleeId": "89999999999" }
}'"#;
    let (status, body) = run_curl(&make_call.replace("https://openapi.mtt.ru", api)).await;
    assert_eq!(status, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["result"]["success"], 1);
    assert!(answer["result"]["call"]["id"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn the_documents_request_examples_are_understood() {
    let sim = Sim::start(examples_config()).await.unwrap();
    control(&sim, "/tokens", json!({"access_token": "T"})).await;
    for n in ["880023213", "880034344"] {
        control(&sim, "/numbers", json!({"number": n})).await;
    }
    let http = reqwest::Client::new();
    let post = |method: &str, body: &str| {
        http.post(format!("{}/{method}", sim.api_url()))
            .bearer_auth("T")
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
    };
    let r = post(
        "setParkingNumbers",
        r#"{ "params": { "numbers": ["880023213", "880034344"], "isParking": true } }"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), r#"{"success":1}"#);
    let r = post(
        "makeCall",
        r#"{
  "params": {
    "calleeId": "89219462761",
    "callerId": "883140582526566"
  }
}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    // The terminate and transfer examples name a leg this simulator never had: they parse,
    // and are refused as unknown rather than as malformed.
    let terminate = r#"{
  "params": {
    "call": {
      "id": "b9111e52e5d011e9aec7ac162d8cda20_00015D95DB072BFC_7022A1~2o",
      "tag": "133609"
    },
    "transportId": "10.133.51.137:5070"
  }
}"#;
    let transfer = r#"{ "params": { "call": { "id": "b9111e52e5d011e9aec7ac162d8cda20_00015D95DB072BFC_7022A1~2o", "tag": "133609" }, "calleeId": "883140582526566", "transportId": "10.133.51.137:5070" } }"#;
    for (method, body) in [("terminateCall", terminate), ("transferCall", transfer)] {
        let r = post(method, body).await.unwrap();
        assert_eq!(r.status(), 404, "{method}");
        let error: Value = r.json().await.unwrap();
        assert_eq!(error["error"]["code"], "unknown_leg");
    }
    sim.shutdown().await;
}
