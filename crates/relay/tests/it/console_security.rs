//! The console's security: no API without a session (a seat credential is not one), the CSRF
//! token and the Origin check on every change, no session fixation, the cookie's flags, the
//! lock after 10 wrong passwords, signing out everywhere, supervisors kept from admin changes,
//! the headers of every answer, and body limits.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use team_api::Role;

use crate::console_support::{COOKIE, PASSWORD, Session, answer, console, console_with};
use crate::team_seat_api::joined_seat;

/// Every API route of the contract (method, path), the sign-in aside.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/admin/api/session"),
    ("DELETE", "/admin/api/session"),
    ("DELETE", "/admin/api/sessions"),
    ("GET", "/admin/api/integration"),
    ("POST", "/admin/api/integration/connect"),
    ("GET", "/admin/api/seats"),
    ("POST", "/admin/api/seats"),
    ("PUT", "/admin/api/seats/1"),
    ("POST", "/admin/api/seats/1/revoke"),
    ("POST", "/admin/api/seats/1/invite"),
    ("PUT", "/admin/api/seats/1/console-password"),
    ("GET", "/admin/api/wallboard"),
    ("GET", "/admin/api/wallboard/stream"),
    ("GET", "/admin/api/routing"),
    ("PUT", "/admin/api/routing"),
    ("GET", "/admin/api/routing/journal"),
    ("GET", "/admin/api/parking"),
    ("PUT", "/admin/api/parking"),
    ("GET", "/admin/api/tags"),
    ("PUT", "/admin/api/tags"),
    ("GET", "/admin/api/phonebook"),
    ("POST", "/admin/api/phonebook"),
    ("PUT", "/admin/api/phonebook/1"),
    ("DELETE", "/admin/api/phonebook/1"),
    ("POST", "/admin/api/phonebook/import?format=csv"),
    ("GET", "/admin/api/audit"),
    ("GET", "/admin/api/health"),
    // Not a route: still nothing without a session.
    ("GET", "/admin/api/no-such-thing"),
];

fn method(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap()
}

