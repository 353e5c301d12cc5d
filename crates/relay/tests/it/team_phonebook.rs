//! The team phonebook on the relay: supervisors and admins edit it through the seat API,
//! operators read it; every change is audited and announced on every seat's stream; bad input
//! is refused by name and stores nothing; the index of personal managers follows every change,
//! an import made by another process included.

use std::sync::Arc;
use std::time::Duration;

use relay::store::NoSink;
use relay::store::audit::{AuditQuery, Outcome};
use relay::store::phonebook::SharedPhonebookStore;
use relay::store::sqlite::{SqliteOptions, SqliteStore};
use serde_json::{Value, json};
use team_api::Role;

use crate::team_seat_api::joined;
use crate::util::{SseReader, TestRelay, start};

const WAIT: Duration = Duration::from_secs(20);
const ANNA: &str = "883140582526566";
const SERGEY: &str = "883140777446532";
async fn send(
    relay: &TestRelay,
    method: reqwest::Method,
    credential: &str,
    path: &str,
    body: Option<String>,
) -> (u16, Value) {
    let mut request = relay
        .http
        .request(method, format!("{}{path}", relay.base))
        .bearer_auth(credential);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post(relay: &TestRelay, credential: &str, path: &str, body: Value) -> (u16, Value) {
    send(
        relay,
        reqwest::Method::POST,
        credential,
        path,
        Some(body.to_string()),
    )
    .await
}

async fn put(relay: &TestRelay, credential: &str, path: &str, body: Value) -> (u16, Value) {
    send(
        relay,
        reqwest::Method::PUT,
        credential,
        path,
        Some(body.to_string()),
    )
    .await
}

async fn get(relay: &TestRelay, credential: &str, path: &str) -> (u16, Value) {
    send(relay, reqwest::Method::GET, credential, path, None).await
}

async fn delete(relay: &TestRelay, credential: &str, path: &str) -> (u16, Value) {
    send(relay, reqwest::Method::DELETE, credential, path, None).await
}

async fn stream(relay: &TestRelay, credential: &str) -> SseReader {
    SseReader::new(
        relay
            .http
            .get(format!("{}/events/stream", relay.base))
            .bearer_auth(credential)
            .send()
            .await
            .unwrap(),
    )
}

/// The next `phonebook` event's version on `reader`, skipping other kinds.
async fn next_phonebook_version(reader: &mut SseReader) -> i64 {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame = reader
            .next_event(left)
            .await
            .expect("a phonebook event on the stream");
        let event = frame.json();
        if event["kind"] == "phonebook" {
            return event["body"]["version"].as_i64().unwrap();
        }
    }
}

