//! The admin console across two relay instances on one Postgres database, as a load balancer
//! without sticky sessions puts it: a session signed in through one instance is accepted by
//! the other (and signing out through it ends it on both), and the wallboard on one shows a
//! call whose webhooks went to the other.

use std::time::Duration;

use relay::store::DatabaseUrl;
use serde_json::{Value, json};
use team_api::Role;

use crate::console_support::{Console, console_on};
use crate::pg_cluster;
use crate::team_seat_api::{call_event, joined_seat};
use crate::util::{free_port, start_with};

const WAIT: Duration = Duration::from_secs(30);
const ANNA: &str = "883140582526590";

/// Two instances on `url` with one configuration (hook, at-rest key), each with its own
/// address; the console's seats are made through the first.
async fn two_instances(url: &str, shared: &std::path::Path) -> (Console, Console) {
    let hook = relay::HookPath::generate();
    let key_file = shared.join("trubka-relay.key");
    relay::sealing::ensure_key_file(&key_file).unwrap();
    let mut relays = Vec::new();
    for _ in 0..2 {
        let (hook, key_file) = (hook.clone(), key_file.clone());
        let database = DatabaseUrl::recognise(url).unwrap().unwrap();
        let port = free_port();
        relays.push(
            start_with(move |config| {
                config.hook = hook;
                config.key_file = key_file;
                config.postgres = Some(database);
                config.listen = ([127, 0, 0, 1], port).into();
                config.public_url = Some(format!("http://127.0.0.1:{port}"));
            })
            .await,
        );
    }
    let second = relays.pop().unwrap();
    let first = console_on(relays.pop().unwrap()).await;
    let second = Console {
        relay: second,
        admin: first.admin,
        supervisor: first.supervisor,
    };
    (first, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_session_and_the_wallboard_work_across_instances() {
    let url = pg_cluster::database().await;
    let shared = tempfile::tempdir().unwrap();
    let (a, b) = two_instances(&url, shared.path()).await;

    // Signed in through A, the session works on B: reads, and a change with its CSRF token.
    let session = a.session("Пётр").await;
    let me = b.get("/admin/api/session", &session).await;
    assert_eq!(me.status, 200, "{}", me.json);
    let admin = a.admin_session().await;
    let board = b.get("/admin/api/wallboard", &admin).await;
    assert_eq!(board.status, 200, "{}", board.json);
    let added = b
        .send(
            reqwest::Method::POST,
            "/admin/api/seats",
            Some(&admin),
            Some(json!({ "name": "Вера", "workplace": "883140582526599", "role": "operator" })),
        )
        .await;
    assert!(added.status < 300, "{} {}", added.status, added.json);

    // Anna's call: its webhooks go to A, B's wallboard shows it, answered by her.
    let (anna, _) = joined_seat(&a.relay, "Анна", ANNA, Role::Operator).await;
    // B learns of the seat that joined through A (its workplace's calls and presence are
    // followed) without a request of hers.
    let b_calls = &b.relay.handle.state().calls;
    let deadline = tokio::time::Instant::now() + WAIT;
    while b_calls.presence_of(ANNA).is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "B never followed the workplace of a seat that joined through A"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.relay
        .post_ok(&call_event("leg-x1", "showing", "79001234567", ANNA))
        .await;
    a.relay
        .post_ok(&call_event("leg-x1", "connected", "79001234567", ANNA))
        .await;
    let talking = wait_board(&b, &session, "the call talking on B", |board| {
        board["calls"][0]["state"] == "talking"
    })
    .await;
    let call = &talking["calls"][0];
    assert_eq!(call["legId"], "leg-x1");
    assert_eq!(call["seat"], anna);
    assert_eq!(call["seatName"], "Анна");
    a.relay
        .post_ok(&call_event("leg-x1", "finished", "79001234567", ANNA))
        .await;
    wait_board(&b, &session, "the call to end on B", |board| {
        board["calls"] == json!([])
    })
    .await;

    // Signed out through B, the session is refused by A too.
    let out = b
        .send(
            reqwest::Method::DELETE,
            "/admin/api/session",
            Some(&session),
            None,
        )
        .await;
    assert!(out.status < 300, "{} {}", out.status, out.json);
    let after = a.get("/admin/api/session", &session).await;
    assert_eq!(after.status, 401, "{}", after.json);
}

async fn wait_board(
    console: &Console,
    session: &crate::console_support::Session,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let board = console.get("/admin/api/wallboard", session).await;
        assert_eq!(board.status, 200, "{}", board.json);
        if done(&board.json) {
            return board.json;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited in vain for {what}: {}",
            board.json
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
