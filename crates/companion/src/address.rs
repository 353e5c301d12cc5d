//! Which addresses the app may send secrets to, and which it may listen on.
//!
//! The relay gets the relay key and hands back the call events and the sign-in code; MTT's OAuth
//! and API hosts get the client secret and the tokens. Over plain http all of that travels in
//! clear, so each must be https, except on this computer (the demo, the simulator, a relay on
//! the same machine), where nothing crosses a network.

use url::{Host, Url};

/// Whether `url` names this computer: 127.0.0.0/8, ::1 or `localhost`.
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Reads an address secrets are sent to: https, or http to this computer only. The error says
/// why, in words for the operator.
pub fn secure_url(text: &str, what: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_host(&url) => Ok(url),
        "http" => Err(format!(
            "{text:?} is plain http to another computer, so {what} would travel unencrypted; use https:// (plain http:// only to 127.0.0.1, ::1 or localhost)"
        )),
        _ => Err(format!(
            "{text:?} must be an https:// address, like https://relay.example.com"
        )),
    }
}

/// What travels to and from the relay, for [`secure_url`]'s words.
pub const RELAY_CARRIES: &str = "the relay key, the call events and the sign-in code";

/// What travels to MTT's hosts, for [`secure_url`]'s words.
pub const MTT_CARRIES: &str = "the client secret and the tokens";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_this_computer_only() {
        for here in [
            "http://127.0.0.1/",
            "http://127.255.0.1/",
            "http://[::1]:1/",
            "http://localhost:8/",
        ] {
            assert!(is_loopback_host(&Url::parse(here).unwrap()), "{here}");
        }
        for there in [
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://localhost.evil.example/",
            "http://0.0.0.0/",
            "file:///etc/passwd",
        ] {
            assert!(!is_loopback_host(&Url::parse(there).unwrap()), "{there}");
        }
    }
}
