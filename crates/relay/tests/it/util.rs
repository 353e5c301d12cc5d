//! Shared helpers: an in-process relay with short timeouts, and a small SSE reader.

use std::time::Duration;

use futures::StreamExt as _;
use relay::{ClientKey, HookPath, Relay, RelayConfig, RelayHandle};

/// A loopback port free at the moment of asking (for a process that must be told its address
/// before it starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct TestRelay {
    pub handle: RelayHandle,
    pub key: ClientKey,
    pub base: String,
    pub hook: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// A configuration with test-sized timeouts, in a fresh directory.
pub fn test_config(dir: &tempfile::TempDir) -> RelayConfig {
    let mut config = RelayConfig::new(HookPath::generate(), dir.path().join("events.sqlite3"));
    config.heartbeat = Duration::from_millis(200);
    config.retry = Duration::from_millis(100);
    config.oauth_poll_timeout = Duration::from_millis(300);
    config
}

pub async fn start() -> TestRelay {
    start_with(|_| {}).await
}

pub async fn start_with(adjust: impl FnOnce(&mut RelayConfig)) -> TestRelay {
    start_prepared(adjust, |_| {}).await
}

/// A relay whose state `prepare` may adjust before it serves (another clock, say).
pub async fn start_prepared(
    adjust: impl FnOnce(&mut RelayConfig),
    prepare: impl FnOnce(&relay::RelayState),
) -> TestRelay {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    adjust(&mut config);
    let hook = config.hook.expose_secret().to_owned();
    // On the store the configuration names: SQLite, or Postgres when `config.postgres` is set.
    let state = relay::RelayState::open_configured(config).await.unwrap();
    prepare(&state);
    let handle = Relay::start_with_state(state).await.unwrap();
    let key = ClientKey::generate();
    // A second instance on a shared (Postgres) store finds "seat-1" taken: its key gets a label
    // of its own.
    let store = &handle.state().store;
    let mut label = "seat-1".to_owned();
    for instance in 2.. {
        match store.add_client_key(label.clone(), key.hash()).await {
            Err(relay::RelayError::KeyLabelTaken(_)) => label = format!("seat-1 ({instance})"),
            added => {
                added.unwrap();
                break;
            }
        }
    }
    TestRelay {
        base: format!("http://{}", handle.local_addr()),
        handle,
        key,
        hook,
        // The relay is on loopback: no proxy from the system.
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
        _dir: dir,
    }
}

impl TestRelay {
    pub fn events_url(&self) -> String {
        format!("{}/{}/events", self.base, self.hook)
    }

    pub async fn post(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(self.events_url())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Posts and returns the id the relay assigned.
    pub async fn post_ok(&self, body: &str) -> i64 {
        let response = self.post(body.to_owned()).await;
        assert_eq!(response.status(), 200, "posting {body}");
        let answer: serde_json::Value = response.json().await.unwrap();
        answer["id"].as_i64().unwrap()
    }

    pub async fn stream(&self, last_event_id: Option<i64>) -> SseReader {
        let mut request = self
            .http
            .get(format!("{}/events/stream", self.base))
            .bearer_auth(self.key.expose_secret());
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        SseReader::new(response)
    }

    /// The same relay stopped and started again on its store, with the same configuration
    /// (hook, database): what a restart does to everything kept in memory.
    pub async fn restart(self) -> TestRelay {
        let TestRelay {
            handle,
            key,
            hook,
            http,
            _dir,
            ..
        } = self;
        let config = RelayConfig::clone(&handle.state().config);
        handle.shutdown().await.unwrap();
        // On the store the configuration names: SQLite, or Postgres when `config.postgres` is set.
        let state = relay::RelayState::open_configured(config).await.unwrap();
        let handle = Relay::start_with_state(state).await.unwrap();
        TestRelay {
            base: format!("http://{}", handle.local_addr()),
            handle,
            key,
            hook,
            http,
            _dir,
        }
    }

    pub async fn stored_count(&self) -> usize {
        self.handle
            .state()
            .store
            .events_after(relay::store::EventId::START, 100_000)
            .await
            .unwrap()
            .events
            .len()
    }
}

/// One SSE frame, as a client sees it.
#[derive(Debug, Default, Clone)]
pub struct Frame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Option<String>,
    pub retry: Option<u64>,
    pub comments: Vec<String>,
}

impl Frame {
    /// The event's id: the number of its `id: <epoch>:<id>`.
    pub fn id(&self) -> i64 {
        let (_, id) = self.id.as_deref().unwrap().split_once(':').unwrap();
        id.parse().unwrap()
    }

    /// The epoch of its `id: <epoch>:<id>`.
    pub fn epoch(&self) -> &str {
        self.id.as_deref().unwrap().split_once(':').unwrap().0
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.data.as_deref().unwrap()).unwrap()
    }
}

/// Reads SSE frames from a response body.
pub struct SseReader {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
    /// The epoch the stream announced at its start (`event: epoch`), once read.
    pub epoch: Option<String>,
}

impl SseReader {
    pub fn new(response: reqwest::Response) -> Self {
        Self {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
            epoch: None,
        }
    }

    /// The next frame (comments included), or `None` when the stream ends or `wait` passes.
    pub async fn next_frame(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse_frame(&block));
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.buffer.push_str(std::str::from_utf8(&chunk).unwrap()),
                Ok(Some(Err(_)) | None) | Err(_) => return None,
            }
        }
    }

    /// The next frame that carries an event (skipping retry hints, heartbeats, the epoch
    /// announced at the start, which it keeps in `epoch`, and the end-of-backlog marker, which
    /// `stream::the_end_of_the_backlog_is_marked_once` checks), or `None` when the stream ends
    /// or `wait` passes.
    pub async fn next_event(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_frame(left).await?;
            if frame.event.as_deref() == Some("epoch") {
                let epoch = frame.json()["epoch"].as_str().unwrap().to_owned();
                self.epoch = Some(epoch);
                continue;
            }
            if frame.event.as_deref() == Some("caught-up") {
                continue;
            }
            if frame.id.is_some() || frame.event.is_some() {
                return Some(frame);
            }
        }
    }
}

fn parse_frame(block: &str) -> Frame {
    let mut frame = Frame::default();
    for line in block.lines() {
        if let Some(comment) = line.strip_prefix(':') {
            frame.comments.push(comment.trim().to_owned());
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => frame.id = Some(value.to_owned()),
            "event" => frame.event = Some(value.to_owned()),
            "retry" => frame.retry = Some(value.parse().unwrap()),
            "data" => match &mut frame.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => frame.data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    frame
}
