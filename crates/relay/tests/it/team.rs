//! Team mode's seats: invites, the join exchange, seat credentials on the stream and
//! `/team/me`, revocation, and client keys in team mode.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use relay::seats::{InviteCode, new_credential};
use relay::store::NoSink;
use relay::store::sqlite::{INTEGRATION_CLIENT, SqliteOptions, SqliteStore};
use relay::store::team::{NewSeat, SeatRef, SharedTeamStore, TeamId};
use serde_json::{Value, json};
use team_api::Role;

use crate::util::{SseReader, TestRelay, start, start_with};

const WAIT: Duration = Duration::from_secs(10);

/// The relay's store as another process (`trubka-relay seats`) opens it.
fn other_process(relay: &TestRelay) -> SharedTeamStore {
    Arc::new(
        SqliteStore::open(
            &relay.handle.state().config.database,
            SqliteOptions::default(),
            Arc::new(NoSink),
        )
        .unwrap(),
    )
}

async fn seat(relay: &TestRelay, name: &str, role: Role) -> i64 {
    relay
        .handle
        .state()
        .team
        .add_seat(NewSeat {
            name: name.into(),
            workplace: "883140582526566".into(),
            role,
        })
        .await
        .unwrap()
        .profile
        .id
}

async fn invite(relay: &TestRelay, seat: i64, life: TimeDelta) -> String {
    let code = InviteCode::generate().unwrap();
    relay
        .handle
        .state()
        .team
        .add_invite(SeatRef::Id(seat), code.hash(), Utc::now() + life)
        .await
        .unwrap();
    code.expose_secret()
}

