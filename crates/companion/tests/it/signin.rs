//! The browser's answer to a sign-in: the relay's hand-off polled calmly and refused over plain
//! http, and the loopback listener deaf to answers that are not this sign-in's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use companion::signin::from_relay;
use companion::{Companion, ErrorCode, MemoryVault, SecretVault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use crate::session::{World, browser};

/// A stand-in for the relay that answers every request at once with `status`, counting them.
async fn answering(status: &'static str) -> (Url, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let counted = Arc::clone(&counted);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, count)
}

#[tokio::test]
async fn a_relay_answering_not_found_at_once_is_polled_calmly_and_named_at_the_end() {
    let (relay, count) = answering("404 Not Found").await;
    let http = reqwest::Client::new();
    let err = from_relay(&http, &relay, "state", Duration::from_secs(3))
        .await
        .unwrap_err();
    let polls = count.load(Ordering::SeqCst);
    // A poll a second at most: four in three seconds, with room for a late tick.
    assert!(
        (1..=5).contains(&polls),
        "{polls} polls in 3 s: the poll spins"
    );
    let message = err.to_string();
    assert!(
        message.contains(relay.as_str()) && message.contains("not found"),
        "{message}"
    );
}

#[tokio::test]
async fn a_relay_answering_gone_ends_the_wait_at_once() {
    let (relay, count) = answering("410 Gone").await;
    let http = reqwest::Client::new();
    let err = from_relay(&http, &relay, "state", Duration::from_secs(30))
        .await
        .unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 1, "410 is final");
    let message = err.to_string();
    assert!(
        message.contains("already taken or expired") && message.contains("start the sign-in again"),
        "{message}"
    );
}

#[tokio::test]
async fn a_relay_over_plain_http_to_another_computer_is_refused() {
    let http = reqwest::Client::new();
    let relay = Url::parse("http://relay.example.com/").unwrap();
    let err = from_relay(&http, &relay, "state", Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Invalid, "{err}");
    assert!(err.to_string().contains("https://"), "{err}");
}

#[tokio::test]
async fn a_forged_answer_to_the_loopback_listener_is_refused_and_the_sign_in_goes_on() {
    let world = World::start().await;
    let vault: Arc<dyn SecretVault> = Arc::new(MemoryVault::default());
    let app = Companion::open(world.profile("loopback", &vault), vault).unwrap();
    let forged = format!("{}?code=evil&state=forged", world.redirect);
    let (forged_status, real) = tokio::sync::oneshot::channel();
    let signing_in = app.sign_in(move |url| {
        let url = url.clone();
        tokio::spawn(async move {
            // Any web page can make the browser ask the loopback address first.
            let status = reqwest::get(forged).await.map(|r| r.status().as_u16());
            let _ = forged_status.send(status.ok());
            browser(&url);
        });
    });
    let status = tokio::time::timeout(Duration::from_secs(30), signing_in)
        .await
        .expect("the sign-in ends within 30 s")
        .unwrap();
    assert!(status.signed_in);
    assert_eq!(
        real.await.unwrap(),
        Some(400),
        "the forged answer is told no"
    );
}

#[tokio::test]
async fn a_redirect_uri_on_ipv6_loopback_is_listened_on_there() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback on this machine: nothing to check");
        return;
    }
    let world = World::with_redirect("[::1]").await;
    let vault: Arc<dyn SecretVault> = Arc::new(MemoryVault::default());
    let app = Companion::open(world.profile("ipv6", &vault), vault).unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), app.sign_in(browser))
        .await
        .expect("the browser reached the listener on [::1] within 30 s")
        .unwrap();
    assert!(status.signed_in);
}
