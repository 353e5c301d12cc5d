//! The relay link against stand-in relays that control every byte on the wire: the reconnect
//! delay the relay asks for with `retry:`, resuming by `<epoch>:<id>`, and events cut into
//! pieces at every possible place.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use companion::{LinkConfig, LinkEvent, LinkStatus, RelayKey, RelayLink};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What one connection of a stand-in relay writes after its response head, in pieces.
type Script = Arc<dyn Fn(usize) -> Vec<Vec<u8>> + Send + Sync>;

/// A relay stand-in: connection `n` gets `script(n)`, written piece by piece (each piece sent
/// on its own), then the connection is closed. Returns the stream address and the
/// `Last-Event-ID` each connection presented.
async fn scripted_relay(script: Script) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    scripted_relay_of(script, false).await
}

/// [`scripted_relay`], as a relay from before store epochs when `bare_ids_only`: it answers
/// 400 to a `Last-Event-ID` of the form `<epoch>:<id>`.
async fn scripted_relay_of(
    script: Script,
    bare_ids_only: bool,
) -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let resumed_after = Arc::new(Mutex::new(Vec::new()));
    let seen = resumed_after.clone();
    tokio::spawn(async move {
        let mut connection = 0;
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            socket.set_nodelay(true).unwrap();
            let mut request = Vec::new();
            let mut chunk = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&request).to_string();
            let last_event_id = head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("last-event-id")
                    .then(|| value.trim().to_owned())
            });
            let refused =
                bare_ids_only && last_event_id.as_deref().is_some_and(|id| id.contains(':'));
            seen.lock().unwrap().push(last_event_id);
            let pieces = script(connection);
            connection += 1;
            tokio::spawn(async move {
                if refused {
                    let _ = socket
                        .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .await;
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                            trubka-stream: caught-up\r\nconnection: close\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for piece in pieces {
                    if socket.write_all(&piece).await.is_err() || socket.flush().await.is_err() {
                        return;
                    }
                    // Give the reader a chance to take the piece before the next one is written.
                    tokio::task::yield_now().await;
                }
            });
        }
    });
    (format!("http://{address}/events/stream"), resumed_after)
}

fn relay_event(id: i64, body: &Value) -> String {
    json!({
        "id": id,
        "receivedAt": "2026-12-03T09:00:00Z",
        "kind": "callNotifications",
        "body": body,
    })
    .to_string()
}

