//! Saving a call's recording to a folder: the one place the app fetches a file from an address
//! that came from outside (the PBX's `urlRecord`).
//!
//! - **Where it may go.** The address must be a recording link (`call_log::recording_link`:
//!   https, or plain http to this computer for the simulator). Each redirect is checked again
//!   and must also stay on https when the address was https, and may not lead inwards: from a
//!   public host to this computer or to a private network (LAN, link-local, unique-local,
//!   carrier-grade NAT), whether the redirect names the address or a name that resolves to it.
//!   A redirect that fails is never followed; the error names where it pointed.
//! - **What it may cost.** The body is streamed to disk chunk by chunk, never held in memory,
//!   and refused past a size cap (512 MiB by default: hours of call audio). A server that stops
//!   sending for the idle timeout is given up on, without waiting for the total timeout (which
//!   is long enough for a big file on a slow line).
//! - **What it may overwrite: nothing.** The body goes to a hidden temporary file in the
//!   destination folder, which is moved into place only once complete, under a name no file has
//!   (`name.mp3`, else `name-2.mp3`, …, as the app's exports are named: saving the same
//!   recording twice gives a second copy, as a browser does). The move refuses to replace a
//!   file even if one appears meanwhile. A failed download leaves no file behind.

use std::collections::HashSet;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use url::{Host, Url};

/// How far a download may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadLimits {
    /// The largest body accepted, in bytes.
    pub max_bytes: u64,
    /// The longest wait for the answer or for the next piece of the body.
    pub idle_timeout: Duration,
    /// The longest the whole download may take.
    pub total_timeout: Duration,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// How many redirects are followed (each one checked).
    pub max_redirects: usize,
}

impl Default for DownloadLimits {
    fn default() -> Self {
        DownloadLimits {
            // An mp3 call recording is about 0.5–1 MB a minute: hours of a call fit.
            max_bytes: 512 * 1024 * 1024,
            idle_timeout: Duration::from_secs(30),
            // 512 MiB at 1 Mbit/s takes about 70 minutes; a slower line than that is stalled.
            total_timeout: Duration::from_secs(90 * 60),
            connect_timeout: Duration::from_secs(15),
            max_redirects: 5,
        }
    }
}

/// Why a recording was not saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordingDownloadError {
    /// The recording's own address is not one the app fetches.
    #[error("the recording address {address:?} is refused: {reason}")]
    Address {
        /// The address as the PBX sent it.
        address: String,
        /// Why it is refused.
        reason: String,
    },
    /// The server redirected somewhere the app does not follow.
    #[error("the recording server redirected to {to}, which is not followed: {reason}")]
    Redirect {
        /// Where the redirect pointed.
        to: String,
        /// Why it is not followed.
        reason: String,
    },
    /// The recording is larger than the cap.
    #[error("the recording is larger than {} MiB, the most the app saves; nothing was saved", limit_bytes / (1024 * 1024))]
    TooLarge {
        /// The cap, in bytes.
        limit_bytes: u64,
    },
    /// The server stopped sending.
    #[error("the recording server sent nothing for {} s; nothing was saved", idle.as_secs())]
    Stalled {
        /// The idle timeout.
        idle: Duration,
    },
    /// The server answered with an error.
    #[error("the recording server answered HTTP {status}")]
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// The download failed on the way (connection, total timeout).
    #[error("the recording could not be downloaded: {0}")]
    Transport(String),
    /// The file could not be written or moved into place.
    #[error("the recording could not be saved: {0}")]
    Save(String),
}

impl RecordingDownloadError {
    /// The stable code for the UI and the CLI.
    pub fn code(&self) -> error_codes::ErrorCode {
        use error_codes::ErrorCode;
        match self {
            RecordingDownloadError::Address { .. } => ErrorCode::Invalid,
            RecordingDownloadError::Save(_) => ErrorCode::SaveFailed,
            RecordingDownloadError::Redirect { .. }
            | RecordingDownloadError::TooLarge { .. }
            | RecordingDownloadError::Stalled { .. }
            | RecordingDownloadError::Status { .. }
            | RecordingDownloadError::Transport(_) => ErrorCode::DownloadFailed,
        }
    }
}

/// A saved recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedRecording {
    /// Where it was saved.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// How far inside the network an address is. A redirect may not lead further in than the
/// recording's own address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// The internet.
    Public,
    /// A private network: LAN ranges, link-local, unique-local, carrier-grade NAT, unspecified.
    Private,
    /// This computer.
    Loopback,
}

