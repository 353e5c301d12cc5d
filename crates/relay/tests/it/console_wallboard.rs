//! The wallboard: a call shows while it lives and leaves when it ends, counted for the seat
//! that answered it; the stream sends a snapshot at once and after the change; its caps.

use std::time::Duration;

use serde_json::{Value, json};
use team_api::Role;

use crate::console_support::{Console, Session, console, console_with};
use crate::team_seat_api::{call_event, joined_seat};
use crate::util::SseReader;

const WAIT: Duration = Duration::from_secs(20);
const ANNA: &str = "883140582526590";
const SERGEY: &str = "883140582526591";

async fn wait_board(
    console: &Console,
    session: &Session,
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

fn operator(board: &Value, seat: i64) -> Value {
    board["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["seat"] == seat)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn open_stream(console: &Console, session: &Session) -> reqwest::Response {
    console
        .relay
        .http
        .get(console.url("/admin/api/wallboard/stream"))
        .header(
            "cookie",
            format!("{}={}", crate::console_support::COOKIE, session.cookie),
        )
        .send()
        .await
        .unwrap()
}

async fn next_board(stream: &mut SseReader) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if let Some(frame) = stream.next_frame(Duration::from_secs(1)).await
            && frame.event.as_deref() == Some("wallboard")
        {
            return frame.json();
        }
    }
    panic!("no wallboard snapshot within {WAIT:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_shows_while_it_lives_leaves_when_it_ends_and_is_counted_for_its_seat() {
    let console = console().await;
    let supervisor = console.session("Пётр").await;
    let (anna, _) = joined_seat(&console.relay, "Анна", ANNA, Role::Operator).await;
    let mut stream = SseReader::new(open_stream(&console, &supervisor).await);
    let first = next_board(&mut stream).await;
    assert_eq!(first["timeZone"], "Europe/Moscow");
    assert_eq!(first["calls"], json!([]));
    assert_eq!(operator(&first, anna)["answeredToday"], 0);

    console
        .relay
        .post_ok(&call_event("leg-w1", "showing", "79001234567", ANNA))
        .await;
    console
        .relay
        .post_ok(&call_event("leg-w1", "connected", "79001234567", ANNA))
        .await;
    let talking = wait_board(&console, &supervisor, "the call talking", |board| {
        board["calls"][0]["state"] == "talking"
    })
    .await;
    let call = &talking["calls"][0];
    assert_eq!(call["legId"], "leg-w1");
    assert_eq!(call["seat"], anna);
    assert_eq!(call["seatName"], "Анна");
    assert_eq!(call["workplace"], ANNA);
    assert!(call["answeredAt"].is_string());
    assert_eq!(operator(&talking, anna)["presence"], "talking");
    // The stream carried the change too.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let board = next_board(&mut stream).await;
        if board["calls"][0]["legId"] == "leg-w1" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline);
    }

    console
        .relay
        .post_ok(&call_event("leg-w1", "finished", "79001234567", ANNA))
        .await;
    let ended = wait_board(&console, &supervisor, "the call to end", |board| {
        board["calls"] == json!([])
    })
    .await;
    let counted = operator(&ended, anna);
    assert_eq!(counted["answeredToday"], 1, "{ended}");
    assert_eq!(counted["missedToday"], 0);
    assert_eq!(counted["presence"], "free");
    // A repeat of the end is not counted again.
    console
        .relay
        .post_ok(&call_event("leg-w1", "finished", "79001234567", ANNA))
        .await;

    // A call that rings and ends unanswered is missed for the seat, and queued for a call back.
    console
        .relay
        .post_ok(&call_event("leg-w2", "showing", "79007654321", ANNA))
        .await;
    console
        .relay
        .post_ok(&call_event("leg-w2", "finished", "79007654321", ANNA))
        .await;
    let missed = wait_board(&console, &supervisor, "the missed call", |board| {
        operator(board, anna)["missedToday"] == 1
    })
    .await;
    assert_eq!(operator(&missed, anna)["answeredToday"], 1);
    assert_eq!(missed["missed"][0]["number"], "79007654321", "{missed}");
}

