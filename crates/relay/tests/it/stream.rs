//! The event stream: keys, resume, resync, live switch-over and slow clients.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::util;

const WAIT: Duration = Duration::from_secs(5);

fn event(n: usize) -> String {
    format!(r#"{{"event":"callNotifications","result":{{"seq":{n}}}}}"#)
}

#[tokio::test]
async fn missing_wrong_or_revoked_keys_get_401() {
    let relay = util::start().await;
    let url = format!("{}/events/stream", relay.base);
    let no_key = relay.http.get(&url).send().await.unwrap();
    assert_eq!(no_key.status(), 401);
    assert!(no_key.headers().contains_key("www-authenticate"));
    let wrong = relay
        .http
        .get(&url)
        .bearer_auth("trk_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let not_bearer = relay
        .http
        .get(&url)
        .header(
            "authorization",
            format!("Basic {}", relay.key.expose_secret()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(not_bearer.status(), 401);
    relay
        .handle
        .state()
        .store
        .revoke_client_key("seat-1".into())
        .await
        .unwrap();
    let revoked = relay
        .http
        .get(&url)
        .bearer_auth(relay.key.expose_secret())
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);
}

#[tokio::test]
async fn revoking_a_key_ends_the_streams_open_with_it() {
    let relay = util::start().await;
    let mut stream = relay.stream(None).await;
    assert_eq!(stream.next_frame(WAIT).await.unwrap().retry, Some(100));
    relay
        .handle
        .state()
        .store
        .revoke_client_key("seat-1".into())
        .await
        .unwrap();
    // Within about one keys recheck (250 ms) the stream ends.
    let ended = tokio::time::timeout(WAIT, async {
        while stream.next_frame(WAIT).await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its key");
}

#[tokio::test]
async fn a_stream_opens_with_a_retry_hint_and_sends_heartbeats() {
    let relay = util::start().await;
    let mut stream = relay.stream(None).await;
    let first = stream.next_frame(WAIT).await.unwrap();
    assert_eq!(first.retry, Some(100));
    let epoch = stream.next_frame(WAIT).await.unwrap();
    assert_eq!(epoch.event.as_deref(), Some("epoch"));
    assert_eq!(
        epoch.json()["epoch"],
        relay.handle.state().store.epoch().to_string()
    );
    // The backlog is empty: its end is marked at once.
    let mark = stream.next_frame(WAIT).await.unwrap();
    assert_eq!(mark.event.as_deref(), Some("caught-up"), "{mark:?}");
    let heartbeat = stream.next_frame(WAIT).await.unwrap();
    assert_eq!(heartbeat.comments, vec!["heartbeat".to_owned()]);
}

#[tokio::test]
async fn last_event_id_resumes_with_exactly_the_continuation() {
    let relay = util::start().await;
    for n in 1..=10 {
        relay.post_ok(&event(n)).await;
    }
    let mut stream = relay.stream(Some(6)).await;
    for expected in 7..=10 {
        let frame = stream.next_event(WAIT).await.unwrap();
        assert_eq!(frame.id(), expected);
        assert_eq!(frame.json()["body"]["result"]["seq"], expected);
    }
    // Nothing more until the next event, which comes live.
    assert!(
        stream
            .next_event(Duration::from_millis(300))
            .await
            .is_none()
    );
    relay.post_ok(&event(11)).await;
    assert_eq!(stream.next_event(WAIT).await.unwrap().id(), 11);

    // `?after=` does the same for clients that cannot set headers; bad ids are refused.
    let after = relay
        .http
        .get(format!("{}/events/stream?after=9", relay.base))
        .bearer_auth(relay.key.expose_secret())
        .send()
        .await
        .unwrap();
    let mut after = util::SseReader::new(after);
    assert_eq!(after.next_event(WAIT).await.unwrap().id(), 10);
    let bad = relay
        .http
        .get(format!("{}/events/stream", relay.base))
        .bearer_auth(relay.key.expose_secret())
        .header("last-event-id", "ten")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn a_resume_point_past_retention_gets_resync_first() {
    let relay = util::start().await;
    for n in 1..=3 {
        relay.post_ok(&event(n)).await;
    }
    let store = &relay.handle.state().store;
    let removed = store
        .prune_received_before(Utc::now() + TimeDelta::seconds(1))
        .await
        .unwrap();
    assert_eq!(removed, 3);
    relay.post_ok(&event(4)).await;

    let mut stream = relay.stream(Some(1)).await;
    let resync = stream.next_event(WAIT).await.unwrap();
    assert_eq!(resync.event.as_deref(), Some("resync"));
    assert_eq!(resync.id, None);
    let data = resync.json();
    assert_eq!(data["reason"], "pruned");
    assert_eq!(data["resumeAfter"], 3);
    assert_eq!(stream.next_event(WAIT).await.unwrap().id(), 4);

    // Resuming at the horizon itself misses nothing: no resync.
    let mut exact = relay.stream(Some(3)).await;
    assert_eq!(exact.next_event(WAIT).await.unwrap().id(), 4);
    // A resume point beyond anything this store issued (another store's) is also resynced.
    let mut foreign = relay.stream(Some(1000)).await;
    let resync = foreign.next_event(WAIT).await.unwrap();
    assert_eq!(resync.event.as_deref(), Some("resync"));
    assert_eq!(resync.json()["reason"], "unknown");
    assert_eq!(foreign.next_event(WAIT).await.unwrap().id(), 4);
}

#[tokio::test]
async fn retention_runs_in_the_background() {
    let relay = util::start_with(|config| {
        config.retention = Duration::from_millis(50);
        config.prune_interval = Duration::from_millis(20);
    })
    .await;
    relay.post_ok(&event(1)).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let horizon = relay.handle.state().store.horizon().await.unwrap();
        if horizon.pruned_through.0 == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "retention never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(relay.stored_count().await, 0);
}

#[tokio::test]
async fn joining_while_events_pour_in_has_no_gap_and_no_duplicate() {
    let relay = Arc::new(util::start().await);
    let total = 400;
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for _ in 0..8 {
        let relay = Arc::clone(&relay);
        let next = Arc::clone(&next);
        senders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                relay.post_ok(&event(n)).await;
            }
        }));
    }
    while next.load(Ordering::Relaxed) < total / 4 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut stream = relay.stream(None).await;
    for sender in senders {
        sender.await.unwrap();
    }
    let mut seen = std::collections::HashSet::new();
    for expected in 1..=i64::try_from(total).unwrap() {
        let frame = stream.next_event(WAIT).await.unwrap();
        assert_eq!(frame.id(), expected);
        assert!(seen.insert(frame.json()["body"]["result"]["seq"].as_u64().unwrap()));
    }
    assert!(
        stream
            .next_event(Duration::from_millis(300))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_without_slowing_the_others() {
    let relay = util::start_with(|config| config.client_buffer = 8).await;
    let big = "x".repeat(200 * 1024);
    let events = 60;

    // The stalled client: a small receive window, a request, and then it never reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(relay.handle.local_addr()).await.unwrap();
    let request = format!(
        "GET /events/stream HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer {}\r\n\r\n",
        relay.key.expose_secret()
    );
    stalled.write_all(request.as_bytes()).await.unwrap();

    let mut reader = relay.stream(None).await;
    // Both clients are subscribed before the burst.
    let deadline = Instant::now() + WAIT;
    while relay.handle.state().fanout.subscribers() < 2 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let started = Instant::now();
    let burst = async {
        for n in 0..events {
            relay
                .post_ok(&format!(
                    r#"{{"event":"callNotifications","pad":"{big}","n":{n}}}"#
                ))
                .await;
        }
    };
    let read_all = async {
        for expected in 1..=events {
            let frame = reader.next_event(WAIT).await.unwrap();
            assert_eq!(frame.id(), expected);
        }
    };
    tokio::join!(burst, read_all);
    let elapsed = started.elapsed();
    assert_eq!(relay.handle.state().metrics.clients_cut_off(), 1);
    assert_eq!(relay.handle.state().fanout.subscribers(), 1);

    // The stalled client's connection was closed by the relay: reading now drains what was in
    // flight and then ends, well short of the whole burst.
    let mut received = Vec::new();
    let drained = tokio::time::timeout(WAIT, async {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            match stalled.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "the stalled connection was not closed");
    assert!(received.len() < usize::try_from(events).unwrap() * big.len());
    // Generous: the point is that the burst did not wait for the stalled client.
    assert!(
        elapsed < Duration::from_secs(20),
        "the burst took {elapsed:?}"
    );
}

#[tokio::test]
async fn shutdown_is_not_held_up_by_a_client_that_stopped_reading() {
    let relay = util::start().await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(relay.handle.local_addr()).await.unwrap();
    let request = format!(
        "GET /events/stream HTTP/1.1\r\nHost: relay\r\nAuthorization: Bearer {}\r\n\r\n",
        relay.key.expose_secret()
    );
    stalled.write_all(request.as_bytes()).await.unwrap();
    let deadline = Instant::now() + WAIT;
    while relay.handle.state().fanout.subscribers() < 1 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Far more than the socket buffers hold, far less than the client's queue: the relay's
    // writes to this client block, and nothing cuts it off before shutdown.
    let big = "x".repeat(200 * 1024);
    for n in 0..40 {
        relay
            .post_ok(&format!(r#"{{"pad":"{big}","n":{n}}}"#))
            .await;
    }
    let stopped = tokio::time::timeout(WAIT, relay.handle.shutdown()).await;
    assert!(stopped.is_ok(), "shutdown waited for the stalled client");
    stopped.unwrap().unwrap();
    drop(stalled);
}

// The backlog is many times the client's queue, so a catch-up through the queue would be cut
// off; the queue is still larger than the live burst, so a reader slowed by a loaded machine is
// not cut off for the live part alone (seen once with a queue of 8 under another build's load).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_catch_up_with_live_traffic_is_not_cut_off() {
    let relay = Arc::new(util::start_with(|config| config.client_buffer = 64).await);
    let backlog = 600;
    let live = 50;
    let post_range = |from: usize, to: usize| {
        let relay = Arc::clone(&relay);
        async move {
            let next = Arc::new(AtomicUsize::new(from));
            let mut senders = Vec::new();
            for _ in 0..8 {
                let (relay, next) = (Arc::clone(&relay), Arc::clone(&next));
                senders.push(tokio::spawn(async move {
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= to {
                            break;
                        }
                        relay.post_ok(&event(n)).await;
                    }
                }));
            }
            for sender in senders {
                sender.await.unwrap();
            }
        }
    };
    post_range(0, backlog).await;
    let mut stream = relay.stream(None).await;
    let total = i64::try_from(backlog + live).unwrap();
    let reading = async {
        for expected in 1..=total {
            assert_eq!(stream.next_event(WAIT).await.unwrap().id(), expected);
        }
    };
    tokio::join!(reading, post_range(backlog, backlog + live));
    assert_eq!(relay.handle.state().metrics.clients_cut_off(), 0);
}

/// The next frame that is not a retry hint or a heartbeat, failing after `WAIT` without one.
async fn next_marked(stream: &mut util::SseReader) -> util::Frame {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame = stream
            .next_frame(left)
            .await
            .expect("an event or a mark within 5 s");
        // The store's epoch, announced at the start, is another test's subject.
        if frame.event.as_deref() == Some("epoch") {
            continue;
        }
        if frame.id.is_some() || frame.event.is_some() {
            return frame;
        }
    }
}

fn is_caught_up(frame: &util::Frame) -> bool {
    frame.event.as_deref() == Some("caught-up")
}

#[tokio::test]
async fn the_end_of_the_backlog_is_marked_once() {
    let relay = util::start().await;
    for n in 1..=3 {
        relay.post_ok(&event(n)).await;
    }
    // The response says that this relay marks the end of the backlog.
    let response = relay
        .http
        .get(format!("{}/events/stream", relay.base))
        .bearer_auth(relay.key.expose_secret())
        .header("last-event-id", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("trubka-stream")
            .and_then(|v| v.to_str().ok()),
        Some("caught-up")
    );
    let mut stream = util::SseReader::new(response);
    assert_eq!(next_marked(&mut stream).await.id(), 2);
    assert_eq!(next_marked(&mut stream).await.id(), 3);
    // After the backlog's last event, the marker: no id (it moves no resume point), the last
    // id of the backlog, and the relay's time.
    let marker = next_marked(&mut stream).await;
    assert!(is_caught_up(&marker), "{marker:?}");
    assert_eq!(marker.id, None);
    let data = marker.json();
    assert_eq!(data["lastId"], 3, "{data}");
    let at = chrono::DateTime::parse_from_rfc3339(data["at"].as_str().unwrap()).unwrap();
    assert!(
        (Utc::now() - at.to_utc()).abs() < TimeDelta::seconds(60),
        "{data}"
    );
    // Live events follow, and the marker does not come again.
    for n in 4..=5 {
        relay.post_ok(&event(n)).await;
        let live = next_marked(&mut stream).await;
        assert_eq!(live.id(), i64::try_from(n).unwrap(), "{live:?}");
    }

    // An empty backlog is marked at once, after the resume point; a first connection's too.
    let mut current = relay.stream(Some(5)).await;
    let marker = next_marked(&mut current).await;
    assert!(is_caught_up(&marker), "{marker:?}");
    assert_eq!(marker.json()["lastId"], 5);
    let mut everything = relay.stream(None).await;
    for expected in 1..=5 {
        assert_eq!(next_marked(&mut everything).await.id(), expected);
    }
    let marker = next_marked(&mut everything).await;
    assert!(is_caught_up(&marker), "{marker:?}");
    assert_eq!(marker.json()["lastId"], 5);
}

#[tokio::test]
async fn a_resynced_stream_marks_the_end_of_its_new_backlog() {
    let relay = util::start().await;
    for n in 1..=2 {
        relay.post_ok(&event(n)).await;
    }
    let mut foreign = relay.stream(Some(1000)).await;
    let resync = next_marked(&mut foreign).await;
    assert_eq!(resync.event.as_deref(), Some("resync"));
    assert_eq!(next_marked(&mut foreign).await.id(), 1);
    assert_eq!(next_marked(&mut foreign).await.id(), 2);
    let marker = next_marked(&mut foreign).await;
    assert!(is_caught_up(&marker), "{marker:?}");
    assert_eq!(marker.json()["lastId"], 2);
}