fn ipv4_reach(ip: Ipv4Addr) -> Reach {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Reach::Loopback
    } else if ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || (a == 100 && (64..128).contains(&b))
    {
        Reach::Private
    } else {
        Reach::Public
    }
}

fn ip_reach(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) => ipv4_reach(v4),
        IpAddr::V6(v6) => ipv6_reach(v6),
    }
}

fn ipv6_reach(ip: Ipv6Addr) -> Reach {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return ipv4_reach(v4);
    }
    let first = ip.segments()[0];
    let unique_local = (first & 0xfe00) == 0xfc00; // fc00::/7
    let link_local = (first & 0xffc0) == 0xfe80; // fe80::/10
    if ip.is_loopback() {
        Reach::Loopback
    } else if ip.is_unspecified() || unique_local || link_local {
        Reach::Private
    } else {
        Reach::Public
    }
}

/// The reach of a URL's host as written: a name is public (what it resolves to is checked when
/// it is resolved), except `localhost`.
fn url_reach(url: &Url) -> Reach {
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                Reach::Loopback
            } else {
                Reach::Public
            }
        }
        Some(Host::Ipv4(ip)) => ipv4_reach(ip),
        Some(Host::Ipv6(ip)) => ipv6_reach(ip),
        None => Reach::Public,
    }
}

/// Whether an address of reach `to` may be fetched for a recording whose address is of reach
/// `from`: outward or level, never inward.
fn may_reach(from: Reach, to: Reach) -> bool {
    match to {
        Reach::Public => true,
        Reach::Private => from == Reach::Private,
        Reach::Loopback => from == Reach::Loopback,
    }
}

/// Reads the recording's own address.
fn recording_address(address: &str) -> Result<Url, RecordingDownloadError> {
    let refused = |reason: String| RecordingDownloadError::Address {
        address: address.to_owned(),
        reason,
    };
    let link = call_log::recording_link(address).map_err(|reason| refused(reason.to_owned()))?;
    Url::parse(link).map_err(|e| refused(e.to_string()))
}

/// Why a redirect from the recording's address `origin` to `to` is not followed, if it is not.
fn redirect_refusal(origin: &Url, to: &Url) -> Option<String> {
    if let Err(reason) = call_log::recording_link(to.as_str()) {
        return Some(reason.to_owned());
    }
    if origin.scheme() == "https" && to.scheme() != "https" {
        return Some("it leaves https".into());
    }
    let (from, to) = (url_reach(origin), url_reach(to));
    (!may_reach(from, to)).then(|| refusal_words(to))
}

fn refusal_words(to: Reach) -> String {
    match to {
        Reach::Loopback => "it leads to this computer".into(),
        Reach::Private | Reach::Public => "it leads into a private network".into(),
    }
}

/// The host names redirects have named, lowercased: the names whose addresses are checked.
type RedirectNames = Arc<Mutex<HashSet<String>>>;

/// Resolves names as the system does, but keeps only the addresses a recording from `origin`
/// may reach for a name that a redirect named: a public name that resolves into the LAN is
/// refused like a LAN address. Other names are resolved as they are: the recording's own host
/// (its address passed the recording rule) and an office's proxy, which is often on the LAN
/// (through a proxy the target's name is resolved by the proxy, and only the address check of
/// the redirect rule applies).
struct GuardedResolver {
    redirect_names: RedirectNames,
    origin_reach: Reach,
    refusal: Arc<Mutex<Option<RecordingDownloadError>>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_owned();
        let checked = self
            .redirect_names
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&name.to_ascii_lowercase());
        let origin_reach = self.origin_reach;
        let refusal = self.refusal.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|address| !checked || may_reach(origin_reach, ip_reach(address.ip())))
                .collect();
            if let (true, Some(first)) = (kept.is_empty(), found.first()) {
                let refused = RecordingDownloadError::Redirect {
                    to: name.clone(),
                    reason: format!(
                        "the name resolves to {}",
                        refusal_words(ip_reach(first.ip()))
                    ),
                };
                let words = refused.to_string();
                *refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(refused);
                return Err(words.into());
            }
            let kept: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(kept)
        })
    }
}

/// Downloads recordings under [`DownloadLimits`].
#[derive(Debug, Clone, Default)]
pub struct RecordingFetch {
    limits: DownloadLimits,
    only_roots: Vec<reqwest::Certificate>,
}