#[tokio::test]
async fn wallboard_streams_are_capped_per_session() {
    let console = console_with(|config| config.console.streams_per_session = 2).await;
    let admin = console.admin_session().await;
    let a = open_stream(&console, &admin).await;
    let b = open_stream(&console, &admin).await;
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
    let refused = open_stream(&console, &admin).await;
    assert_eq!(refused.status(), 503);
    // Another session has its own.
    let other = console.admin_session().await;
    assert_eq!(open_stream(&console, &other).await.status(), 200);
    drop((a, b));
    let deadline = tokio::time::Instant::now() + WAIT;
    let _again = loop {
        let again = open_stream(&console, &admin).await;
        if again.status() == 200 {
            break again;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "a closed stream's place was never freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let health = console.get("/admin/api/health", &admin).await;
    assert!(
        health.json["consoleStreams"].as_u64().unwrap() >= 1,
        "{}",
        health.json
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn todays_counts_are_rebuilt_from_the_store_after_a_restart() {
    let console = console().await;
    let (anna, _) = joined_seat(&console.relay, "Анна", ANNA, Role::Operator).await;
    for (leg, state) in [
        ("leg-r1", "connected"),
        ("leg-r1", "finished"),
        ("leg-r2", "showing"),
        ("leg-r2", "finished"),
    ] {
        console
            .relay
            .post_ok(&call_event(leg, state, "79001234567", ANNA))
            .await;
    }
    let supervisor = console.session("Пётр").await;
    wait_board(
        &console,
        &supervisor,
        "the counts before the restart",
        |board| {
            operator(board, anna)["answeredToday"] == 1 && operator(board, anna)["missedToday"] == 1
        },
    )
    .await;
    let Console {
        relay,
        admin,
        supervisor: supervisor_seat,
    } = console;
    let console = Console {
        relay: relay.restart().await,
        admin,
        supervisor: supervisor_seat,
    };
    let supervisor = console.session("Пётр").await;
    let board = wait_board(&console, &supervisor, "the counts rebuilt", |board| {
        operator(board, anna)["answeredToday"] == 1 && operator(board, anna)["missedToday"] == 1
    })
    .await;
    assert_eq!(board["calls"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wallboard_stream_ends_when_the_relay_shuts_down() {
    let console = console().await;
    let admin = console.admin_session().await;
    let mut stream = SseReader::new(open_stream(&console, &admin).await);
    next_board(&mut stream).await;
    // The shutdown waits for open requests: it ends only if the wallboard's stream does (its
    // keep-alive alone would hold it for good).
    tokio::time::timeout(WAIT, console.relay.handle.shutdown())
        .await
        .expect("the relay's shutdown waited on an open wallboard")
        .unwrap();
    assert!(stream.next_frame(WAIT).await.is_none());
}

/// A group call rings two operators on one leg; the one who answers is the call's operator on
/// the wallboard, not the first seat the leg touched (the browser suite showed a colleague's
/// name on Anna's call).
#[tokio::test(flavor = "multi_thread")]
async fn a_group_call_is_shown_with_the_operator_who_answered_it() {
    let console = console().await;
    let supervisor = console.session("Пётр").await;
    // Sergey's seat comes first in seat order.
    let (sergey, _) = joined_seat(&console.relay, "Сергей", SERGEY, Role::Operator).await;
    let (anna, _) = joined_seat(&console.relay, "Анна", ANNA, Role::Operator).await;
    for (state, callee) in [("showing", SERGEY), ("showing", ANNA)] {
        console
            .relay
            .post_ok(&call_event("leg-g1", state, "79001234567", callee))
            .await;
    }
    let ringing = wait_board(&console, &supervisor, "the group call ringing", |board| {
        board["calls"][0]["legId"] == "leg-g1"
    })
    .await;
    assert_eq!(
        ringing["calls"][0]["seat"],
        Value::Null,
        "ringing at two operators, it is nobody's yet: {ringing}"
    );
    assert_eq!(ringing["calls"][0]["workplace"], Value::Null);
    for (state, callee) in [("connected", ANNA), ("hiding", SERGEY)] {
        console
            .relay
            .post_ok(&call_event("leg-g1", state, "79001234567", callee))
            .await;
    }
    let talking = wait_board(&console, &supervisor, "the group call answered", |board| {
        board["calls"][0]["state"] == "talking"
    })
    .await;
    let call = &talking["calls"][0];
    assert_eq!(call["seat"], anna, "{talking}");
    assert_eq!(call["seatName"], "Анна");
    assert_eq!(call["workplace"], ANNA);
    assert_eq!(operator(&talking, anna)["presence"], "talking");
    assert_eq!(operator(&talking, sergey)["presence"], "free");
}
