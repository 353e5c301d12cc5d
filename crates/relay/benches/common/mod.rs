//! What the relay's benchmarks (`intake.rs`, `limits.rs`, `team.rs`) share: their sizes from the
//! environment, percentiles, the webhook body they post, a relay with one stream key, reading
//! Server-Sent Events frames, and running only under `cargo bench`.

use std::time::Duration;

use relay::{ClientKey, Relay, RelayConfig, RelayHandle};

/// Concurrent webhook senders in the flat-out intake phases.
pub const SENDERS: usize = 64;

/// The size in environment variable `name`, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0.0–1.0) of `sorted`, nearest rank.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A `callNotifications` webhook for call `id`; with `sent_micros`, the moment it was sent
/// travels with it for a reader that measures the lag.
pub fn notification(id: &str, sent_micros: Option<u128>) -> String {
    let sent = sent_micros.map_or(String::new(), |micros| format!(r#","sent":{micros}"#));
    format!(
        r#"{{"event":"callNotifications","result":{{"callInfo":{{"call":{{"id":"{id}","tag":"t"}},"caller":{{"id":"78124241500"}},"callee":{{"id":"74996497803"}},"startTime":"2020-06-02 11:18:16","state":"trying","transportId":"10.0.0.1:5073","type":"incoming"{sent}}}}}}}"#
    )
}

/// Starts a relay with `config` and one client key for its event stream.
pub async fn relay_with_key(config: RelayConfig) -> (RelayHandle, ClientKey) {
    let relay = Relay::start(config).await.unwrap();
    let key = ClientKey::generate();
    relay
        .state()
        .store
        .add_client_key("bench".into(), key.hash())
        .await
        .unwrap();
    (relay, key)
}

/// The complete frames (up to and including their blank line) at the start of `buffer`, taken
/// out of it; a partial frame stays for the next chunk.
pub fn drain_frames(buffer: &mut Vec<u8>) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    while let Some(end) = buffer.windows(2).position(|pair| pair == b"\n\n") {
        frames.push(buffer.drain(..end + 2).collect());
    }
    frames
}

/// Runs `bench` on a multi-threaded runtime with a scratch directory, when `cargo bench` asked
/// for it (`--bench`); `cargo test --benches` passes nothing and only wants the program to build
/// and exit.
pub fn run<F: Future<Output = ()>>(bench: impl FnOnce(tempfile::TempDir) -> F) {
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // On the build directory's disk, not a RAM-backed /tmp: fsync must cost what it costs.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    runtime.block_on(bench(dir));
}