impl RecordingFetch {
    /// A fetch with these limits, trusting the system's certificate authorities.
    pub fn new(limits: DownloadLimits) -> Self {
        RecordingFetch {
            limits,
            only_roots: Vec::new(),
        }
    }

    /// Trusts only `root` for https (tests serve https on loopback with their own authority).
    pub fn trusting_only(mut self, root: reqwest::Certificate) -> Self {
        self.only_roots.push(root);
        self
    }

    /// Downloads the recording at `address` into `dir` as `<stem>.<extension>` (or
    /// `<stem>-2.<extension>`, …): never over an existing file, and leaving no file when it
    /// fails. `stem` may come from outside (a leg id): anything but letters, digits, `-` and `_`
    /// becomes `_`.
    pub async fn save(
        &self,
        address: &str,
        dir: &Path,
        stem: &str,
        extension: &str,
    ) -> Result<SavedRecording, RecordingDownloadError> {
        let url = recording_address(address)?;
        let refusal = Arc::new(Mutex::new(None));
        let client = self.client(&url, &refusal)?;
        let refused = || refusal.lock().unwrap_or_else(|p| p.into_inner()).take();
        let limits = self.limits;

        let answer = tokio::time::timeout(limits.idle_timeout, client.get(url).send()).await;
        let mut response = match answer {
            Err(_) => {
                return Err(RecordingDownloadError::Stalled {
                    idle: limits.idle_timeout,
                });
            }
            Ok(Err(e)) => return Err(refused().unwrap_or_else(|| transport(&e, &limits))),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !status.is_success() {
            return Err(RecordingDownloadError::Status {
                status: status.as_u16(),
            });
        }
        if response
            .content_length()
            .is_some_and(|length| length > limits.max_bytes)
        {
            return Err(RecordingDownloadError::TooLarge {
                limit_bytes: limits.max_bytes,
            });
        }

        let file = blocking(temporary_file_in(dir.to_owned())).await?;
        let (pieces, mut written) = mpsc::channel::<Bytes>(8);
        let writer = tokio::task::spawn_blocking(move || {
            let mut file = file;
            while let Some(piece) = written.blocking_recv() {
                file.write_all(&piece)?;
            }
            file.as_file().sync_all()?;
            Ok::<_, std::io::Error>(file)
        });
        let streamed = stream_body(&mut response, &pieces, &limits).await;
        drop(pieces);
        let file = writer
            .await
            .map_err(|e| RecordingDownloadError::Save(e.to_string()))?;
        // A failed write ends the stream early; its own error says more than the stream's.
        let file = file.map_err(|e| RecordingDownloadError::Save(e.to_string()))?;
        let bytes = match streamed {
            Ok(bytes) => bytes,
            // Dropping the temporary file deletes it.
            Err(e) => return Err(e),
        };
        let path = blocking(move_into_place(
            file,
            dir.to_owned(),
            safe_stem(stem),
            extension.to_owned(),
        ))
        .await?;
        Ok(SavedRecording { path, bytes })
    }

    fn client(
        &self,
        url: &Url,
        refusal: &Arc<Mutex<Option<RecordingDownloadError>>>,
    ) -> Result<reqwest::Client, RecordingDownloadError> {
        let origin = url.clone();
        let max_redirects = self.limits.max_redirects;
        let policy_refusal = refusal.clone();
        let redirect_names = RedirectNames::default();
        let named = redirect_names.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let reason = if attempt.previous().len() > max_redirects {
                Some(format!("more than {max_redirects} redirects"))
            } else {
                redirect_refusal(&origin, attempt.url())
            };
            match reason {
                None => {
                    if let Some(Host::Domain(name)) = attempt.url().host() {
                        named
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(name.to_ascii_lowercase());
                    }
                    attempt.follow()
                }
                Some(reason) => {
                    let refused = RecordingDownloadError::Redirect {
                        to: attempt.url().to_string(),
                        reason,
                    };
                    let words = refused.to_string();
                    *policy_refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(refused);
                    attempt.error(words)
                }
            }
        });
        let resolver = GuardedResolver {
            redirect_names,
            origin_reach: url_reach(url),
            refusal: refusal.clone(),
        };
        let mut builder = reqwest::Client::builder()
            .redirect(policy)
            .dns_resolver(Arc::new(resolver))
            .connect_timeout(self.limits.connect_timeout)
            .timeout(self.limits.total_timeout);
        if !self.only_roots.is_empty() {
            builder = builder.tls_certs_only(self.only_roots.iter().cloned());
        }
        builder
            .build()
            .map_err(|e| RecordingDownloadError::Transport(e.to_string()))
    }
}

