//! Issue #14 item 12: reqwest now reads the system's proxy settings (`system-proxy`: the
//! registry on Windows, the system configuration on macOS, the environment everywhere). The
//! simulator only ever talks to the relay or a test's server, so its webhook sender asks no
//! proxy. On Linux the system's proxy is the environment's, which is process-wide: the client
//! runs in a child process (this test binary again, one test) whose `HTTP_PROXY` names a stub
//! on 127.0.0.1 that records what reaches it; `NO_PROXY` is unset, so nothing exempts loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::config::WebhookConfig;

/// A server on 127.0.0.1 that records each request's first line and answers 200.
struct Recorder {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let text = String::from_utf8_lossy(&head);
                log.lock()
                    .unwrap()
                    .push(text.lines().next().unwrap_or_default().to_owned());
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Recorder { addr, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// Runs only in the child process [`sent_with_a_proxy_in_the_environment`] starts: sends one
/// POST with the simulator's webhook client to the address it is given.
#[test]
fn webhook_client_child() {
    let Ok(url) = std::env::var("TRUBKA_PROXY_PROBE_URL") else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answered = runtime.block_on(async {
        let client = super::client(&WebhookConfig::default()).unwrap();
        client.post(&url).body("{}").send().await.is_ok()
    });
    std::process::exit(if answered { 0 } else { 3 });
}

/// What the proxy and the server each saw when the child sent its request to the server with
/// the proxy in its environment.
fn sent_with_a_proxy_in_the_environment() -> (Vec<String>, Vec<String>) {
    let proxy = Recorder::start();
    let server = Recorder::start();
    let proxy_url = format!("http://{}", proxy.addr);
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "--exact",
            "webhook::proxy_tests::webhook_client_child",
            "--nocapture",
        ])
        .env(
            "TRUBKA_PROXY_PROBE_URL",
            format!("http://{}/hook/events", server.addr),
        )
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env("ALL_PROXY", &proxy_url);
    for unset in ["NO_PROXY", "no_proxy", "all_proxy", "REQUEST_METHOD"] {
        child.env_remove(unset);
    }
    let status = child.status().unwrap();
    assert_eq!(status.code(), Some(0), "the child's request got no answer");
    (proxy.seen(), server.seen())
}

#[test]
fn the_webhook_sender_asks_no_proxy_from_the_environment() {
    let (through_proxy, direct) = sent_with_a_proxy_in_the_environment();
    assert_eq!(
        through_proxy,
        Vec::<String>::new(),
        "went through the proxy"
    );
    assert_eq!(direct, vec!["POST /hook/events HTTP/1.1".to_owned()]);
}
