//! Where MTT lives, and the one HTTP client that talks to it.

use std::time::Duration;

use url::Url;

use crate::error::Error;

/// The real authorization server.
pub const MTT_OAUTH_URL: &str = "https://oauth.mtt.ru";
/// The real Open API host.
pub const MTT_API_URL: &str = "https://openapi.mtt.ru";
/// The only scope the document defines; it must be sent exactly so.
pub const SCOPE: &str = "https://mtt.ru/auth.tokens.readwrite";

/// The two base addresses. They default to MTT's and are overridden for the simulator and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The OAuth server's base; `/oauth/authorize` and `/oauth/token` are relative to it.
    pub oauth: Url,
    /// The Open API's base; `/makeCall` and the rest are relative to it.
    pub api: Url,
}

impl Endpoints {
    /// MTT's production hosts.
    pub fn mtt() -> Self {
        Endpoints {
            oauth: fixed_url(MTT_OAUTH_URL),
            api: fixed_url(MTT_API_URL),
        }
    }

    /// Custom bases, e.g. a simulator's.
    pub fn new(oauth: &str, api: &str) -> Result<Self, Error> {
        Ok(Endpoints {
            oauth: parse_base(oauth, "OAuth server")?,
            api: parse_base(api, "Open API")?,
        })
    }

    /// The address of one of the base's paths. Paths are joined as paths even when the base has
    /// one of its own (`http://127.0.0.1:9/sim/` + `makeCall`), which `Url::join` would not do
    /// for a base without a trailing slash.
    pub(crate) fn join(base: &Url, path: &str) -> Url {
        let mut url = base.clone();
        let joined = format!(
            "{}/{}",
            base.path().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        url
    }
}

impl Default for Endpoints {
    fn default() -> Self {
        Self::mtt()
    }
}

#[allow(
    clippy::expect_used,
    reason = "the constants above are valid URLs; a test checks"
)]
fn fixed_url(s: &str) -> Url {
    Url::parse(s).expect("built-in MTT address is valid")
}

fn parse_base(s: &str, what: &str) -> Result<Url, Error> {
    let url = Url::parse(s.trim())
        .map_err(|e| Error::InvalidInput(format!("the {what} address {s:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::InvalidInput(format!(
            "the {what} address {s:?} must be an http(s) address with a host"
        )));
    }
    Ok(url)
}

/// Deadlines for talking to MTT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long one request may take in all.
    pub request_timeout: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
        }
    }
}

/// Builds the HTTP client: rustls, no redirects followed (a redirect from an API or token endpoint
/// is an error to report, not a place to send credentials), the deadlines above, and the
/// system's proxy settings (the desktop's: an office proxy set in Windows or macOS, or
/// `HTTPS_PROXY`).
pub fn http_client(config: HttpConfig) -> Result<reqwest::Client, Error> {
    build_http_client(http_client_builder(config))
}

/// [`http_client`] for talking to `destinations`, asking no proxy when every one of them is on
/// this machine (127.0.0.0/8, ::1, `localhost`: demo mode, the simulator). reqwest's reading of
/// Windows' and macOS' proxy settings does not exempt loopback, and an office proxy cannot reach
/// this machine's servers.
pub fn http_client_to(config: HttpConfig, destinations: &[&Url]) -> Result<reqwest::Client, Error> {
    let builder = http_client_builder(config);
    if !destinations.is_empty() && destinations.iter().all(|url| is_on_this_machine(url)) {
        build_http_client(builder.no_proxy())
    } else {
        build_http_client(builder)
    }
}

/// Whether `url` names this machine: 127.0.0.0/8, ::1 or `localhost`.
pub fn is_on_this_machine(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The same client's settings, for a caller that adds its own before building it with
/// [`build_http_client`] (a server's client calls `.no_proxy()`: the relay asks no proxy).
/// [`crate::Authorizer`] and [`crate::Pbx`] take whichever client they are given.
pub fn http_client_builder(config: HttpConfig) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .user_agent(concat!("trubka/", env!("CARGO_PKG_VERSION")))
}

/// Builds a client from [`http_client_builder`]'s settings, with this crate's error.
pub fn build_http_client(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, Error> {
    builder.build().map_err(|e| Error::Transport {
        host: String::new(),
        detail: format!("could not set up the HTTP client: {e}"),
        retryable: false,
        timeout: None,
    })
}

/// Maps a transport failure to [`Error::Transport`]. Only a failure to connect is marked
/// retryable: after a timeout or a broken response the request may have run.
pub(crate) fn transport_error(url: &Url, e: &reqwest::Error, deadline: Duration) -> Error {
    let host = url.host_str().unwrap_or_default().to_owned();
    let timeout = e.is_timeout().then_some(deadline);
    let detail = if e.is_timeout() {
        format!("no answer within {} s", deadline.as_secs_f32())
    } else if e.is_connect() {
        "the connection could not be made".to_owned()
    } else if e.is_redirect() {
        "the server answered with a redirect, which is never followed".to_owned()
    } else {
        // reqwest's Display includes the URL, which carries no secrets here (tokens travel in
        // headers and bodies only), so its text is safe to show.
        e.to_string()
    };
    Error::Transport {
        host,
        detail,
        retryable: e.is_connect() && !e.is_timeout(),
        timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_addresses_parse_and_paths_join_under_a_base_path() {
        let e = Endpoints::mtt();
        assert_eq!(
            Endpoints::join(&e.api, "makeCall").as_str(),
            "https://openapi.mtt.ru/makeCall"
        );
        let sim =
            Endpoints::new("http://127.0.0.1:9/oauth-base", "http://127.0.0.1:9/api/").unwrap();
        assert_eq!(
            Endpoints::join(&sim.api, "/makeCall").as_str(),
            "http://127.0.0.1:9/api/makeCall"
        );
        assert_eq!(
            Endpoints::join(&sim.oauth, "oauth/token").as_str(),
            "http://127.0.0.1:9/oauth-base/oauth/token"
        );
    }

    #[test]
    fn bad_bases_are_refused_with_the_reason() {
        let err = Endpoints::new("ftp://x", "http://y").unwrap_err();
        assert!(err.to_string().contains("OAuth server"), "{err}");
        assert!(Endpoints::new("http://x", "not a url").is_err());
    }
}
