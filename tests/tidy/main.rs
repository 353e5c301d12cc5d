//! Tidy: the architecture's invariants, checked as ordinary tests so that breaking one fails CI
//! (in the manner of rust-analyzer's `tidy.rs`). Each test names the rule from ARCHITECTURE.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

use std::path::{Path, PathBuf};

use repo_tests::{files_below, repo_root};

fn crates() -> Vec<PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(repo_root().join("crates"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").exists())
        .collect();
    dirs.sort();
    dirs
}

fn name(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Lines of a manifest's dependency tables that name `dep`.
fn depends_on(manifest: &str, dep: &str) -> bool {
    manifest.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with(&format!("{dep} ="))
            || line.starts_with(&format!("{dep}="))
            || line.starts_with(&format!("{dep}."))
            || line.starts_with(&format!("{dep}-plugin"))
            || line.starts_with(&format!("[dependencies.{dep}]"))
    })
}

#[test]
fn only_src_tauri_depends_on_tauri() {
    for dir in crates() {
        let manifest = read(&dir.join("Cargo.toml"));
        assert!(
            !depends_on(&manifest, "tauri"),
            "crates/{} depends on Tauri; only src-tauri may (ARCHITECTURE.md)",
            name(&dir)
        );
    }
}

/// SQL keywords as they appear in statements (upper case, as this codebase writes SQL).
const SQL_MARKERS: &[&str] = &[
    "CREATE TABLE",
    "CREATE INDEX",
    "CREATE VIRTUAL TABLE",
    "INSERT INTO",
    "INSERT OR ",
    "DELETE FROM",
    "SELECT ",
    "UPDATE ",
    "PRAGMA ",
];

/// Where SQL may be written: the app's call log, and the relay's own event store — the files
/// under `crates/relay/src/store/sqlite/` (and, when there is one, `store/postgres/`).
fn sql_allowed(path: &Path) -> bool {
    let root = repo_root();
    let relay_store = root.join("crates/relay/src/store");
    path.starts_with(root.join("crates/call-log"))
        || path.starts_with(relay_store.join("sqlite"))
        || path.starts_with(relay_store.join("postgres"))
}

#[test]
fn only_call_log_and_the_relays_event_store_speak_sql() {
    let mut offenders = Vec::new();
    for dir in crates().into_iter().chain([repo_root().join("src-tauri")]) {
        for file in files_below(&dir, ".rs")
            .into_iter()
            .chain(files_below(&dir, ".sql"))
        {
            if sql_allowed(&file) {
                continue;
            }
            let text = read(&file);
            for (n, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                // SQL lives in string literals; look only inside quotes.
                let in_string = code
                    .split('"')
                    .skip(1)
                    .step_by(2)
                    .collect::<Vec<_>>()
                    .join(" ");
                if SQL_MARKERS.iter().any(|m| in_string.contains(m)) {
                    offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
        let manifest = dir.join("Cargo.toml");
        if manifest.exists() && !dir.ends_with("call-log") && !dir.ends_with("relay") {
            assert!(
                !depends_on(&read(&manifest), "rusqlite"),
                "{} depends on rusqlite; only call-log (and the relay's event store) may",
                manifest.display()
            );
        }
    }
    assert!(
        offenders.is_empty(),
        "SQL outside call-log and the relay's event store (crates/relay/src/store/sqlite/):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn only_mtt_api_and_the_simulator_speak_the_pbxs_http() {
    // The PBX's method paths appear in source only where its protocol is implemented.
    let pbx_paths = [
        "\"makeCall\"",
        "\"/makeCall\"",
        "\"transferCall\"",
        "\"terminateCall\"",
        "oauth/token\"",
    ];
    for dir in crates() {
        if matches!(name(&dir).as_str(), "mtt-api" | "mtt-sim") {
            continue;
        }
        for file in files_below(&dir.join("src"), ".rs") {
            let text = read(&file);
            for p in pbx_paths {
                assert!(
                    !text.contains(p),
                    "{} names the PBX endpoint {p}; only mtt-api speaks the PBX's HTTP",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn every_crate_explains_itself_and_uses_the_workspace_lints() {
    for dir in crates() {
        let lib = dir.join("src/lib.rs");
        if lib.exists() {
            let text = read(&lib);
            assert!(
                text.lines().next().is_some_and(|l| l.starts_with("//!")),
                "{} must open with a //! paragraph on why the crate exists",
                lib.display()
            );
        }
        let manifest = read(&dir.join("Cargo.toml"));
        assert!(
            manifest.contains("[lints]") && manifest.contains("workspace = true"),
            "crates/{} must use the workspace lints ([lints] workspace = true)",
            name(&dir)
        );
    }
}

#[test]
fn names_say_what_things_are() {
    let vague = ["Manager", "Helper", "Utils", "Util"];
    let mut offenders = Vec::new();
    for file in files_below(&repo_root().join("crates"), ".rs")
        .into_iter()
        .chain(files_below(&repo_root().join("src-tauri"), ".rs"))
    {
        for (n, line) in read(&file).lines().enumerate() {
            let code = line.trim_start();
            for kw in ["struct ", "enum ", "trait ", "mod "] {
                let Some(rest) = code
                    .split(kw)
                    .nth(1)
                    .filter(|_| code.contains(&format!("pub {kw}")) || code.starts_with(kw))
                else {
                    continue;
                };
                let ident: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if vague.iter().any(|v| ident.ends_with(v))
                    || ident.ends_with("_utils")
                    || ident == "utils"
                    || ident == "helpers"
                {
                    offenders.push(format!("{}:{}: {ident}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "vague names (say what the thing is):\n{}",
        offenders.join("\n")
    );
}
