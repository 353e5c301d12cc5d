//! Tidy: the architecture's invariants, checked as ordinary tests so that breaking one fails CI
//! (in the manner of rust-analyzer's `tidy.rs`). Each test names the rule from ARCHITECTURE.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

use std::collections::{BTreeMap, BTreeSet};
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
/// under `crates/relay/src/store/sqlite/` and `crates/relay/src/store/postgres/`.
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
        if manifest.exists() && !dir.ends_with("relay") {
            for driver in ["tokio-postgres", "deadpool-postgres", "sqlx"] {
                assert!(
                    !depends_on(&read(&manifest), driver),
                    "{} depends on {driver}; only the relay's store (crates/relay/src/store/postgres/) speaks Postgres",
                    manifest.display()
                );
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "SQL outside call-log and the relay's stores (crates/relay/src/store/sqlite/, store/postgres/):\n{}",
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

/// The crates whose modules are checked for import cycles: every library under `crates/` and the
/// desktop shell.
fn crate_sources() -> Vec<PathBuf> {
    crates()
        .into_iter()
        .chain([repo_root().join("src-tauri")])
        .map(|dir| dir.join("src"))
        .filter(|src| src.is_dir())
        .collect()
}

/// The top-level module a source file belongs to (`routing` for `src/routing/rules.rs`), or
/// `None` for the crate roots and binaries, which may use anything.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let top = first.trim_end_matches(".rs").to_owned();
    (!matches!(top.as_str(), "lib" | "main" | "bin")).then_some(top)
}

/// The top-level modules a file names through `crate::…`, in `use` lines, groups and paths.
/// Comments are skipped; everything else (tests included) counts.
fn crate_references(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, d::{e, f}}`: the first name of each top-level item.
            let mut depth = 0usize;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.insert(ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 || item.is_empty() {
                    item.push(c);
                }
            }
            found.insert(ident(&item));
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty() && m != "self");
    found
}

/// Strongly connected sets of more than one module in `edges` (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        found: Vec<Vec<String>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: &str) {
            let n = self.index.len();
            self.index.insert(v.to_owned(), n);
            self.low.insert(v.to_owned(), n);
            self.stack.push(v.to_owned());
            for w in self.edges.get(v).into_iter().flatten() {
                if !self.edges.contains_key(w) {
                    continue;
                }
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v.to_owned(), low);
                } else if self.stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v.to_owned(), low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut set = Vec::new();
                while let Some(w) = self.stack.pop() {
                    let done = w == v;
                    set.push(w);
                    if done {
                        break;
                    }
                }
                if set.len() > 1 {
                    set.sort();
                    self.found.push(set);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in edges.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn no_crate_has_an_import_cycle_between_its_top_level_modules() {
    let mut offenders = Vec::new();
    for src in crate_sources() {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in files_below(&src, ".rs") {
            let Some(top) = top_module(&src, &file) else {
                continue;
            };
            let refs = crate_references(&read(&file));
            edges
                .entry(top.clone())
                .or_default()
                .extend(refs.into_iter().filter(|r| *r != top));
        }
        for set in cycles(&edges) {
            offenders.push(format!("{}: {}", src.display(), set.join(" ↔ ")));
        }
    }
    assert!(
        offenders.is_empty(),
        "import cycles between top-level modules (move what they share into a module of its own):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let text = "use crate::{a, b::{c, d}, e::f};\nfn x() { crate::g::h(); }\n// crate::ignored\n";
    let refs: Vec<_> = crate_references(text).into_iter().collect();
    assert_eq!(refs, ["a", "b", "e", "g"]);
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(cycles(&edges), [vec!["a", "b", "c"]]);
}

/// The lines of a manifest's normal and build dependency tables (not dev-dependencies), which
/// are what a shipped binary links.
fn shipped_dependency_lines(manifest: &str) -> Vec<&str> {
    let mut inside = false;
    let mut lines = Vec::new();
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            let header = t.trim_matches(|c| c == '[' || c == ']');
            inside = (header.ends_with("dependencies") && !header.ends_with("dev-dependencies"))
                || (header.contains("dependencies.") && !header.contains("dev-dependencies."));
            if inside && header.contains("dependencies.") {
                lines.push(t);
            }
            continue;
        }
        if inside {
            lines.push(t);
        }
    }
    lines
}

#[test]
fn the_core_libraries_never_ship_the_simulator_or_the_relay() {
    // Demo mode lives in its own crate; the core, the PBX client and the call log use the
    // simulator and the relay only in their tests. The simulator never shares the client's wire
    // types (ARCHITECTURE.md), so it never depends on mtt-api outside its tests.
    let rules: &[(&str, &[&str])] = &[
        ("companion", &["mtt-sim", "relay"]),
        ("mtt-api", &["mtt-sim", "relay"]),
        ("call-log", &["mtt-sim", "relay"]),
        ("mtt-sim", &["mtt-api"]),
    ];
    for (krate, forbidden) in rules {
        let manifest = read(&repo_root().join("crates").join(krate).join("Cargo.toml"));
        let shipped = shipped_dependency_lines(&manifest).join("\n");
        for dep in *forbidden {
            assert!(
                !depends_on(&shipped, dep),
                "crates/{krate} lists {dep} in its [dependencies]; only [dev-dependencies] may"
            );
        }
    }
}

#[test]
fn the_dependency_table_reader_skips_dev_dependencies() {
    let manifest = "[dependencies]\na = 1\n[dev-dependencies]\nb = 1\n\
                    [target.'cfg(unix)'.dependencies]\nc = 1\n[dependencies.d]\npath = \"x\"\n";
    let shipped = shipped_dependency_lines(manifest).join("\n");
    assert!(depends_on(&shipped, "a") && depends_on(&shipped, "c") && depends_on(&shipped, "d"));
    assert!(!depends_on(&shipped, "b"));
}

/// Most lines a source file may have: past this a file mixes concerns and is split.
const MAX_SOURCE_LINES: usize = 700;

/// Whether a file holds only tests (exempt from the length limit): `tests.rs`, anything under a
/// `tests/` folder.
fn is_test_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "tests.rs")
        || path.components().any(|c| c.as_os_str() == "tests")
}

#[test]
fn no_source_file_is_over_700_lines() {
    let root = repo_root();
    let mut dirs: Vec<PathBuf> = crates().into_iter().map(|d| d.join("src")).collect();
    dirs.push(root.join("src-tauri/src"));
    dirs.push(root.join("ui/src"));
    dirs.push(root.join("console/src"));
    let mut offenders = Vec::new();
    for dir in dirs {
        for suffix in [".rs", ".ts", ".css"] {
            for file in files_below(&dir, suffix) {
                if is_test_file(&file) || file.components().any(|c| c.as_os_str() == "bindings") {
                    continue;
                }
                let lines = read(&file).lines().count();
                if lines > MAX_SOURCE_LINES {
                    offenders.push(format!("{}: {lines} lines", file.display()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "source files over {MAX_SOURCE_LINES} lines (split them along their seams; tests may \
         move to a tests.rs of their own):\n{}",
        offenders.join("\n")
    );
}

/// Top-level folders of the repository that a path in ARCHITECTURE.md may start with.
const REPO_TOP: &[&str] = &[
    "crates/",
    "src-tauri/",
    "ui/",
    "console/",
    "tests/",
    "icons/",
    "docs/",
    ".ci/",
];

/// What looks like a path of the repository in a backticked span: it starts with a top-level
/// folder, or names a source file (`rules.rs`) or a file in a folder (`capabilities/main.json`).
/// A bare `demo.json` is a file the app writes at run time, not a path of the tree.
fn path_like(span: &str) -> bool {
    let sources = [".rs", ".ts", ".html", ".css", ".sql"];
    let files = [".md", ".json", ".toml"];
    !span.contains(' ')
        && !span.contains("::")
        && !span.contains('<')
        && !span.contains('*')
        && (REPO_TOP.iter().any(|t| span.starts_with(t))
            || sources.iter().any(|e| span.ends_with(e))
            || (span.contains('/') && files.iter().any(|e| span.ends_with(e))))
}

/// Whether `name` (a path relative to some folder) exists below `base`, at any depth.
fn exists_below(base: &Path, name: &str) -> bool {
    let name = name.trim_end_matches('/');
    if base.join(name).exists() {
        return true;
    }
    let mut pending = vec![base.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.join(name).exists() || path.ends_with(name) {
                return true;
            }
            let file = entry.file_name();
            if path.is_dir()
                && !matches!(
                    file.to_string_lossy().as_ref(),
                    "node_modules" | "target" | "dist" | ".git"
                )
            {
                pending.push(path);
            }
        }
    }
    false
}

/// Every backticked path ARCHITECTURE.md names, with the folder it is relative to: the repository
/// for paths that start with a top-level folder, else the codemap section's own folder (the
/// `### \`crates/x\`` heading above it).
fn architecture_paths() -> Vec<(PathBuf, String)> {
    let root = repo_root();
    let text = read(&root.join("ARCHITECTURE.md"));
    let mut base = root.clone();
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("## ") {
            base = root.clone();
            continue;
        }
        if let Some(heading) = line.strip_prefix("### ") {
            let name = heading.trim().trim_matches('`');
            base = root.join(name.trim_end_matches('/'));
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && path_like(span) {
                let rel_base = if REPO_TOP.iter().any(|t| span.starts_with(t)) {
                    root.clone()
                } else {
                    base.clone()
                };
                found.push((rel_base, span.to_owned()));
            }
        }
    }
    found
}