fn transport(e: &reqwest::Error, limits: &DownloadLimits) -> RecordingDownloadError {
    if e.is_timeout() {
        RecordingDownloadError::Transport(format!(
            "it did not finish within {} minutes",
            limits.total_timeout.as_secs() / 60
        ))
    } else if e.is_connect() {
        RecordingDownloadError::Transport("the recording server cannot be reached".into())
    } else {
        RecordingDownloadError::Transport(e.to_string())
    }
}

/// Streams the body into `pieces`, within the limits; the number of bytes.
async fn stream_body(
    response: &mut reqwest::Response,
    pieces: &mpsc::Sender<Bytes>,
    limits: &DownloadLimits,
) -> Result<u64, RecordingDownloadError> {
    let mut total: u64 = 0;
    loop {
        let piece = match tokio::time::timeout(limits.idle_timeout, response.chunk()).await {
            Err(_) => {
                return Err(RecordingDownloadError::Stalled {
                    idle: limits.idle_timeout,
                });
            }
            Ok(Err(e)) => return Err(transport(&e, limits)),
            Ok(Ok(None)) => return Ok(total),
            Ok(Ok(Some(piece))) => piece,
        };
        total = total.saturating_add(piece.len() as u64);
        if total > limits.max_bytes {
            return Err(RecordingDownloadError::TooLarge {
                limit_bytes: limits.max_bytes,
            });
        }
        if pieces.send(piece).await.is_err() {
            // The writer stopped: its error is reported.
            return Ok(total);
        }
    }
}

/// Runs file work off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, RecordingDownloadError> + Send + 'static,
) -> Result<T, RecordingDownloadError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| RecordingDownloadError::Save(e.to_string()))?
}

fn temporary_file_in(
    dir: PathBuf,
) -> impl FnOnce() -> Result<tempfile::NamedTempFile, RecordingDownloadError> {
    move || {
        std::fs::create_dir_all(&dir)
            .and_then(|()| {
                tempfile::Builder::new()
                    .prefix(".trubka-")
                    .suffix(".part")
                    .tempfile_in(&dir)
            })
            .map_err(|e| RecordingDownloadError::Save(format!("{}: {e}", dir.display())))
    }
}

/// The most `-N` suffixes tried for a free name.
const MAX_COPIES: usize = 999;

fn move_into_place(
    mut file: tempfile::NamedTempFile,
    dir: PathBuf,
    stem: String,
    extension: String,
) -> impl FnOnce() -> Result<PathBuf, RecordingDownloadError> {
    move || {
        for n in 1..=MAX_COPIES {
            let name = if n == 1 {
                format!("{stem}.{extension}")
            } else {
                format!("{stem}-{n}.{extension}")
            };
            let path = dir.join(name);
            // Never replaces a file, even one that appeared since the name was picked.
            match file.persist_noclobber(&path) {
                Ok(_) => return Ok(path),
                Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => file = e.file,
                Err(e) => {
                    return Err(RecordingDownloadError::Save(format!(
                        "{}: {}",
                        path.display(),
                        e.error
                    )));
                }
            }
        }
        Err(RecordingDownloadError::Save(format!(
            "{} already holds {MAX_COPIES} files named {stem}",
            dir.display()
        )))
    }
}

