//! The console's functions over HTTP: seats (add, edit, invite that a seat joins with,
//! revoke), the integration against the simulator, the wallboard and its stream with a call
//! that lives and ends, and the server-side checks of every field.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::console_support::{Console, Session, answer, console, console_on};

const WAIT: Duration = Duration::from_secs(20);
const VERA: &str = "883140582526580";

async fn add_vera(console: &Console, session: &Session) -> Value {
    let added = console
        .send(
            Method::POST,
            "/admin/api/seats",
            Some(session),
            Some(json!({ "name": "Вера", "workplace": VERA, "role": "operator" })),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.json);
    added.json
}

async fn join(console: &Console, code: &str) -> (u16, Value) {
    let response = console
        .relay
        .http
        .post(console.url("/team/join"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn seat_in(list: &Value, id: i64) -> Value {
    list["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|seat| seat["id"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn an_admin_adds_a_seat_whose_invite_joins_then_edits_and_revokes_it() {
    let console = console().await;
    let admin = console.admin_session().await;
    let added = add_vera(&console, &admin).await;
    let seat = &added["seat"];
    let id = seat["id"].as_i64().unwrap();
    assert_eq!(seat["name"], "Вера");
    assert_eq!(seat["role"], "operator");
    assert_eq!(seat["consoleAccess"], false);
    assert!(seat["joinedAt"].is_null() && seat["inviteExpiresAt"].is_string());
    let invite = &added["invite"];
    let link = invite["link"].as_str().unwrap();
    assert!(link.starts_with("trubka://join?"), "{link}");
    let parsed = team_api::JoinLink::parse(link).unwrap();
    assert_eq!(parsed.code, invite["code"].as_str().unwrap());
    assert_eq!(parsed.server, console.relay.base);
    // A newer invite replaces it; the newer one joins.
    let newer = console
        .send(
            Method::POST,
            &format!("/admin/api/seats/{id}/invite"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(newer.status, 200, "{}", newer.json);
    assert_eq!(
        join(&console, invite["code"].as_str().unwrap()).await.0,
        410
    );
    let (status, joined) = join(&console, newer.json["invite"]["code"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{joined}");
    assert_eq!(joined["seat"]["id"], id);
    let credential = joined["credential"].as_str().unwrap().to_owned();
    // App version and last seen, from the stream's User-Agent.
    let stream = console
        .relay
        .http
        .get(console.url("/events/stream"))
        .bearer_auth(&credential)
        .header("user-agent", "Trubka/1.2.3")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut shown = Value::Null;
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        shown = seat_in(&console.get("/admin/api/seats", &admin).await.json, id);
        if shown["appVersion"] == "1.2.3" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(shown["appVersion"], "1.2.3", "{shown}");
    assert!(
        shown["joinedAt"].is_string() && shown["lastSeenAt"].is_string(),
        "{shown}"
    );
    assert_eq!(shown["availability"], "available");
    drop(stream);

    let edited = console
        .send(
            Method::PUT,
            &format!("/admin/api/seats/{id}"),
            Some(&admin),
            Some(json!({ "name": "Вера Иванова", "workplace": VERA, "role": "supervisor" })),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.json);
    assert_eq!(edited.json["seat"]["name"], "Вера Иванова");
    assert_eq!(edited.json["seat"]["role"], "supervisor");
    // A supervisor may be given a console password; then she signs in.
    let set = console
        .send(
            Method::PUT,
            &format!("/admin/api/seats/{id}/console-password"),
            Some(&admin),
            Some(json!({ "password": "twelve chars!" })),
        )
        .await;
    assert_eq!(set.status, 204, "{}", set.json);
    let vera = console.sign_in_as("Вера Иванова", "twelve chars!").await;
    assert_eq!(vera.status, 200, "{}", vera.json);
    assert_eq!(vera.json["role"], "supervisor");
    let vera = crate::console_support::session_of(&vera);

    let revoked = console
        .send(
            Method::POST,
            &format!("/admin/api/seats/{id}/revoke"),
            Some(&admin),
            Some(json!({ "deleteLocalData": true })),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.json);
    assert!(revoked.json["seat"]["revokedAt"].is_string());
    // Her seat credential and her console session are over.
    let me = console
        .relay
        .http
        .get(console.url("/team/me"))
        .bearer_auth(&credential)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
    assert_eq!(console.get("/admin/api/session", &vera).await.status, 401);
    let list = console.get("/admin/api/seats", &admin).await.json;
    assert_eq!(
        list["seats"].as_array().unwrap().last().unwrap()["id"],
        id,
        "revoked last"
    );
    // The audit log has all of it.
    let audit = console.get("/admin/api/audit?limit=100", &admin).await.json;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    for action in [
        "console.sign_in",
        "seat.add",
        "seat.invite",
        "seat.edit",
        "console.password",
        "seat.revoke",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
    let filtered = console
        .get("/admin/api/audit?action=seat&limit=2", &admin)
        .await
        .json;
    assert_eq!(filtered["entries"].as_array().unwrap().len(), 2);
    assert_eq!(filtered["more"], true);
    assert_eq!(
        filtered["entries"][0]["action"], "seat.revoke",
        "newest first"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_integration_connects_through_the_console_and_never_shows_its_secrets() {
    let team = crate::team_integration::team_configured(true, true).await;
    let console = console_on(team.relay).await;
    let admin = console.admin_session().await;
    let before = console.get("/admin/api/integration", &admin).await;
    assert_eq!(before.status, 200, "{}", before.json);
    assert_eq!(before.json["status"]["integration"], "not_connected");
    assert!(before.json["clientId"].is_null());
    let empty = console
        .send(
            Method::POST,
            "/admin/api/integration/connect",
            Some(&admin),
            Some(json!({ "clientId": " ", "clientSecret": team.client_secret })),
        )
        .await;
    assert_eq!(
        (empty.status, empty.json["field"].as_str()),
        (400, Some("clientId"))
    );
    let connect = console
        .send(
            Method::POST,
            "/admin/api/integration/connect",
            Some(&admin),
            Some(json!({
                "clientId": "ccb350cc-6218-40b0-b134-3d290f00b9e7",
                "clientSecret": team.client_secret,
            })),
        )
        .await;
    assert_eq!(connect.status, 200, "{}", connect.json);
    let url = connect.json["authorizeUrl"].as_str().unwrap();
    assert!(url.starts_with(team.sim.oauth_url()), "{url}");
    let landing = reqwest::get(url).await.unwrap();
    assert_eq!(landing.status(), 200);
    let deadline = tokio::time::Instant::now() + WAIT;
    let shown = loop {
        let shown = console.get("/admin/api/integration", &admin).await;
        if shown.json["status"]["integration"] == "connected" {
            break shown;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never connected: {}",
            shown.json
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        shown.json["clientId"],
        "ccb350cc-6218-40b0-b134-3d290f00b9e7"
    );
    assert_eq!(shown.json["status"]["teamMode"], true);
    assert_eq!(shown.json["webhooksSilent"], false);
    let text = shown.json.to_string();
    let hook = console.relay.hook.clone();
    assert!(
        !text.contains(&team.client_secret),
        "the secret is shown: {text}"
    );
    assert!(!text.contains(&hook), "the hook is shown: {text}");
    assert!(
        shown.json["redirectUri"].as_str().unwrap().ends_with("/…"),
        "{text}"
    );
    for leak in [
        "accessToken",
        "refreshToken",
        "access_token",
        "refresh_token",
    ] {
        assert!(!text.contains(leak), "{leak}: {text}");
    }
    // Parking: the company's numbers from МТТ's directory; one parked at the PBX and in the
    // team's routing.
    let parking = console.get("/admin/api/parking", &admin).await;
    assert_eq!(parking.status, 200, "{}", parking.json);
    let numbers = parking.json["numbers"].as_array().unwrap().clone();
    assert!(!numbers.is_empty(), "{}", parking.json);
    assert!(numbers.iter().all(|n| n["parked"] == false));
    let number = numbers[0]["number"].as_str().unwrap().to_owned();
    let parked = console
        .send(
            Method::PUT,
            "/admin/api/parking",
            Some(&admin),
            Some(json!({ "number": number, "parked": true })),
        )
        .await;
    assert_eq!(parked.status, 200, "{}", parked.json);
    let entry = parked.json["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["number"] == number.as_str())
        .cloned()
        .unwrap();
    assert_eq!(entry["parked"], true);
    let routing = console.get("/admin/api/routing", &admin).await;
    assert_eq!(routing.json["parked"], json!([number]), "{}", routing.json);
    let bad = console
        .send(
            Method::PUT,
            "/admin/api/parking",
            Some(&admin),
            Some(json!({ "number": "+7 495", "parked": true })),
        )
        .await;
    assert_eq!(
        (bad.status, bad.json["field"].as_str()),
        (400, Some("number"))
    );

    let health = console.get("/admin/api/health", &admin).await;
    assert_eq!(health.status, 200, "{}", health.json);
    assert_eq!(health.json["integration"], "connected");
    assert!(health.json["version"].is_string() && health.json["storeBytes"].is_number());
}

#[tokio::test]
async fn every_field_is_checked_on_the_server_and_nothing_is_half_applied() {
    let console = console().await;
    let admin = console.admin_session().await;
    let cases = [
        (
            Method::POST,
            "/admin/api/session",
            json!({ "login": "", "password": "x" }),
            "login",
        ),
        (
            Method::POST,
            "/admin/api/session",
            json!({ "login": "Ольга", "password": "" }),
            "password",
        ),
        (
            Method::POST,
            "/admin/api/session",
            json!({ "login": "Ольга", "password": "x", "remember": true }),
            "remember",
        ),
        (
            Method::POST,
            "/admin/api/seats",
            json!({ "name": "", "workplace": VERA, "role": "operator" }),
            "name",
        ),
        (
            Method::POST,
            "/admin/api/seats",
            json!({ "name": "Вера", "workplace": "not a sip id", "role": "operator" }),
            "workplace",
        ),
        (
            Method::POST,
            "/admin/api/seats",
            json!({ "name": "Вера", "workplace": VERA, "role": "boss" }),
            "role",
        ),
        (
            Method::POST,
            "/admin/api/seats",
            json!({ "name": "Вера", "workplace": VERA }),
            "role",
        ),
        (
            Method::POST,
            "/admin/api/seats",
            json!({ "name": "Вера", "workplace": VERA, "role": "operator", "extra": 1 }),
            "extra",
        ),
        (
            Method::PUT,
            "/admin/api/seats/2/console-password",
            json!({ "password": "short" }),
            "password",
        ),
        (
            Method::PUT,
            "/admin/api/tags",
            json!({ "tags": [], "required": true }),
            "required",
        ),
        (
            Method::POST,
            "/admin/api/integration/connect",
            json!({ "clientId": "id", "clientSecret": "" }),
            "clientSecret",
        ),
        (
            Method::POST,
            "/admin/api/phonebook",
            json!({ "name": "Иван", "numbers": ["not a number"] }),
            "numbers",
        ),
    ];
    for (method, path, body, field) in cases {
        let answer = console
            .send(method.clone(), path, Some(&admin), Some(body.clone()))
            .await;
        assert_eq!(
            (
                answer.status,
                answer.json["code"].as_str(),
                answer.json["field"].as_str()
            ),
            (400, Some("bad_request"), Some(field)),
            "{method} {path} {body}: {}",
            answer.json
        );
        assert!(
            answer.json["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // Not one of those made a seat.
    let seats = console.get("/admin/api/seats", &admin).await.json;
    assert_eq!(seats["seats"].as_array().unwrap().len(), 2, "{seats}");
    let missing = console
        .send(
            Method::PUT,
            "/admin/api/seats/999",
            Some(&admin),
            Some(json!({ "name": "Вера", "workplace": VERA, "role": "operator" })),
        )
        .await;
    assert_eq!(
        (missing.status, missing.json["code"].as_str()),
        (404, Some("not_found"))
    );
    let audit = console.get("/admin/api/audit?outcome=maybe", &admin).await;
    assert_eq!(
        (audit.status, audit.json["field"].as_str()),
        (400, Some("outcome"))
    );
}

#[tokio::test]
async fn a_ten_megabyte_body_is_refused_as_too_large() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let console = console().await;
    let admin = console.admin_session().await;
    for path in [
        "/admin/api/seats",
        "/admin/api/phonebook/import?format=csv",
        "/admin/api/session",
    ] {
        let address = console.relay.base.trim_start_matches("http://").to_owned();
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: {address}\r\ncookie: {}={}\r\nx-csrf-token: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            crate::console_support::COOKIE,
            admin.cookie,
            admin.csrf,
            10 * 1024 * 1024
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let _ = socket.write_all(&vec![b' '; 64 * 1024]).await;
        let mut reply = Vec::new();
        let _ = tokio::time::timeout(WAIT, socket.read_to_end(&mut reply)).await;
        let text = String::from_utf8_lossy(&reply);
        assert!(text.starts_with("HTTP/1.1 413"), "{path}: {text}");
        assert!(text.contains("\"too_large\""), "{path}: {text}");
    }
}

#[tokio::test]
async fn the_pages_are_the_apps_index_and_its_assets_are_immutable() {
    let console = console().await;
    for path in ["/admin", "/admin/", "/admin/wallboard", "/admin/signin"] {
        let page = answer(
            console
                .relay
                .http
                .get(console.url(path))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
    }
    let index = console
        .relay
        .http
        .get(console.url("/admin"))
        .send()
        .await
        .unwrap();
    let html = index.text().await.unwrap();
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the index loads a script");
    let asset = console
        .relay
        .http
        .get(console.url(script))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200, "{script}");
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let missing = console
        .relay
        .http
        .get(console.url("/admin/assets/none.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn an_admin_keeps_the_tags_and_the_team_phonebook_with_an_all_or_nothing_import() {
    let console = console().await;
    let admin = console.admin_session().await;
    let tags = console
        .send(
            Method::PUT,
            "/admin/api/tags",
            Some(&admin),
            Some(json!({ "tags": ["продажа", "жалоба"], "required": true })),
        )
        .await;
    assert_eq!(tags.status, 200, "{}", tags.json);
    assert_eq!(
        console.get("/admin/api/tags", &admin).await.json,
        json!({ "tags": ["продажа", "жалоба"], "required": true })
    );

    let added = console
        .send(
            Method::POST,
            "/admin/api/phonebook",
            Some(&admin),
            Some(json!({ "name": "ООО Ромашка", "numbers": ["+7 495 123-45-67"] })),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.json);
    let id = added.json["contact"]["id"].as_i64().unwrap();
    let edited = console
        .send(
            Method::PUT,
            &format!("/admin/api/phonebook/{id}"),
            Some(&admin),
            Some(json!({ "name": "ООО Ромашка", "company": "Ромашка", "numbers": ["+7 495 123-45-67"] })),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.json);
    assert_eq!(edited.json["contact"]["company"], "Ромашка");

    let import = |body: &'static str| {
        console
            .relay
            .http
            .post(console.url("/admin/api/phonebook/import?format=csv"))
            .header(
                "cookie",
                format!("{}={}", crate::console_support::COOKIE, admin.cookie),
            )
            .header("x-csrf-token", &admin.csrf)
            .body(body)
            .send()
    };
    // One bad line: nothing is imported, and the line is named.
    let refused = answer(
        import("name,phone\nИван,+74951112233\nПётр,not a number\n")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(refused.status, 200, "{}", refused.json);
    assert_eq!(refused.json["added"], 0);
    assert_eq!(refused.json["skipped"][0]["line"], 3, "{}", refused.json);
    assert_eq!(
        console.get("/admin/api/phonebook", &admin).await.json["contacts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let imported = answer(
        import("name,phone\nИван,+74951112233\nПётр,+74951112244\n")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (
            imported.json["added"].as_u64(),
            imported.json["skipped"].as_array().map(Vec::len)
        ),
        (Some(2), Some(0)),
        "{}",
        imported.json
    );
    assert_eq!(
        console.get("/admin/api/phonebook", &admin).await.json["contacts"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let wrong_format = console
        .send(
            Method::POST,
            "/admin/api/phonebook/import?format=xls",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (wrong_format.status, wrong_format.json["field"].as_str()),
        (400, Some("format"))
    );

    let deleted = console
        .send(
            Method::DELETE,
            &format!("/admin/api/phonebook/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    let again = console
        .send(
            Method::DELETE,
            &format!("/admin/api/phonebook/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(again.status, 404);

    let routing = console.get("/admin/api/routing", &admin).await;
    assert_eq!(routing.status, 200, "{}", routing.json);
    let saved = console
        .send(
            Method::PUT,
            "/admin/api/routing",
            Some(&admin),
            Some(routing.json.clone()),
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.json);
    let journal = console
        .get("/admin/api/routing/journal?limit=10", &admin)
        .await;
    assert_eq!(
        (
            journal.status,
            journal.json["decisions"].as_array().map(Vec::len)
        ),
        (200, Some(0))
    );

    let audit = console.get("/admin/api/audit", &admin).await.json;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "tags.set",
        "phonebook.add",
        "phonebook.edit",
        "phonebook.import",
        "phonebook.delete",
        "routing.set",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
}
