//! Limits (issue 13, item 14): the sign-in long poll's cap, each key's stream cap, keys revoked
//! by another process, and connections that never send a request.

use std::time::Duration;

use relay::ClientKey;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::util;

/// The generous ceiling every wait here has; none of them is a speed claim.
const CEILING: Duration = Duration::from_secs(10);

/// The value of a gauge or counter line in the `/metrics` text, if present.
async fn metric(relay: &util::TestRelay, name: &str) -> Option<u64> {
    let text = relay
        .http
        .get(format!("{}/metrics", relay.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn the_sign_in_poll_cap_answers_at_once_when_full() {
    let relay = util::start_with(|config| {
        config.oauth_polls_max = 2;
        // Far longer than the ceiling: a poll that is held instead of refused fails the test.
        config.oauth_poll_timeout = Duration::from_secs(60);
    })
    .await;
    let poll = |state: &str| {
        relay
            .http
            .get(format!("{}/oauth/code/{state}", relay.base))
            .send()
    };
    let first = tokio::spawn(poll("first-state"));
    let second = tokio::spawn(poll("second-state"));
    // Both polls are waiting at the relay (bounded, not asserted: older relays had no gauge).
    let deadline = tokio::time::Instant::now() + CEILING;
    while metric(&relay, "trubka_relay_oauth_polls_waiting").await != Some(2)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let third = tokio::time::timeout(CEILING, poll("third-state"))
        .await
        .expect("a poll past the cap was held instead of refused at once")
        .unwrap();
    assert_eq!(third.status(), 503);
    assert!(third.headers().contains_key("retry-after"));
    let body: serde_json::Value = third.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("sign-in"),
        "{body}"
    );
    assert!(metric(&relay, "trubka_relay_rejected_total{reason=\"overloaded\"}").await >= Some(1));

    // The polls inside the cap still work: the first gets its code when the browser lands.
    let landing = relay
        .http
        .get(format!(
            "{}/{}?code=the-code&state=first-state",
            relay.base, relay.hook
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(landing.status(), 200);
    let first = tokio::time::timeout(CEILING, first)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.json::<serde_json::Value>().await.unwrap()["code"],
        "the-code"
    );
    second.abort();
}

#[tokio::test]
async fn a_keys_stream_past_its_cap_is_refused_and_a_freed_slot_is_reused() {
    let relay = util::start_with(|config| config.streams_per_key = 2).await;
    let mut first = relay.stream(None).await;
    assert!(first.next_frame(CEILING).await.is_some());
    let mut second = relay.stream(None).await;
    assert!(second.next_frame(CEILING).await.is_some());

    let url = format!("{}/events/stream", relay.base);
    let open = |key: &ClientKey| relay.http.get(&url).bearer_auth(key.expose_secret()).send();
    let third = open(&relay.key).await.unwrap();
    assert_eq!(third.status(), 429);
    assert!(third.headers().contains_key("retry-after"));
    let body: serde_json::Value = third.json().await.unwrap();
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("2 streams") && message.contains("streams_per_key"),
        "{message}"
    );
    assert_eq!(
        metric(
            &relay,
            "trubka_relay_rejected_total{reason=\"too_many_streams\"}"
        )
        .await,
        Some(1)
    );

    // Another key has slots of its own.
    let other = ClientKey::generate();
    relay
        .handle
        .state()
        .store
        .add_client_key("seat-2".into(), other.hash())
        .await
        .unwrap();
    assert_eq!(open(&other).await.unwrap().status(), 200);

    // A closed stream frees its slot (the relay notices at its next write, a heartbeat here).
    drop(first);
    let deadline = tokio::time::Instant::now() + CEILING;
    loop {
        let again = open(&relay.key).await.unwrap();
        if again.status() == 200 {
            break;
        }
        assert_eq!(again.status(), 429);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed stream's slot was never freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(second);
}

#[tokio::test]
async fn the_total_stream_cap_answers_503() {
    let relay = util::start_with(|config| config.streams_max = 1).await;
    let mut first = relay.stream(None).await;
    assert!(first.next_frame(CEILING).await.is_some());
    let second = relay
        .http
        .get(format!("{}/events/stream", relay.base))
        .bearer_auth(relay.key.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 503);
    assert!(second.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_key_revoked_by_another_process_stops_at_once_and_its_stream_is_cut() {
    // A heartbeat far beyond the ceiling: the stream must not wait for it to notice.
    let relay = util::start_with(|config| config.heartbeat = Duration::from_secs(120)).await;
    let mut stream = relay.stream(None).await;
    assert_eq!(stream.next_frame(CEILING).await.unwrap().retry, Some(100));

    // Another relay process over the same database: `trubka-relay keys` does exactly this.
    let dir = tempfile::tempdir().unwrap();
    let mut other_config = util::test_config(&dir);
    other_config.database = relay.handle.state().config.database.clone();
    let other = relay::RelayState::open(other_config).unwrap();
    let added = ClientKey::generate();
    other
        .store
        .add_client_key("seat-2".into(), added.hash())
        .await
        .unwrap();
    other
        .store
        .revoke_client_key("seat-1".into())
        .await
        .unwrap();

    // The very next request sees both changes.
    let url = format!("{}/events/stream", relay.base);
    let revoked = relay
        .http
        .get(&url)
        .bearer_auth(relay.key.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);
    let fresh = relay
        .http
        .get(&url)
        .bearer_auth(added.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);

    // And the stream already open with the revoked key ends, without a heartbeat. (The reader's
    // own wait is longer than the ceiling, so that only the stream's end can finish the loop.)
    let ended = tokio::time::timeout(CEILING, async {
        while stream.next_frame(CEILING * 3).await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its revoked key");
}

/// Reads until the peer closes the connection; `Err` if it is still open at the ceiling.
async fn closed_by_peer(socket: &mut tokio::net::TcpStream) -> Result<Vec<u8>, ()> {
    let mut received = Vec::new();
    tokio::time::timeout(CEILING, async {
        let mut chunk = [0u8; 4096];
        loop {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .map_err(|_| ())?;
    Ok(received)
}

#[tokio::test]
async fn a_connection_that_sends_no_headers_is_closed() {
    let relay =
        util::start_with(|config| config.header_read_timeout = Duration::from_millis(300)).await;
    let address = relay.handle.local_addr();

    let mut silent = tokio::net::TcpStream::connect(address).await.unwrap();
    assert!(
        closed_by_peer(&mut silent).await.is_ok(),
        "a connection that sent nothing was kept open"
    );

    let mut partial = tokio::net::TcpStream::connect(address).await.unwrap();
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n")
        .await
        .unwrap();
    assert!(
        closed_by_peer(&mut partial).await.is_ok(),
        "a connection that never finished its headers was kept open"
    );

    // A keep-alive connection idle after its answer is closed too.
    let mut idle = tokio::net::TcpStream::connect(address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
        .await
        .unwrap();
    let answered = closed_by_peer(&mut idle)
        .await
        .expect("an idle keep-alive connection was kept open");
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"));

    // A stream is not a request being read: it outlives the header timeout many times over.
    let mut stream = relay.stream(None).await;
    let started = tokio::time::Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        assert!(
            stream.next_frame(CEILING).await.is_some(),
            "the header timeout cut an open stream"
        );
    }
}

#[tokio::test]
async fn a_body_that_never_finishes_gets_408() {
    let relay =
        util::start_with(|config| config.request_timeout = Duration::from_millis(300)).await;
    let mut socket = tokio::net::TcpStream::connect(relay.handle.local_addr())
        .await
        .unwrap();
    let head = format!(
        "POST /{}/events HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"event\":",
        relay.hook
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let answer = closed_by_peer(&mut socket)
        .await
        .expect("a request whose body never came was kept waiting");
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(relay.stored_count().await, 0);
}