/// A file name stem from text that may come from outside (a leg id): letters, digits, `-` and
/// `_` only, at most 80 characters, so it can never climb out of the folder. The shell names its
/// exports with it too, so every file the app saves is named by one rule.
pub fn safe_stem(text: &str) -> String {
    let stem: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if stem.is_empty() {
        "trubka".into()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn addresses_are_placed_by_how_far_inside_the_network_they_are() {
        for (text, reach) in [
            ("https://records.mtt.ru/a.mp3", Reach::Public),
            ("https://8.8.8.8/a.mp3", Reach::Public),
            ("https://[2a00:1450::1]/a.mp3", Reach::Public),
            ("http://127.0.0.1:8/a.mp3", Reach::Loopback),
            ("http://localhost/a.mp3", Reach::Loopback),
            ("http://[::1]/a.mp3", Reach::Loopback),
            ("https://10.1.2.3/a.mp3", Reach::Private),
            ("https://172.16.0.1/a.mp3", Reach::Private),
            ("https://192.168.1.10/a.mp3", Reach::Private),
            ("https://169.254.169.254/latest", Reach::Private),
            ("https://100.64.0.1/a.mp3", Reach::Private),
            ("https://0.0.0.0/a.mp3", Reach::Private),
            ("https://[fd00::1]/a.mp3", Reach::Private),
            ("https://[fe80::1]/a.mp3", Reach::Private),
            ("https://[::ffff:192.168.0.1]/a.mp3", Reach::Private),
            ("https://[::ffff:127.0.0.1]/a.mp3", Reach::Loopback),
        ] {
            assert_eq!(url_reach(&url(text)), reach, "{text}");
        }
    }

    #[test]
    fn a_redirect_stays_on_https_and_never_leads_inwards() {
        let public = url("https://records.mtt.ru/a.mp3");
        assert_eq!(
            redirect_refusal(&public, &url("https://cdn.mtt.ru/a.mp3")),
            None
        );
        for (to, why) in [
            ("http://cdn.mtt.ru/a.mp3", "plain http"),
            ("http://127.0.0.1/a.mp3", "leaves https"),
            ("https://127.0.0.1/a.mp3", "this computer"),
            ("https://localhost/a.mp3", "this computer"),
            ("https://192.168.1.10/a.mp3", "private network"),
            ("https://169.254.169.254/latest", "private network"),
            ("https://[fd00::1]/a.mp3", "private network"),
            ("file:///etc/passwd", "no host"),
        ] {
            let reason = redirect_refusal(&public, &url(to)).unwrap_or_default();
            assert!(reason.contains(why), "{to}: {reason:?}");
        }
        // The demo's and the tests' loopback server may redirect on this computer.
        let here = url("http://127.0.0.1:8080/a.mp3");
        assert_eq!(
            redirect_refusal(&here, &url("http://localhost:9/b.mp3")),
            None
        );
        assert!(redirect_refusal(&here, &url("https://192.168.1.10/a.mp3")).is_some());
        // A recording server on the company's own network may stay there.
        let lan = url("https://10.0.0.5/a.mp3");
        assert_eq!(redirect_refusal(&lan, &url("https://10.0.0.6/a.mp3")), None);
        assert!(redirect_refusal(&lan, &url("https://127.0.0.1/a.mp3")).is_some());
    }

    #[tokio::test]
    async fn only_a_name_a_redirect_named_is_held_to_the_rule() {
        use reqwest::dns::Resolve as _;
        let resolver = GuardedResolver {
            redirect_names: RedirectNames::default(),
            origin_reach: Reach::Public,
            refusal: Arc::default(),
        };
        let name = |text: &str| text.parse::<reqwest::dns::Name>().unwrap();
        // The recording's own host, or an office proxy: resolved as it is.
        let found: Vec<SocketAddr> = resolver.resolve(name("localhost")).await.unwrap().collect();
        assert!(found.iter().all(|a| a.ip().is_loopback()) && !found.is_empty());
        // A redirect from a public host named it: it resolves to this computer, so it is refused.
        resolver
            .redirect_names
            .lock()
            .unwrap()
            .insert("localhost".into());
        let refused = resolver.resolve(name("LocalHost")).await.err().unwrap();
        assert!(refused.to_string().contains("this computer"), "{refused}");
        let noted = resolver.refusal.lock().unwrap().clone();
        assert!(
            matches!(noted, Some(RecordingDownloadError::Redirect { .. })),
            "{noted:?}"
        );
    }

    #[test]
    fn a_name_from_outside_stays_in_the_folder() {
        assert_eq!(safe_stem("../../etc/passwd"), "______etc_passwd");
        assert_eq!(safe_stem(""), "trubka");
        assert_eq!(safe_stem("leg-1_a"), "leg-1_a");
    }

    #[test]
    fn refusals_map_to_the_existing_codes() {
        use error_codes::ErrorCode;
        for refused in [
            "http://records.example/answered.mp3",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "not an address",
        ] {
            let address = recording_address(refused).unwrap_err();
            assert_eq!(address.code(), ErrorCode::Invalid, "{refused}");
        }
        assert_eq!(
            RecordingDownloadError::TooLarge { limit_bytes: 1 }.code(),
            ErrorCode::DownloadFailed
        );
        assert_eq!(
            RecordingDownloadError::Save("disk full".into()).code(),
            ErrorCode::SaveFailed
        );
    }
}