/// Starts a link with `config` on `url`, resuming after `after`.
fn start(
    url: &str,
    after: Option<i64>,
    config: LinkConfig,
) -> (mpsc::Receiver<LinkEvent>, CancellationToken) {
    let link = RelayLink::new(url.parse().unwrap(), RelayKey::new("trk_test"), config).unwrap();
    let (tx, rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    tokio::spawn(link.run(after, tx, cancel.clone()));
    (rx, cancel)
}

/// The next link event that `pred` accepts, failing the test after 20 s without one.
async fn next_matching(
    events: &mut mpsc::Receiver<LinkEvent>,
    what: &str,
    pred: impl Fn(&LinkEvent) -> bool,
) -> LinkEvent {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let event = events.recv().await.expect("the link ended");
            if pred(&event) {
                return event;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} within 20 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconnect_delay_is_the_one_the_relay_asks_for_with_retry() {
    let script: Script = Arc::new(|_| {
        vec![
            b"retry: 7000\n\n".to_vec(),
            b"event: epoch\ndata: {\"epoch\":\"00000000000000ab\"}\n\n".to_vec(),
            b"event: caught-up\ndata: {\"lastId\":0,\"at\":\"2026-12-03T09:00:00Z\"}\n\n".to_vec(),
        ]
    });
    let (url, _) = scripted_relay(script).await;
    let (mut events, cancel) = start(&url, None, LinkConfig::default());
    let down = next_matching(&mut events, "the link going down", |e| {
        matches!(e, LinkEvent::Status(LinkStatus::Reconnecting { .. }))
    })
    .await;
    let LinkEvent::Status(LinkStatus::Reconnecting { retry_in, .. }) = down else {
        unreachable!()
    };
    // The relay asked for 7 s; jitter only ever adds (a quarter at most), so no app comes back
    // earlier than the relay asked.
    assert!(
        retry_in >= Duration::from_secs(7) && retry_in <= Duration::from_millis(8750),
        "the link waits {retry_in:?} after the relay asked for 7 s"
    );
    cancel.cancel();
}

/// Two connections' worth of the epoch script: event 5 on the first, then the relay goes away.
fn epoch_script() -> Script {
    Arc::new(|connection| {
        let mut pieces = vec![
            b"retry: 100\n\n".to_vec(),
            b"event: epoch\ndata: {\"epoch\":\"00000000000000ab\"}\n\n".to_vec(),
        ];
        if connection == 0 {
            let event = relay_event(5, &json!({"event": "callNotifications"}));
            pieces.push(
                format!("id: 00000000000000ab:5\nevent: callNotifications\ndata: {event}\n\n")
                    .into_bytes(),
            );
        }
        pieces.push(b"event: caught-up\ndata: {\"lastId\":5}\n\n".to_vec());
        pieces
    })
}

fn quick() -> LinkConfig {
    LinkConfig {
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        ..LinkConfig::default()
    }
}

/// Waits until the relay has seen `n` connections; their `Last-Event-ID`s.
async fn resumed_after(seen: &Arc<Mutex<Vec<Option<String>>>>, n: usize) -> Vec<Option<String>> {
    tokio::time::timeout(Duration::from_secs(20), async {
        while seen.lock().unwrap().len() < n {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{n} connections within 20 s"));
    seen.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_from_before_epochs_is_resumed_by_the_bare_id() {
    let (url, seen) = scripted_relay_of(epoch_script(), true).await;
    let (mut events, cancel) = start(&url, Some(4), quick());
    next_matching(
        &mut events,
        "event 5",
        |e| matches!(e, LinkEvent::Event(event) if event.id == 5),
    )
    .await;
    let resumed = resumed_after(&seen, 3).await;
    assert_eq!(resumed[1].as_deref(), Some("00000000000000ab:5"));
    assert_eq!(resumed[2].as_deref(), Some("5"), "{resumed:?}");
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_resumes_after_the_epoch_and_id_the_relay_gave() {
    let (url, seen) = scripted_relay(epoch_script()).await;
    let (mut events, cancel) = start(&url, Some(4), quick());
    next_matching(
        &mut events,
        "event 5",
        |e| matches!(e, LinkEvent::Event(event) if event.id == 5),
    )
    .await;
    let resumed = resumed_after(&seen, 2).await;
    // The first connection has only the call log's bare cursor; once the relay has named its
    // store's epoch, a resume point carries it, so that a store replaced in between is noticed.
    assert_eq!(resumed[0].as_deref(), Some("4"));
    assert_eq!(resumed[1].as_deref(), Some("00000000000000ab:5"));
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_event_cut_into_small_pieces_arrives_whole() {
    // A quarter of a megabyte of Cyrillic (two bytes a letter) and ASCII, in 7-byte pieces: the
    // cuts fall inside letters, inside `data:`, and between the CR and LF of a line's end.
    let names: Vec<String> = (0..4000)
        .map(|n| format!("Абонент №{n} — «Рога и копыта»"))
        .collect();
    let body = json!({"event": "callNotifications", "names": names});
    let event = relay_event(1, &body);
    let wire =
        format!("retry: 3000\r\n\r\nid: 1:1\r\nevent: callNotifications\r\ndata: {event}\r\n\r\n");
    assert!(wire.len() > 200_000, "{}", wire.len());
    let bytes = wire.into_bytes();
    let script: Script = Arc::new(move |_| bytes.chunks(7).map(<[u8]>::to_vec).collect());
    let (url, _) = scripted_relay(script).await;
    let (mut events, cancel) = start(&url, None, LinkConfig::default());
    let arrived = next_matching(&mut events, "the large event", |e| {
        matches!(e, LinkEvent::Event(_))
    })
    .await;
    let LinkEvent::Event(arrived) = arrived else {
        unreachable!()
    };
    assert_eq!(arrived.id, 1);
    assert_eq!(arrived.body, body);
    cancel.cancel();
}

/// The team relay's admin console shows each seat's app version from the stream request's
/// `User-Agent: Trubka/<version>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_request_names_the_app_and_its_version() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events/stream", listener.local_addr().unwrap());
    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut chunk = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&chunk[..n]),
            }
        }
        let _ = head_tx.send(String::from_utf8_lossy(&request).to_string());
    });
    let (_events, cancel) = start(&url, None, LinkConfig::default());
    let head = tokio::time::timeout(Duration::from_secs(20), head_rx)
        .await
        .expect("the link never asked for the stream")
        .unwrap();
    cancel.cancel();
    let agent = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("user-agent")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    assert_eq!(
        agent,
        format!("Trubka/{}", env!("CARGO_PKG_VERSION")),
        "{head}"
    );
}
