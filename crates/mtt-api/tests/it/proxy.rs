//! Issue #14 item 12: the system's proxy settings. The app's client to MTT (and to the relay)
//! goes through the proxy the system names — reqwest is built with `system-proxy`, which reads
//! Windows' and macOS' own settings and the environment everywhere —, and a server's client (the
//! relay's, built from [`mtt_api::http_client_builder`] with `.no_proxy()`) never does.
//!
//! On Linux the system's proxy is the environment's, which is process-wide: each client runs in
//! a child process (this test binary again, one test) whose `HTTP_PROXY` names a stub on
//! 127.0.0.1 that records what reaches it; `NO_PROXY` is unset, so nothing exempts loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::sync::{Arc, Mutex};

use mtt_api::HttpConfig;

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
/// GET with the client it names to the address it is given.
#[test]
fn client_child() {
    let (Ok(kind), Ok(url)) = (
        std::env::var("TRUBKA_PROXY_PROBE"),
        std::env::var("TRUBKA_PROXY_PROBE_URL"),
    ) else {
        return;
    };
    let config = HttpConfig::default();
    let client = match kind.as_str() {
        "app" => mtt_api::http_client(config),
        "builder" => mtt_api::build_http_client(mtt_api::http_client_builder(config)),
        "no_proxy" => mtt_api::build_http_client(mtt_api::http_client_builder(config).no_proxy()),
        "to" => {
            let to = url::Url::parse(&url).unwrap();
            mtt_api::http_client_to(config, &[&to])
        }
        other => panic!("no client {other}"),
    }
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answered = runtime.block_on(async { client.get(&url).send().await.is_ok() });
    std::process::exit(if answered { 0 } else { 3 });
}

/// What the proxy and the server each saw when the child sent its request to the server with
/// the proxy in its environment.
fn sent_with_a_proxy_in_the_environment(kind: &str) -> (Vec<String>, Vec<String>) {
    let server = Recorder::start();
    let url = format!("http://{}/v1/probe", server.addr);
    let through_proxy = sent_to_with_a_proxy_in_the_environment(kind, &url);
    (through_proxy, server.seen())
}

/// What the proxy saw when the child sent its request to `url` with the proxy in its
/// environment.
fn sent_to_with_a_proxy_in_the_environment(kind: &str, url: &str) -> Vec<String> {
    let proxy = Recorder::start();
    let proxy_url = format!("http://{}", proxy.addr);
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", "proxy::client_child", "--nocapture"])
        .env("TRUBKA_PROXY_PROBE", kind)
        .env("TRUBKA_PROXY_PROBE_URL", url)
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env("ALL_PROXY", &proxy_url);
    for unset in ["NO_PROXY", "no_proxy", "all_proxy", "REQUEST_METHOD"] {
        child.env_remove(unset);
    }
    let status = child.status().unwrap();
    assert_eq!(status.code(), Some(0), "{kind}: the request got no answer");
    proxy.seen()
}

#[test]
fn the_apps_client_goes_through_the_systems_proxy() {
    let (through_proxy, direct) = sent_with_a_proxy_in_the_environment("app");
    let expected = format!(
        "GET http://{}/v1/probe HTTP/1.1",
        through_proxy_target(&through_proxy)
    );
    assert_eq!(through_proxy, vec![expected]);
    assert_eq!(direct, Vec::<String>::new());
}

#[test]
fn a_servers_client_asks_no_proxy_only_with_no_proxy() {
    // Built from the same settings without `.no_proxy()`, the relay's client would have used
    // the proxy in the environment.
    let (through_proxy, direct) = sent_with_a_proxy_in_the_environment("builder");
    assert_eq!(through_proxy.len(), 1, "{through_proxy:?}");
    assert_eq!(direct, Vec::<String>::new());
    let (through_proxy, direct) = sent_with_a_proxy_in_the_environment("no_proxy");
    assert_eq!(
        through_proxy,
        Vec::<String>::new(),
        "went through the proxy"
    );
    assert_eq!(direct, vec!["GET /v1/probe HTTP/1.1".to_owned()]);
}

#[test]
fn the_apps_client_to_this_machine_asks_no_proxy_and_to_another_it_does() {
    // Demo mode: MTT's stand-in and the relay are on loopback, which the office proxy cannot
    // reach (Windows' and macOS' settings, as reqwest reads them, do not exempt it).
    let (through_proxy, direct) = sent_with_a_proxy_in_the_environment("to");
    assert_eq!(
        through_proxy,
        Vec::<String>::new(),
        "went through the proxy"
    );
    assert_eq!(direct, vec!["GET /v1/probe HTTP/1.1".to_owned()]);
    // Another machine goes through the proxy (which answers itself: nothing leaves this one).
    let url = "http://api.mtt.invalid/v1/probe";
    assert_eq!(
        sent_to_with_a_proxy_in_the_environment("to", url),
        vec![format!("GET {url} HTTP/1.1")]
    );
}

#[test]
fn this_machine_is_loopback_only() {
    for here in [
        "http://127.0.0.1:1/",
        "http://127.9.0.1/",
        "http://[::1]:8/",
        "http://LOCALHOST/",
    ] {
        assert!(
            mtt_api::is_on_this_machine(&url::Url::parse(here).unwrap()),
            "{here}"
        );
    }
    for there in [
        "https://api.mtt.ru/",
        "http://0.0.0.0/",
        "http://localhost.evil.example/",
        "http://10.0.0.1/",
    ] {
        assert!(
            !mtt_api::is_on_this_machine(&url::Url::parse(there).unwrap()),
            "{there}"
        );
    }
}

/// The host and port a proxied request line names (`GET http://127.0.0.1:1234/v1/probe …`).
fn through_proxy_target(lines: &[String]) -> String {
    lines
        .first()
        .and_then(|l| l.split("http://").nth(1))
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_owned()
}

/// On Windows and macOS the system's proxy is in the system's settings, which reqwest reads
/// only with its `system-proxy` feature; features unify across the workspace, so the root
/// manifest's reqwest must have it.
#[test]
fn the_workspace_builds_reqwest_with_the_system_proxy() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml")).unwrap();
    let reqwest = manifest
        .lines()
        .find(|l| l.starts_with("reqwest = "))
        .unwrap_or_default();
    assert!(reqwest.contains("\"system-proxy\""), "{reqwest}");
}
