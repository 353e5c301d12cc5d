//! The real `trubka-relay` binary, killed with SIGKILL under load, loses nothing it answered
//! 2xx for: after a restart, a client streaming from the start receives every such event,
//! exactly once, in id order.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

use crate::util::SseReader;

const BINARY: &str = env!("CARGO_BIN_EXE_trubka-relay");
const SENDERS: usize = 64;
const EVENTS: usize = 10_000;
/// The relay is killed once this many events were answered 2xx.
const KILL_AFTER: usize = 5_000;

pub fn run(config: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new(BINARY)
        .arg("--config")
        .arg(config)
        .args(["--log", "warn"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "trubka-relay {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

pub struct Running {
    pub child: Child,
    pub base: String,
    pub events_url: String,
    /// The stream's address as announced (the public URL's, when one is configured).
    pub stream_url: String,
}

pub async fn serve(config: &Path) -> Running {
    let running = serve_on(config, "127.0.0.1:0").await;
    // With no public URL configured, the stream is announced at the address it listens on.
    assert_eq!(
        running.stream_url,
        format!("{}/events/stream", running.base)
    );
    running
}

/// `trubka-relay serve` listening on `listen`, once it says where.
pub async fn serve_on(config: &Path, listen: &str) -> Running {
    let mut child = Command::new(BINARY)
        .arg("--config")
        .arg(config)
        .args(["--log", "warn", "serve", "--listen", listen])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let announced: serde_json::Value = serde_json::from_str(&line).unwrap();
    let listen = announced["listen"].as_str().unwrap();
    let redirect_uri = announced["redirectUri"].as_str().unwrap();
    Running {
        child,
        base: format!("http://{listen}"),
        events_url: format!("{redirect_uri}/events"),
        stream_url: announced["streamUrl"].as_str().unwrap().to_owned(),
    }
}

fn body(n: usize) -> String {
    format!(
        r#"{{"event":"callNotifications","result":{{"callInfo":{{"call":{{"id":"leg-{n}"}},"state":"trying"}}}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    run(&config, &["init", "--listen", "127.0.0.1:0"]);
    let key = run(&config, &["keys", "add", "seat-1"]).trim().to_owned();
    assert!(key.starts_with("trk_"));
    assert!(run(&config, &["keys", "list"]).contains("seat-1"));

    let mut relay = serve(&config).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let acked_count = Arc::new(AtomicUsize::new(0));
    let acked: Arc<Mutex<HashMap<usize, i64>>> = Arc::default();
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (http, url) = (http.clone(), relay.events_url.clone());
        let (next, acked_count, acked) = (next.clone(), acked_count.clone(), acked.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= EVENTS {
                    return;
                }
                let Ok(response) = http.post(&url).body(body(n)).send().await else {
                    return;
                };
                if response.status() != 200 {
                    return;
                }
                let Ok(answer) = response.json::<serde_json::Value>().await else {
                    return;
                };
                acked.lock().await.insert(n, answer["id"].as_i64().unwrap());
                acked_count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(40);
    while acked_count.load(Ordering::Relaxed) < KILL_AFTER {
        assert!(
            Instant::now() < deadline,
            "the relay acknowledged too slowly"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    relay.child.start_kill().unwrap();
    relay.child.wait().await.unwrap();
    for sender in senders {
        sender.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().await);
    assert!(acked.len() >= KILL_AFTER);
    assert!(
        acked.len() < EVENTS,
        "the kill came after every event was sent"
    );

    // Restart on the same store; a sentinel marks the end of what the stream must deliver.
    let relay = serve(&config).await;
    let sentinel = http
        .post(&relay.events_url)
        .body(r#"{"event":"sentinel"}"#)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let response = http
        .get(format!("{}/events/stream", relay.base))
        .bearer_auth(&key)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = SseReader::new(response);
    let mut last_id = 0;
    let mut streamed: HashMap<String, i64> = HashMap::new();
    loop {
        let frame = stream.next_event(Duration::from_secs(10)).await.unwrap();
        let id = frame.id();
        assert!(
            id > last_id,
            "id {id} after {last_id}: out of order or repeated"
        );
        last_id = id;
        if id == sentinel {
            break;
        }
        let data = frame.json();
        let leg = data["body"]["result"]["callInfo"]["call"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(streamed.insert(leg, id).is_none(), "an event came twice");
    }
    for (n, id) in &acked {
        assert_eq!(
            streamed.get(&format!("leg-{n}")),
            Some(id),
            "event {n}, acknowledged as id {id}, was lost"
        );
    }
}