async fn join(relay: &TestRelay, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let response = relay
        .http
        .post(format!("{}/team/join", relay.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Announces a 10 MB join body, sends its first 64 KiB, and reads the answer (a client such as
/// reqwest fails with a broken pipe when the server answers before the body is sent).
async fn huge_join(relay: &TestRelay) -> (u16, Value) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = relay.base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /team/join HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        10 * 1024 * 1024
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let _ = socket.write_all(&vec![b'x'; 64 * 1024]).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, socket.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

async fn join_code(relay: &TestRelay, code: &str) -> (u16, Value) {
    join(relay, json!({ "code": code }).to_string()).await
}

async fn me(relay: &TestRelay, credential: &str) -> (u16, Value) {
    let response = relay
        .http
        .get(format!("{}/team/me", relay.base))
        .bearer_auth(credential)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn stream_as(relay: &TestRelay, bearer: &str) -> reqwest::Response {
    relay
        .http
        .get(format!("{}/events/stream", relay.base))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
}

/// Waits for a stream to end: heartbeats come every 200 ms while it is open, so a second
/// without a frame means it ended.
async fn assert_stream_ends(stream: &mut SseReader, what: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while stream.next_frame(Duration::from_secs(1)).await.is_some() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} is still open"
        );
    }
}

async fn credentials_stored(relay: &TestRelay) -> usize {
    relay
        .handle
        .state()
        .team
        .access_snapshot()
        .await
        .unwrap()
        .credentials
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invite_works_once_and_its_credential_opens_the_stream_and_the_profile() {
    let relay = start().await;
    let alice = seat(&relay, "Alice", Role::Operator).await;
    let code = invite(&relay, alice, TimeDelta::hours(72)).await;

    let (status, answer) = join_code(&relay, &code.to_lowercase()).await;
    assert_eq!(status, 200, "{answer}");
    let credential = answer["credential"].as_str().unwrap().to_owned();
    assert!(credential.starts_with("tks_"));
    assert_eq!(answer["seat"]["name"], "Alice");
    assert_eq!(answer["seat"]["role"], "operator");
    assert_eq!(answer["seat"]["workplace"], "883140582526566");

    let (status, again) = join_code(&relay, &code).await;
    assert_eq!((status, again["code"].as_str()), (410, Some("invite_used")));
    assert_eq!(credentials_stored(&relay).await, 1);

    let (status, profile) = me(&relay, &credential).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["id"], alice);

    let response = stream_as(&relay, &credential).await;
    assert_eq!(response.status(), 200);
    let mut events = SseReader::new(response);
    relay
        .post_ok(r#"{"event":"vpbxNotifications","result":{}}"#)
        .await;
    assert!(events.next_event(WAIT).await.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_a_seat_elsewhere_closes_its_stream_and_refuses_its_next_request() {
    let relay = start().await;
    let bob = seat(&relay, "Bob", Role::Supervisor).await;
    let code = invite(&relay, bob, TimeDelta::hours(1)).await;
    let (_, answer) = join_code(&relay, &code).await;
    let credential = answer["credential"].as_str().unwrap().to_owned();
    let mut events = SseReader::new(stream_as(&relay, &credential).await);
    assert!(events.next_frame(WAIT).await.is_some());

    // As `trubka-relay seats revoke Bob` would, from another process.
    other_process(&relay)
        .revoke_seat(SeatRef::Name("Bob".into()))
        .await
        .unwrap();
    // The stream ends (within a generous ceiling; how fast is a benchmark figure).
    assert_stream_ends(&mut events, "the revoked seat's stream").await;
    let (status, refused) = me(&relay, &credential).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (401, Some("seat_revoked"))
    );
    let response = stream_as(&relay, &credential).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "seat_revoked");
    // Revoked without `--delete-local-data`: the answer asks nothing more.
    assert!(body.get("deleteLocalData").is_none(), "{body}");
    assert!(refused.get("deleteLocalData").is_none(), "{refused}");
    // A revoked seat's invites no longer work either.
    let (status, _) = join_code(&relay, &code).await;
    assert_eq!(status, 410);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_seat_revoked_with_delete_local_data_is_told_so_on_its_stream_and_its_requests() {
    let relay = start().await;
    let erin = seat(&relay, "Erin", Role::Operator).await;
    let code = invite(&relay, erin, TimeDelta::hours(1)).await;
    let (_, answer) = join_code(&relay, &code).await;
    let credential = answer["credential"].as_str().unwrap().to_owned();
    let mut events = SseReader::new(stream_as(&relay, &credential).await);
    assert!(events.next_frame(WAIT).await.is_some());

    // As `trubka-relay seats revoke Erin --delete-local-data` would, from another process.
    other_process(&relay)
        .revoke_seat_asking(SeatRef::Name("Erin".into()), true)
        .await
        .unwrap();
    assert_stream_ends(&mut events, "the revoked seat's stream").await;
    let (status, refused) = me(&relay, &credential).await;
    assert_eq!(
        (
            status,
            refused["code"].as_str(),
            &refused["deleteLocalData"]
        ),
        (401, Some("seat_revoked"), &json!(true)),
        "{refused}"
    );
    let response = stream_as(&relay, &credential).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["code"].as_str(), &body["deleteLocalData"]),
        (Some("seat_revoked"), &json!(true)),
        "{body}"
    );
    // The seat API's answer carries it too, and team-api reads it.
    let hangup = relay
        .http
        .post(format!("{}/team/hangup", relay.base))
        .bearer_auth(&credential)
        .json(&json!({ "legId": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(hangup.status(), 401);
    let read: team_api::ErrorBody = hangup.json().await.unwrap();
    assert!(read.delete_local_data, "{read:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_join_revokes_the_credential_it_replaces() {
    let relay = start().await;
    let carol = seat(&relay, "Carol", Role::Operator).await;
    let first = invite(&relay, carol, TimeDelta::hours(1)).await;
    let (_, answer) = join_code(&relay, &first).await;
    let old = answer["credential"].as_str().unwrap().to_owned();
    let mut old_stream = SseReader::new(stream_as(&relay, &old).await);
    assert!(old_stream.next_frame(WAIT).await.is_some());

    // A newer invite replaces an unused older one, and its join replaces the credential.
    let unused = invite(&relay, carol, TimeDelta::hours(1)).await;
    let second = invite(&relay, carol, TimeDelta::hours(1)).await;
    let (status, _) = join_code(&relay, &unused).await;
    assert_eq!(status, 410);
    let (status, answer) = join_code(&relay, &second).await;
    assert_eq!(status, 200);
    let new = answer["credential"].as_str().unwrap().to_owned();

    let (status, refused) = me(&relay, &old).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (401, Some("credential_revoked"))
    );
    assert_eq!(me(&relay, &new).await.0, 200);
    assert_stream_ends(&mut old_stream, "the replaced credential's stream").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_joins_get_a_clear_4xx_and_store_nothing() {
    let relay = start().await;
    let dave = seat(&relay, "Dave", Role::Operator).await;
    let expired = invite(&relay, dave, TimeDelta::seconds(-1)).await;
    let cases: Vec<(String, u16, &str)> = vec![
        (
            json!({ "code": "nope" }).to_string(),
            400,
            "invite_malformed",
        ),
        (
            json!({ "code": InviteCode::generate().unwrap().expose_secret() }).to_string(),
            404,
            "invite_unknown",
        ),
        (
            json!({ "code": expired }).to_string(),
            410,
            "invite_expired",
        ),
        (
            json!({ "code": expired, "seat": 1 }).to_string(),
            400,
            "bad_request",
        ),
        ("not json".to_owned(), 400, "bad_request"),
        (json!({ "code": 5 }).to_string(), 400, "bad_request"),
        ("x".repeat(8 * 1024), 413, "too_large"),
    ];
    for (body, status, code) in cases {
        let shown: String = body.chars().take(60).collect();
        let (got, answer) = join(&relay, body).await;
        assert_eq!(got, status, "{shown}: {answer}");
        assert_eq!(answer["code"], code, "{shown}");
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A 10 MB body: the relay answers 413 after reading a little of it, without the rest.
    let (status, answer) = huge_join(&relay).await;
    assert_eq!((status, answer["code"].as_str()), (413, Some("too_large")));
    assert_eq!(credentials_stored(&relay).await, 0);

    // A credential of another relay, and a made-up one of this relay.
    let foreign = new_credential(TeamId(7)).unwrap();
    let (status, answer) = me(&relay, foreign.expose_secret()).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (401, Some("credential_of_another_relay"))
    );
    let ours = relay.handle.state().team.team_id().await.unwrap();
    let guessed = new_credential(ours).unwrap();
    let (status, answer) = me(&relay, guessed.expose_secret()).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (401, Some("unauthorized"))
    );
    assert_eq!(
        stream_as(&relay, foreign.expose_secret()).await.status(),
        401
    );
    // The relay lives.
    assert_eq!(
        relay
            .http
            .get(format!("{}/healthz", relay.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn join_attempts_are_rate_limited() {
    let relay = start_with(|config| config.join_attempts_per_minute = 2).await;
    for _ in 0..2 {
        assert_eq!(join_code(&relay, "nope").await.0, 400);
    }
    let response = relay
        .http
        .post(format!("{}/team/join", relay.base))
        .body(json!({ "code": "nope" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread")]
async fn client_keys_are_refused_in_team_mode_unless_allowed() {
    for allowed in [false, true] {
        let relay = start_with(|config| config.allow_client_keys = allowed).await;
        let key = relay.key.expose_secret().to_owned();
        assert_eq!(stream_as(&relay, &key).await.status(), 200);
        let mut open = SseReader::new(stream_as(&relay, &key).await);
        assert!(open.next_frame(WAIT).await.is_some());
        // Storing an integration's credentials (`team connect`) is not team mode yet.
        let other = other_process(&relay);
        other
            .put_sealed(INTEGRATION_CLIENT.into(), vec![1, 2, 3])
            .await
            .unwrap();
        assert_eq!(stream_as(&relay, &key).await.status(), 200);
        // Team mode begins with the integration's first successful connect.
        other.enter_team_mode().await.unwrap();
        let response = stream_as(&relay, &key).await;
        if allowed {
            assert_eq!(response.status(), 200);
        } else {
            assert_eq!(response.status(), 403);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "client_keys_refused");
            // The stream a client key held ends too.
            assert_stream_ends(&mut open, "the client key's stream").await;
        }
    }
}
