//! The OAuth hand-off: landing, long poll, single use, expiry, errors.

use std::time::Duration;

use crate::util::{self, TestRelay};

async fn land(relay: &TestRelay, query: &str) -> reqwest::Response {
    relay
        .http
        .get(format!("{}/{}?{query}", relay.base, relay.hook))
        .send()
        .await
        .unwrap()
}

async fn fetch(relay: &TestRelay, state: &str) -> reqwest::Response {
    relay
        .http
        .get(format!("{}/oauth/code/{state}", relay.base))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_right_state_gets_the_code_once() {
    let relay =
        util::start_with(|config| config.app_link = Some("trubka://signed-in".into())).await;
    let page = land(&relay, "code=Yzk5ZDczMzRINDEwY&state=xyz").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("Вход выполнен — вернитесь в приложение"));
    assert!(html.contains("Signed in — return to the app"));
    assert!(html.contains("href=\"trubka://signed-in\""));
    assert!(
        !html.contains("Yzk5ZDczMzRINDEwY"),
        "the page must not echo the code"
    );

    let first = fetch(&relay, "xyz").await;
    assert_eq!(first.status(), 200);
    let body: serde_json::Value = first.json().await.unwrap();
    assert_eq!(body["code"], "Yzk5ZDczMzRINDEwY");
    // Handed out once: a second fetch is told it is gone, for good.
    assert_eq!(fetch(&relay, "xyz").await.status(), 410);
    assert_eq!(fetch(&relay, "wrong").await.status(), 404);
}

#[tokio::test]
async fn a_fetch_waiting_before_the_landing_gets_the_code() {
    let relay = util::start_with(|config| config.oauth_poll_timeout = Duration::from_secs(5)).await;
    let waiting = fetch(&relay, "early");
    let landing = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        land(&relay, "code=c0de&state=early").await
    };
    let (fetched, page) = tokio::join!(waiting, landing);
    assert_eq!(page.status(), 200);
    assert_eq!(fetched.status(), 200);
    assert_eq!(
        fetched.json::<serde_json::Value>().await.unwrap()["code"],
        "c0de"
    );
}

#[tokio::test]
async fn an_expired_code_is_410_gone() {
    let relay = util::start_with(|config| config.oauth_code_ttl = Duration::from_millis(50)).await;
    assert_eq!(land(&relay, "code=c&state=late").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fetch(&relay, "late").await.status(), 410);
}

#[tokio::test]
async fn a_refusal_is_shown_escaped_and_handed_to_the_app() {
    let relay = util::start().await;
    let page = land(
        &relay,
        "error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=s",
    )
    .await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Вход не выполнен"));
    assert!(html.contains("Sign-in failed"));
    assert!(html.contains("access_denied"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>"));
    let fetched: serde_json::Value = fetch(&relay, "s").await.json().await.unwrap();
    assert_eq!(fetched["error"], "access_denied");
    assert_eq!(fetched["errorDescription"], "<script>alert(1)</script>");
    assert!(fetched.get("code").is_none());
}

#[tokio::test]
async fn landings_without_state_or_on_a_wrong_hook_are_refused() {
    let relay = util::start().await;
    assert_eq!(land(&relay, "code=c").await.status(), 400);
    assert_eq!(land(&relay, "state=s").await.status(), 400);
    let wrong = relay
        .http
        .get(format!(
            "{}/{}?code=c&state=s",
            relay.base,
            relay::HookPath::generate().expose_secret()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    assert_eq!(fetch(&relay, "s").await.status(), 404);
    // A second landing for the same state does not replace the first code.
    assert_eq!(land(&relay, "code=first&state=t").await.status(), 200);
    assert_eq!(land(&relay, "code=second&state=t").await.status(), 409);
    let fetched: serde_json::Value = fetch(&relay, "t").await.json().await.unwrap();
    assert_eq!(fetched["code"], "first");
}

async fn answer(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_taken_or_expired_state_is_gone_for_good_and_an_unknown_one_is_not_yet() {
    let relay = util::start_with(|config| config.oauth_code_ttl = Duration::from_millis(300)).await;
    assert_eq!(land(&relay, "code=c1&state=taken").await.status(), 200);
    assert_eq!(fetch(&relay, "taken").await.status(), 200);
    // Taken: 410, final — however often it is asked, and after the code's time to live too.
    for _ in 0..3 {
        let (status, body) = answer(fetch(&relay, "taken").await).await;
        assert_eq!((status, body["reason"].as_str()), (410, Some("taken")));
    }

    assert_eq!(land(&relay, "code=c2&state=late").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Another landing, which clears out codes past their time, must not make it forgotten.
    assert_eq!(land(&relay, "code=c3&state=other").await.status(), 200);
    let (status, body) = answer(fetch(&relay, "late").await).await;
    assert_eq!((status, body["reason"].as_str()), (410, Some("expired")));
    let (status, body) = answer(fetch(&relay, "taken").await).await;
    assert_eq!((status, body["reason"].as_str()), (410, Some("taken")));

    // Nothing landed for this state while the poll waited: 404, ask again.
    let (status, body) = answer(fetch(&relay, "never").await).await;
    assert_eq!((status, body["reason"].as_str()), (404, Some("pending")));
}
