//! Issue #14 item 12: reqwest reads the system's proxy settings (`system-proxy`, unified across
//! the workspace). The relay is a server: every HTTP client it builds (in team mode, the one that
//! talks to MTT) asks no proxy, so a proxy in a server's environment or settings never carries its
//! traffic. This reads the relay's sources: a client built without `.no_proxy()` fails here, with
//! where it is.

use std::path::{Path, PathBuf};

/// The relay's source files, without test-only files.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" {
                sources(&path, found);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" {
            found.push(path);
        }
    }
}

/// The places in `text` that build a client which would ask the system's proxy.
fn proxied_clients(text: &str) -> Vec<String> {
    // The code before its `#[cfg(test)]` module, if any.
    let code = text
        .split("#[cfg(test)]\nmod tests {")
        .next()
        .unwrap_or(text);
    let mut found = Vec::new();
    for always in ["Client::new()", "reqwest::get(", "mtt_api::http_client("] {
        if code.contains(always) {
            found.push(always.to_owned());
        }
    }
    for builder in ["Client::builder()", "http_client_builder("] {
        for (at, _) in code.match_indices(builder) {
            let statement = code[at..].split(';').next().unwrap_or_default();
            if !statement.contains(".no_proxy()") {
                found.push(format!("{builder} without .no_proxy()"));
            }
        }
    }
    found
}

#[test]
fn every_client_the_relay_builds_asks_no_proxy() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 10, "found the sources: {files:?}");
    let mut proxied = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for place in proxied_clients(&text) {
            proxied.push(format!("{}: {place}", file.display()));
        }
    }
    assert!(
        proxied.is_empty(),
        "build the relay's clients with .no_proxy() \
         (mtt_api::build_http_client(mtt_api::http_client_builder(config).no_proxy())): {proxied:#?}"
    );
}

#[test]
fn the_check_sees_a_client_that_would_ask_the_proxy() {
    assert_eq!(
        proxied_clients("let c = reqwest::Client::builder()\n.timeout(t)\n.build()?;"),
        vec!["Client::builder() without .no_proxy()"]
    );
    assert!(proxied_clients("let c = reqwest::Client::builder().no_proxy().build()?;").is_empty());
    assert_eq!(
        proxied_clients("let h = mtt_api::http_client(config)?;"),
        vec!["mtt_api::http_client("]
    );
    assert!(
        proxied_clients(
            "let h = mtt_api::build_http_client(mtt_api::http_client_builder(c).no_proxy())?;"
        )
        .is_empty()
    );
}
