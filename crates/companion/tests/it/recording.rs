//! Saving a recording against recording servers on 127.0.0.1 (plain http, and https with a test
//! authority of our own): where redirects may lead, the size cap, a stalled server, and that no
//! existing file is ever replaced.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use companion::{DownloadLimits, ErrorCode, RecordingDownloadError, RecordingFetch};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

const CA: &[u8] = include_bytes!("../fixtures/tls/ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("../fixtures/tls/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("../fixtures/tls/server.key");

/// The test's cap: 1 MiB.
const CAP: u64 = 1 << 20;

/// A recording's bytes: 3/4 MiB that are not all alike, so a lost or repeated piece shows.
pub fn recording() -> Vec<u8> {
    (0..(3u32 << 18))
        .map(|n| (n.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect()
}

fn redirect(to: String) -> impl IntoResponse {
    (StatusCode::FOUND, [(header::LOCATION, to)])
}

/// What both servers serve. `http` is the plain server's address (for the https server's
/// redirect off https).
fn routes(http: Option<SocketAddr>) -> Router {
    Router::new()
        .route("/rec.mp3", get(|| async { recording() }))
        .route("/moved.mp3", get(|| async { redirect("/rec.mp3".into()) }))
        .route(
            "/to-lan.mp3",
            get(|| async { redirect("https://[fd00::1]:9/rec.mp3".into()) }),
        )
        .route(
            "/to-http.mp3",
            get(move || async move {
                let http = http.map(|a| a.to_string()).unwrap_or_default();
                redirect(format!("http://{http}/rec.mp3"))
            }),
        )
        .route(
            "/big-declared.mp3",
            get(|| async { vec![7u8; 2 * CAP as usize] }),
        )
        .route(
            "/big-streamed.mp3",
            get(|| async {
                let piece = bytes::Bytes::from(vec![7u8; 64 << 10]);
                let pieces = futures::stream::iter(
                    (0..40).map(move |_| Ok::<_, std::io::Error>(piece.clone())),
                );
                Body::from_stream(pieces)
            }),
        )
        .route(
            "/stalls.mp3",
            get(|| async {
                let start = futures::stream::iter([Ok::<_, std::io::Error>(
                    bytes::Bytes::from_static(b"ID3"),
                )]);
                use futures::StreamExt as _;
                Body::from_stream(start.chain(futures::stream::pending()))
            }),
        )
}

/// An https listener on 127.0.0.1 with the test authority's certificate.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, address)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// The two recording servers: plain http and https, on 127.0.0.1.
pub struct Servers {
    pub http: SocketAddr,
    pub https: SocketAddr,
}

pub async fn servers() -> Servers {
    let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = plain.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(plain, routes(None)).await });

    let certs = CertificateDer::pem_slice_iter(SERVER_CERT)
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let tls = TlsListener {
        tcp: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    };
    let https = tls.tcp.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(tls, routes(Some(http))).await });
    Servers { http, https }
}

fn fetch(limits: DownloadLimits) -> RecordingFetch {
    RecordingFetch::new(limits).trusting_only(reqwest::Certificate::from_pem(CA).unwrap())
}

fn limits() -> DownloadLimits {
    DownloadLimits {
        max_bytes: CAP,
        ..DownloadLimits::default()
    }
}