#[test]
fn every_path_the_architecture_names_exists() {
    let missing: Vec<String> = architecture_paths()
        .into_iter()
        .filter(|(base, name)| !exists_below(base, name))
        .map(|(base, name)| format!("{name} (looked below {})", base.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist (update it with the change that moved \
         them):\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_crate_has_a_codemap_entry() {
    let text = read(&repo_root().join("ARCHITECTURE.md"));
    for dir in crates() {
        let heading = format!("### `crates/{}`", name(&dir));
        assert!(
            text.contains(&heading),
            "ARCHITECTURE.md's codemap has no `{heading}` section"
        );
    }
}

#[test]
fn the_repository_stands_alone() {
    // Documents the code relies on are copied into docs/ and cited there; a path outside the
    // repository is missing from every clone.
    let root = repo_root();
    let mut offenders = Vec::new();
    let mut files = Vec::new();
    for suffix in [".rs", ".ts", ".md", ".toml", ".json", ".html", ".sh"] {
        files.extend(files_below(&root, suffix));
    }
    files.extend([
        root.join("dev"),
        root.join(".ci/run"),
        root.join("tests/e2e/run"),
    ]);
    for file in files {
        if file.ends_with("tests/tidy/main.rs") || file.ends_with("package-lock.json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if line.contains("../shared") || line.contains("shared/spec") {
                offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "files pointing outside the repository (copy what they cite into docs/):\n{}",
        offenders.join("\n")
    );
}

/// ARCHITECTURE.md, the relay's admin console: no `/admin/api` route without a session. Every
/// console route is built in `crates/relay/src/console/` (no other file of the relay names an
/// `/admin` path), the API's routes only in `console/mod.rs`, whose router is wrapped whole by
/// `session::require`, and the pages' (`assets.rs`) only under `/admin` outside `/admin/api`.
#[test]
fn console_routes_are_built_only_behind_the_session_guard() {
    let src = repo_root().join("crates/relay/src");
    let console = src.join("console");
    for file in files_below(&src, ".rs") {
        let text = read(&file);
        let inside = file.starts_with(&console);
        if !inside {
            assert!(
                !text.contains("\"/admin"),
                "{} names an /admin path: console routes belong in crates/relay/src/console/",
                file.display()
            );
            continue;
        }
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let routes = text.matches(".route(").count() + text.matches(".nest(").count();
        match name.as_str() {
            "mod.rs" => {
                assert!(
                    text.contains(".nest(\"/admin/api\", api(state))")
                        && text.contains("session::require"),
                    "console/mod.rs must nest the API under /admin/api behind session::require"
                );
                let api = text.split("fn api(").nth(1).unwrap();
                let (body, _) = api.split_once("\n}\n").unwrap();
                assert_eq!(
                    routes,
                    body.matches(".route(").count() + 1,
                    "every console/mod.rs route but the API's nest must be inside fn api"
                );
                assert!(
                    body.trim_end()
                        .ends_with("session::require,\n        ))")
                        || body.contains(".layer(middleware::from_fn_with_state(\n            state.clone(),\n            session::require,"),
                    "fn api's router must end wrapped whole by session::require"
                );
            }
            "assets.rs" => {
                for line in text.lines().filter(|l| l.contains(".route(")) {
                    assert!(
                        !line.contains("/admin/api"),
                        "assets.rs routes an API path: {line}"
                    );
                }
            }
            _ => assert_eq!(
                routes,
                0,
                "{} builds routes: console routes are built in console/mod.rs (behind the \
                 session) and console/assets.rs (the pages) only",
                file.display()
            ),
        }
    }
}