#[tokio::test]
async fn no_api_route_answers_without_a_session_and_a_seat_credential_is_not_one() {
    let console = console().await;
    let (_, credential) = joined_seat(&console.relay, "Анна", "883140582526570", Role::Admin).await;
    for (verb, path) in ROUTES {
        for (how, request) in [
            (
                "nothing",
                console.relay.http.request(method(verb), console.url(path)),
            ),
            (
                "a seat credential",
                console
                    .relay
                    .http
                    .request(method(verb), console.url(path))
                    .bearer_auth(&credential),
            ),
            (
                "a made-up cookie",
                console
                    .relay
                    .http
                    .request(method(verb), console.url(path))
                    .header(
                        "cookie",
                        format!("{COOKIE}=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                    ),
            ),
        ] {
            let answer = answer(request.json(&json!({})).send().await.unwrap()).await;
            assert_eq!(
                answer.status, 401,
                "{verb} {path} with {how}: {}",
                answer.json
            );
            assert_eq!(answer.json["code"], "unauthorized", "{verb} {path}");
        }
    }
}

#[tokio::test]
async fn every_change_needs_the_csrf_token_and_the_relays_own_origin() {
    let console = console().await;
    let session = console.admin_session().await;
    for (verb, path) in ROUTES {
        if *verb == "GET" || path.contains("no-such-thing") {
            continue;
        }
        for (how, token) in [("no token", None), ("a wrong token", Some("x".repeat(43)))] {
            let mut request = console
                .relay
                .http
                .request(method(verb), console.url(path))
                .header("cookie", format!("{COOKIE}={}", session.cookie))
                .json(&json!({}));
            if let Some(token) = token {
                request = request.header("x-csrf-token", token);
            }
            let answer = answer(request.send().await.unwrap()).await;
            assert_eq!(
                (answer.status, answer.json["code"].as_str()),
                (403, Some("csrf")),
                "{verb} {path} with {how}: {}",
                answer.json
            );
        }
        let foreign = answer(
            console
                .relay
                .http
                .request(method(verb), console.url(path))
                .header("cookie", format!("{COOKIE}={}", session.cookie))
                .header("x-csrf-token", &session.csrf)
                .header("origin", "https://evil.example")
                .json(&json!({}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(foreign.status, 403, "{verb} {path} from another origin");
    }
    // The session still works: nothing above changed anything.
    let me = console.get("/admin/api/session", &session).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json["role"], "admin");
    // A foreign origin cannot sign in either.
    let cross = answer(
        console
            .relay
            .http
            .post(console.url("/admin/api/session"))
            .header("origin", "https://evil.example")
            .json(&json!({ "login": "Ольга", "password": PASSWORD }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cross.status, 403);
    assert!(cross.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn sign_in_sets_a_new_session_with_exact_cookie_flags_and_never_adopts_one() {
    let console = console().await;
    let chosen = "attacker-chosen-session-id-aaaaaaaaaaaaaaaaaa";
    let answer = answer(
        console
            .relay
            .http
            .post(console.url("/admin/api/session"))
            .header("cookie", format!("{COOKIE}={chosen}"))
            .json(&json!({ "login": "Ольга", "password": PASSWORD }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let set_cookie = answer.headers["set-cookie"].to_str().unwrap().to_owned();
    let (pair, flags) = set_cookie.split_once("; ").unwrap();
    assert_eq!(flags, "HttpOnly; Secure; SameSite=Strict; Path=/");
    let value = pair.strip_prefix(&format!("{COOKIE}=")).unwrap();
    assert_ne!(value, chosen);
    // 256 random bits, base64url without padding.
    assert_eq!(value.len(), 43, "{value}");
    assert!(
        value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert_eq!(answer.json["seat"], console.admin);
    assert_eq!(answer.json["name"], "Ольга");
    assert_eq!(answer.json["role"], "admin");
    assert!(answer.json["expiresAt"].is_string());
    // The chosen id opens nothing; a second sign-in gets yet another id.
    let fixed = Session {
        cookie: chosen.into(),
        csrf: answer.json["csrfToken"].as_str().unwrap().into(),
    };
    assert_eq!(console.get("/admin/api/session", &fixed).await.status, 401);
    let again = console.admin_session().await;
    assert_ne!(again.cookie, value);
    // The store keeps no session id in clear.
    let database = std::fs::read(&console.relay.handle.state().config.database).unwrap();
    let wal = std::fs::read(format!(
        "{}-wal",
        console.relay.handle.state().config.database.display()
    ))
    .unwrap_or_default();
    for bytes in [database, wal] {
        assert!(
            !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
            "a session id is stored in clear"
        );
    }
}

#[tokio::test]
async fn wrong_passwords_get_one_message_and_ten_in_a_row_lock_the_account() {
    let console = console().await;
    let unknown = console.sign_in_as("Никто", PASSWORD).await;
    let wrong = console.sign_in_as("Ольга", "not the password").await;
    assert_eq!((unknown.status, wrong.status), (401, 401));
    assert_eq!(unknown.json["message"], wrong.json["message"]);
    assert_eq!(unknown.json["message"], "the name or password is wrong");
    for _ in 0..8 {
        let answer = console.sign_in_as("Ольга", "still not the password").await;
        assert_eq!(answer.status, 401);
    }
    let tenth = console.sign_in_as("Ольга", "the tenth wrong one").await;
    assert_eq!(
        (tenth.status, tenth.json["code"].as_str()),
        (429, Some("locked"))
    );
    let right = console.sign_in_as("Ольга", PASSWORD).await;
    assert_eq!(
        (right.status, right.json["code"].as_str()),
        (429, Some("locked"))
    );
    let retry: u64 = right.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((800..=900).contains(&retry), "{retry}");
    assert!(right.headers.get("set-cookie").is_none());
    // By number too, and the other account is not locked.
    assert_eq!(
        console
            .sign_in_as(&console.admin.to_string(), PASSWORD)
            .await
            .status,
        429
    );
    assert_eq!(console.sign_in_as("Пётр", PASSWORD).await.status, 200);
    let audit = console
        .get(
            "/admin/api/audit?action=console.lockout",
            &console.session("Пётр").await,
        )
        .await;
    assert_eq!(
        audit.json["entries"].as_array().unwrap().len(),
        1,
        "{}",
        audit.json
    );
}

#[tokio::test]
async fn a_lock_ends_after_its_time() {
    let console = console_with(|config| config.console.lock_for = Duration::from_secs(1)).await;
    for _ in 0..10 {
        console.sign_in_as("Ольга", "wrong wrong wrong").await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = console.sign_in_as("Ольга", PASSWORD).await;
        if answer.status == 200 {
            break;
        }
        assert_eq!(answer.json["code"], "locked");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the lock never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn sign_in_attempts_from_everywhere_are_rate_limited() {
    let console = console_with(|config| config.console.sign_ins_per_minute = 3).await;
    for _ in 0..3 {
        assert_eq!(
            console.sign_in_as("Никто", "whatever it is").await.status,
            401
        );
    }
    let limited = console.sign_in_as("Ольга", PASSWORD).await;
    assert_eq!(
        (limited.status, limited.json["code"].as_str()),
        (429, Some("rate_limited"))
    );
    assert!(limited.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn sign_out_ends_this_session_and_sign_out_everywhere_ends_them_all() {
    let console = console().await;
    let (a, b, c) = (
        console.admin_session().await,
        console.admin_session().await,
        console.admin_session().await,
    );
    let supervisor = console.session("Пётр").await;
    let out = console
        .send(Method::DELETE, "/admin/api/session", Some(&a), None)
        .await;
    assert_eq!(out.status, 204);
    let cleared = out.headers["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with(&format!("{COOKIE}=;")) && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_eq!(console.get("/admin/api/session", &a).await.status, 401);
    assert_eq!(console.get("/admin/api/session", &b).await.status, 200);
    let everywhere = console
        .send(Method::DELETE, "/admin/api/sessions", Some(&b), None)
        .await;
    assert_eq!(everywhere.status, 204);
    for session in [&b, &c] {
        assert_eq!(console.get("/admin/api/session", session).await.status, 401);
    }
    // Another account's session is not touched.
    assert_eq!(
        console.get("/admin/api/session", &supervisor).await.status,
        200
    );
}

#[tokio::test]
async fn a_supervisor_reads_the_wallboard_seats_and_audit_and_changes_nothing() {
    let console = console().await;
    let supervisor = console.session("Пётр").await;
    for path in [
        "/admin/api/wallboard",
        "/admin/api/seats",
        "/admin/api/audit",
        "/admin/api/session",
    ] {
        let answer = console.get(path, &supervisor).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.json);
    }
    let seat = format!("/admin/api/seats/{}", console.admin);
    let changes = [
        ("GET", "/admin/api/integration".to_owned(), json!(null)),
        ("GET", "/admin/api/health".to_owned(), json!(null)),
        ("GET", "/admin/api/routing".to_owned(), json!(null)),
        ("GET", "/admin/api/tags".to_owned(), json!(null)),
        ("GET", "/admin/api/parking".to_owned(), json!(null)),
        (
            "PUT",
            "/admin/api/parking".to_owned(),
            json!({ "number": "74951234567", "parked": true }),
        ),
        ("GET", "/admin/api/phonebook".to_owned(), json!(null)),
        (
            "POST",
            "/admin/api/integration/connect".to_owned(),
            json!({ "clientId": "id", "clientSecret": "secret" }),
        ),
        (
            "POST",
            "/admin/api/seats".to_owned(),
            json!({ "name": "Вера", "workplace": "883140582526599", "role": "admin" }),
        ),
        (
            "PUT",
            seat.clone(),
            json!({ "name": "Ольга", "workplace": "883140582526566", "role": "operator" }),
        ),
        (
            "POST",
            format!("{seat}/revoke"),
            json!({ "deleteLocalData": false }),
        ),
        ("POST", format!("{seat}/invite"), json!(null)),
        (
            "PUT",
            format!("/admin/api/seats/{}/console-password", console.supervisor),
            json!({ "password": "a brand new password" }),
        ),
        (
            "PUT",
            "/admin/api/tags".to_owned(),
            json!({ "tags": ["sale"], "required": false }),
        ),
        (
            "POST",
            "/admin/api/phonebook".to_owned(),
            json!({ "name": "ООО Ромашка", "numbers": ["+74951234567"] }),
        ),
    ];
    for (verb, path, body) in changes {
        let body = (!body.is_null()).then_some(body);
        let answer = console
            .send(method(verb), &path, Some(&supervisor), body)
            .await;
        assert_eq!(
            (answer.status, answer.json["code"].as_str()),
            (403, Some("forbidden")),
            "{verb} {path}: {}",
            answer.json
        );
    }
    let seats = console.get("/admin/api/seats", &supervisor).await;
    let admin = seats.json["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == console.admin)
        .unwrap()
        .clone();
    assert_eq!(admin["role"], "admin");
    assert!(admin["revokedAt"].is_null());
}

#[tokio::test]
async fn every_admin_answer_carries_the_security_headers() {
    let console = console().await;
    let session = console.admin_session().await;
    let page = answer(
        console
            .relay
            .http
            .get(console.url("/admin/seats"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let api = console.get("/admin/api/seats", &session).await;
    let refused = answer(
        console
            .relay
            .http
            .get(console.url("/admin/api/seats"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((page.status, api.status, refused.status), (200, 200, 401));
    for (what, headers) in [
        ("page", &page.headers),
        ("api", &api.headers),
        ("401", &refused.headers),
    ] {
        assert_eq!(
            headers["content-security-policy"],
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            "{what}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
    }
    assert_eq!(api.headers["cache-control"], "no-store");
    assert_eq!(refused.headers["cache-control"], "no-store");
}