/// The names in `dir`, sorted, hidden ones (a temporary file) included.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_lands_intact_over_https_and_over_http_on_this_computer() {
    let servers = servers().await;
    let dir = tempfile::tempdir().unwrap();
    for (n, address) in [
        format!("https://{}/rec.mp3", servers.https),
        format!("http://{}/rec.mp3", servers.http),
        format!("http://{}/moved.mp3", servers.http),
    ]
    .iter()
    .enumerate()
    {
        let saved = fetch(limits())
            .save(address, dir.path(), &format!("leg-{n}"), "mp3")
            .await
            .unwrap_or_else(|e| panic!("{address}: {e}"));
        assert_eq!(saved.path, dir.path().join(format!("leg-{n}.mp3")));
        assert_eq!(saved.bytes, recording().len() as u64);
        assert!(
            std::fs::read(&saved.path).unwrap() == recording(),
            "{address}"
        );
    }
    assert_eq!(
        names_in(dir.path()),
        ["leg-0.mp3", "leg-1.mp3", "leg-2.mp3"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_from_https_to_http_is_not_followed() {
    let servers = servers().await;
    let dir = tempfile::tempdir().unwrap();
    let address = format!("https://{}/to-http.mp3", servers.https);
    let error = fetch(limits())
        .save(&address, dir.path(), "leg", "mp3")
        .await
        .unwrap_err();
    let RecordingDownloadError::Redirect { to, reason } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(to, &format!("http://{}/rec.mp3", servers.http));
    assert!(reason.contains("leaves https"), "{reason}");
    assert_eq!(error.code(), ErrorCode::DownloadFailed);
    assert!(
        names_in(dir.path()).is_empty(),
        "{:?}",
        names_in(dir.path())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_into_the_lan_is_not_followed() {
    let servers = servers().await;
    let dir = tempfile::tempdir().unwrap();
    let address = format!("http://{}/to-lan.mp3", servers.http);
    let error = fetch(limits())
        .save(&address, dir.path(), "leg", "mp3")
        .await
        .unwrap_err();
    let RecordingDownloadError::Redirect { to, reason } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(to, "https://[fd00::1]:9/rec.mp3");
    assert!(reason.contains("private network"), "{reason}");
    assert!(
        names_in(dir.path()).is_empty(),
        "{:?}",
        names_in(dir.path())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_over_the_cap_is_refused_and_leaves_no_file() {
    let servers = servers().await;
    let dir = tempfile::tempdir().unwrap();
    // One says its length up front; the other streams without one and is cut off on the way.
    for path in ["big-declared.mp3", "big-streamed.mp3"] {
        let address = format!("http://{}/{path}", servers.http);
        let error = fetch(limits())
            .save(&address, dir.path(), "leg", "mp3")
            .await
            .unwrap_err();
        assert_eq!(
            error,
            RecordingDownloadError::TooLarge { limit_bytes: CAP },
            "{path}"
        );
        assert_eq!(error.code(), ErrorCode::DownloadFailed);
        assert!(error.to_string().contains("larger than 1 MiB"), "{error}");
        assert!(
            names_in(dir.path()).is_empty(),
            "{path}: {:?}",
            names_in(dir.path())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_stops_sending_is_given_up_on_and_leaves_no_file() {
    let servers = servers().await;
    let dir = tempfile::tempdir().unwrap();
    let quick = DownloadLimits {
        idle_timeout: Duration::from_millis(500),
        ..limits()
    };
    let address = format!("http://{}/stalls.mp3", servers.http);
    let error = fetch(quick)
        .save(&address, dir.path(), "leg", "mp3")
        .await
        .unwrap_err();
    assert!(
        matches!(error, RecordingDownloadError::Stalled { .. }),
        "{error:?}"
    );
    assert!(
        names_in(dir.path()).is_empty(),
        "{:?}",
        names_in(dir.path())
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_file_is_never_overwritten_nor_a_link_followed() {
    let servers = servers().await;
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let mine = dir.path().join("trubka-recording-leg.mp3");
    std::fs::write(&mine, "the operator's own file").unwrap();
    // A link of the next name, pointing where no file is yet: writing "to" it would create a
    // file outside the folder.
    let outside = elsewhere.path().join("planted.mp3");
    std::os::unix::fs::symlink(&outside, dir.path().join("trubka-recording-leg-2.mp3")).unwrap();

    let address = format!("http://{}/rec.mp3", servers.http);
    let saved = fetch(limits())
        .save(&address, dir.path(), "trubka-recording-leg", "mp3")
        .await
        .unwrap();

    assert_eq!(saved.path, dir.path().join("trubka-recording-leg-3.mp3"));
    assert!(std::fs::read(&saved.path).unwrap() == recording());
    assert_eq!(
        std::fs::read_to_string(&mine).unwrap(),
        "the operator's own file"
    );
    assert!(!outside.exists(), "the download went through the link");
    assert_eq!(
        names_in(dir.path()),
        [
            "trubka-recording-leg-2.mp3",
            "trubka-recording-leg-3.mp3",
            "trubka-recording-leg.mp3"
        ]
    );
}