/// Waits until the relay's index says `number`'s manager is `expected`.
async fn manager_becomes(relay: &TestRelay, number: &str, expected: Option<&str>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let found = relay.handle.state().phonebook.manager_of(number);
        if found.as_deref() == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "manager of {number}: {found:?}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn supervisors_edit_operators_read_and_every_change_is_audited_and_streamed() {
    let relay = start().await;
    let operator = joined(&relay, "Анна", ANNA, Role::Operator).await;
    let supervisor = joined(&relay, "Сергей", SERGEY, Role::Supervisor).await;
    let mut operator_stream = stream(&relay, &operator).await;

    let (status, saved) = post(
        &relay,
        &supervisor,
        "/team/contacts",
        json!({"name": "Иван Петров", "company": "ООО Ромашка",
               "numbers": ["8 921 946-27-61"], "manager": ANNA, "notes": "VIP"}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let id = saved["contact"]["id"].as_i64().unwrap();
    let added = saved["contact"]["version"].as_i64().unwrap();
    assert!(next_phonebook_version(&mut operator_stream).await >= added);
    manager_becomes(&relay, "+79219462761", Some(ANNA)).await;

    let (status, changes) = get(&relay, &operator, "/team/contacts?since=0").await;
    assert_eq!(status, 200);
    assert_eq!(changes["contacts"][0]["name"], "Иван Петров");
    assert_eq!(changes["contacts"][0]["numbers"][0], "8 921 946-27-61");
    assert_eq!(changes["version"].as_i64().unwrap(), added);

    // An operator reads but never writes: refused with the reason, audited, nothing stored.
    let (status, refused) = post(
        &relay,
        &operator,
        "/team/contacts",
        json!({"name": "Чужой", "numbers": ["+74950000000"]}),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["code"], "role_required");
    let (status, refused) = delete(&relay, &operator, &format!("/team/contacts/{id}")).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("role_required"))
    );

    let (status, edited) = put(
        &relay,
        &supervisor,
        &format!("/team/contacts/{id}"),
        json!({"name": "Иван Петров", "numbers": ["+7 812 424-15-00"], "manager": SERGEY}),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    let edited_version = edited["contact"]["version"].as_i64().unwrap();
    assert!(edited_version > added);
    assert!(next_phonebook_version(&mut operator_stream).await >= edited_version);
    manager_becomes(&relay, "78124241500", Some(SERGEY)).await;
    manager_becomes(&relay, "79219462761", None).await;

    let (status, _) = delete(&relay, &supervisor, &format!("/team/contacts/{id}")).await;
    assert_eq!(status, 200);
    next_phonebook_version(&mut operator_stream).await;
    manager_becomes(&relay, "78124241500", None).await;
    let (_, changes) = get(
        &relay,
        &operator,
        &format!("/team/contacts?since={edited_version}"),
    )
    .await;
    assert_eq!(changes["deleted"], json!([id]), "{changes}");
    assert_eq!(changes["contacts"], json!([]));
    let (status, gone) = delete(&relay, &supervisor, &format!("/team/contacts/{id}")).await;
    assert_eq!(
        (status, gone["code"].as_str()),
        (404, Some("contact_unknown"))
    );

    let entries = relay
        .handle
        .state()
        .audit
        .entries(AuditQuery::default())
        .await
        .unwrap();
    let done: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e.entry.outcome == Outcome::Done)
        .map(|e| (e.entry.seat_name.as_str(), e.entry.action.as_str()))
        .collect();
    assert_eq!(
        done,
        [
            ("Сергей", "contact_add"),
            ("Сергей", "contact_edit"),
            ("Сергей", "contact_delete")
        ]
    );
    // Who wrote what: the contact as written.
    assert!(
        entries.iter().any(
            |e| e.entry.action == "contact_edit" && e.entry.detail.contains("+7 812 424-15-00")
        )
    );
    let refused: Vec<&str> = entries
        .iter()
        .filter(|e| e.entry.outcome == Outcome::Refused)
        .map(|e| e.entry.seat_name.as_str())
        .collect();
    assert_eq!(refused, ["Анна", "Анна", "Сергей"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_by_name_and_stores_nothing() {
    let relay = start().await;
    let admin = joined(&relay, "Админ", SERGEY, Role::Admin).await;
    let many: Vec<String> = (0..21).map(|i| format!("+7921946{i:04}")).collect();
    for (body, names) in [
        (
            json!({"name": "A", "manager": "101"}).to_string(),
            "manager",
        ),
        (
            json!({"name": "A", "numbers": ["call me maybe"]}).to_string(),
            "call me maybe",
        ),
        (
            json!({"name": "", "numbers": []}).to_string(),
            "a name or a number",
        ),
        (json!({"name": "A", "phone": "1"}).to_string(), "phone"),
        (
            json!({"name": "A", "numbers": many}).to_string(),
            "at most 20",
        ),
        ("{not json".to_owned(), "not what this endpoint takes"),
    ] {
        let (status, answer) = send(
            &relay,
            reqwest::Method::POST,
            &admin,
            "/team/contacts",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["code"], "bad_request");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(names), "{body}: {message}");
    }
    for (path, names) in [
        ("/team/contacts?since=-1", "since"),
        ("/team/contacts?since=x", "since"),
        ("/team/contacts?limit=0", "limit"),
        ("/team/contacts?limit=100000", "limit"),
        ("/team/contacts?sort=name", "sort"),
    ] {
        let (status, answer) = get(&relay, &admin, path).await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(names),
            "{answer}"
        );
    }
    let (status, answer) = put(&relay, &admin, "/team/contacts/abc", json!({"name": "A"})).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("bad_request"))
    );
    let (status, answer) = put(&relay, &admin, "/team/contacts/77", json!({"name": "A"})).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (404, Some("contact_unknown"))
    );
    let (status, answer) = get(&relay, "tks_not_a_seat", "/team/contacts").await;
    assert_eq!(status, 401, "{answer}");
    let phonebook = &relay.handle.state().phonebook;
    assert_eq!(phonebook.store().phonebook_version().await.unwrap(), 0);
    assert!(phonebook.store().team_contacts().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_come_in_pages_and_an_app_ahead_of_the_relay_starts_over() {
    let relay = start().await;
    let admin = joined(&relay, "Админ", SERGEY, Role::Admin).await;
    for i in 0..5 {
        let (status, _) = post(
            &relay,
            &admin,
            "/team/contacts",
            json!({"name": format!("C{i}"), "numbers": [format!("+7921000000{i}")]}),
        )
        .await;
        assert_eq!(status, 200);
    }
    let (mut since, mut names) = (0, Vec::new());
    loop {
        let (_, page) = get(
            &relay,
            &admin,
            &format!("/team/contacts?since={since}&limit=2"),
        )
        .await;
        for contact in page["contacts"].as_array().unwrap() {
            names.push(contact["name"].as_str().unwrap().to_owned());
        }
        since = page["version"].as_i64().unwrap();
        if !page["more"].as_bool().unwrap() {
            break;
        }
    }
    assert_eq!(names, ["C0", "C1", "C2", "C3", "C4"]);
    let (_, ahead) = get(&relay, &admin, "/team/contacts?since=1000").await;
    assert_eq!(ahead["reset"], true);
    assert_eq!(ahead["contacts"].as_array().unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_by_another_process_reaches_the_index_and_the_stream() {
    let relay = start().await;
    let operator = joined(&relay, "Анна", ANNA, Role::Operator).await;
    let mut operator_stream = stream(&relay, &operator).await;
    let other: SharedPhonebookStore = Arc::new(
        SqliteStore::open(
            &relay.handle.state().config.database,
            SqliteOptions::default(),
            Arc::new(NoSink),
        )
        .unwrap(),
    );
    let csv = format!("name;phone;manager\nИван;8 921 946-27-61;{ANNA}\nБез номера;call me;\n");
    let parsed = relay::contacts_file::parse_file(std::path::Path::new("a.csv"), csv.as_bytes());
    let refused = other.import_contacts(parsed, true).await.unwrap();
    assert!(!refused.stored);
    assert_eq!(refused.problems[0].line, 3, "{:?}", refused.problems);
    assert_eq!(other.phonebook_version().await.unwrap(), 0);

    let parsed = relay::contacts_file::parse_file(std::path::Path::new("a.csv"), csv.as_bytes());
    let imported = other.import_contacts(parsed, false).await.unwrap();
    assert_eq!((imported.added, imported.stored), (1, true));
    assert!(next_phonebook_version(&mut operator_stream).await >= 1);
    manager_becomes(&relay, "79219462761", Some(ANNA)).await;
}
