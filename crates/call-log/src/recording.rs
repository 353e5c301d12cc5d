//! Which recording addresses a call keeps.
//!
//! A `recorded` notification carries the mp3's address (`urlRecord`), and the history turns it
//! into the call's Recording button. The address comes from outside, so only one the app may
//! fetch is kept: https to any host, or plain http to this machine (the simulator serves its
//! recordings there). Anything else — `javascript:`, `data:`, `file:`, http to another host,
//! text that is no address — is refused: the raw event stays in the log as every event does, the
//! call gets no link, and the log says why. The check looks only at the scheme and the host,
//! as a browser would split them (a `\` ends the host as a `/` does), so that a refused address
//! cannot pass by hiding its host after an `@` or a `#`.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The address to keep as a call's recording, trimmed, or why it is refused.
pub fn recording_link(raw: &str) -> Result<&str, &'static str> {
    let url = raw.trim();
    if url.is_empty() {
        return Err("the address is empty");
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("the address has spaces or control characters in it");
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("it is not a web address (no scheme://host)")?;
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host_port.is_empty() {
        return Err("the address names no host");
    }
    if scheme.eq_ignore_ascii_case("https") {
        Ok(url)
    } else if scheme.eq_ignore_ascii_case("http") {
        if is_loopback(host_port) {
            Ok(url)
        } else {
            Err("plain http is kept only for this machine; a recording must be https")
        }
    } else {
        Err("only https addresses are kept as recordings")
    }
}

/// Whether `host[:port]` is this machine: `localhost`, 127.0.0.0/8 or `[::1]`.
fn is_loopback(host_port: &str) -> bool {
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed
            .split_once(']')
            .and_then(|(host, _)| host.parse::<Ipv6Addr>().ok())
            .is_some_and(|ip| ip.is_loopback());
    }
    let host = host_port
        .rsplit_once(':')
        .map_or(host_port, |(host, _)| host);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_to_this_machine_are_kept() {
        for kept in [
            "https://records.mtt.ru/2020/06/24/leg.mp3",
            "  https://records.mtt.ru/leg.mp3\n",
            "HTTPS://Records.MTT.ru/leg.mp3",
            "https://<serverhost>/<path>/<filename>.mp3",
            "https://user@records.mtt.ru/leg.mp3?token=abc#t=1",
            "http://127.0.0.1:43211/records/leg.mp3",
            "http://127.8.9.10/leg.mp3",
            "http://localhost:8080/leg.mp3",
            "http://[::1]:8080/leg.mp3",
        ] {
            assert_eq!(recording_link(kept), Ok(kept.trim()), "{kept:?}");
        }
    }

    #[test]
    fn everything_else_is_refused_with_a_reason() {
        for refused in [
            "javascript:alert(document.cookie)",
            "javascript://%0aalert(1)",
            "JavaScript://records.mtt.ru/%0aalert(1)",
            "data:audio/mpeg;base64,AAAA",
            "file:///etc/passwd",
            "ftp://records.mtt.ru/leg.mp3",
            "http://records.mtt.ru/leg.mp3",
            "http://127.0.0.1.evil.example/leg.mp3",
            "http://localhost.evil.example/leg.mp3",
            "http://127.0.0.1@evil.example/leg.mp3",
            "http://evil.example\\@127.0.0.1/leg.mp3",
            "http://evil.example#@127.0.0.1/leg.mp3",
            "http://[::2]/leg.mp3",
            "https:///leg.mp3",
            "https://records.mtt.ru/a b.mp3",
            "https://records.mtt.ru/\u{7}.mp3",
            "records.mtt.ru/leg.mp3",
            "",
            "   ",
        ] {
            assert!(recording_link(refused).is_err(), "{refused:?} was kept");
        }
    }
}
