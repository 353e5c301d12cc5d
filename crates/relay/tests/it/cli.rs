//! The `trubka-relay` command line: init, keys, and serve's refusals.

use std::path::Path;
use std::process::{Command, Output};

const BINARY: &str = env!("CARGO_BIN_EXE_trubka-relay");

fn run(config: &Path, args: &[&str]) -> Output {
    Command::new(BINARY)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("TRUBKA_RELAY_HOOK")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hook_of(config: &Path) -> String {
    let file = relay::ConfigFile::load(config).unwrap();
    file.hook.unwrap()
}

#[test]
fn init_writes_a_fresh_hook_and_refuses_to_overwrite_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    let first = run(
        &config,
        &["init", "--public-url", "https://relay.example.com"],
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    let hook = hook_of(&config);
    assert!(text(&first.stdout).contains(&format!("https://relay.example.com/{hook}")));

    let again = run(
        &config,
        &["init", "--public-url", "https://relay.example.com"],
    );
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("--force"));
    assert_eq!(hook_of(&config), hook);

    let forced = run(&config, &["init", "--force"]);
    assert!(forced.status.success());
    assert_ne!(hook_of(&config), hook);

    let bad_url = run(
        &dir.path().join("other.toml"),
        &["init", "--public-url", "ftp://x"],
    );
    assert!(!bad_url.status.success());
    assert!(text(&bad_url.stderr).contains("public_url"));
    assert!(!dir.path().join("other.toml").exists());
}

#[test]
fn keys_are_shown_once_listed_without_secrets_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    assert!(run(&config, &["init"]).status.success());
    let added = run(&config, &["keys", "add", "seat-1"]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let key = text(&added.stdout).trim().to_owned();
    assert!(key.starts_with("trk_"));

    let list = text(&run(&config, &["keys", "list"]).stdout);
    assert!(list.contains("seat-1") && list.contains("active"));
    assert!(!list.contains(&key));
    let taken = run(&config, &["keys", "add", "seat-1"]);
    assert!(!taken.status.success());
    assert!(text(&taken.stderr).contains("already exists"));
    let bad_label = run(&config, &["keys", "add", "two words"]);
    assert!(!bad_label.status.success());
    assert!(text(&bad_label.stderr).contains("label"));

    assert!(run(&config, &["keys", "revoke", "seat-1"]).status.success());
    assert!(text(&run(&config, &["keys", "list"]).stdout).contains("revoked"));
    let unknown = run(&config, &["keys", "revoke", "seat-1"]);
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no active client key"));
}

#[test]
fn serve_without_a_hook_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        &dir.path().join("absent.toml"),
        &["serve", "--listen", "127.0.0.1:0"],
    );
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("trubka-relay init"));
}

#[test]
fn serve_reads_the_environment_and_flags_win_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("absent.toml");
    let from_env = Command::new(BINARY)
        .arg("--config")
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TRUBKA_RELAY_HOOK", "too-short")
        .output()
        .unwrap();
    assert!(!from_env.status.success());
    assert!(text(&from_env.stderr).contains("`hook` is not valid"));

    let valid = relay::HookPath::generate();
    let flag_wins = Command::new(BINARY)
        .arg("--config")
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0", "--hook", "too-short"])
        .env("TRUBKA_RELAY_HOOK", valid.expose_secret())
        .output()
        .unwrap();
    assert!(!flag_wins.status.success());
    assert!(text(&flag_wins.stderr).contains("`hook` is not valid"));
}

/// Runs `trubka-relay --config <config> <args>` under `sh` after `setup` (umask, limits).
#[cfg(unix)]
fn run_in_shell(setup: &str, config: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{setup}; config=$1; shift; exec \"$0\" --config \"$config\" \"$@\""
        ))
        .arg(BINARY)
        .arg(config)
        .args(args)
        .env_remove("TRUBKA_RELAY_HOOK")
        .output()
        .unwrap()
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn init_creates_the_hook_file_private_from_the_start_and_replaces_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    // umask 000: the file gets exactly the mode it is created with, so a file created with the
    // default 0666 and narrowed afterwards would be readable by everyone until then.
    let made = run_in_shell("umask 000", &config, &["init"]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert_eq!(mode_of(&config), 0o600);
    let hook = hook_of(&config);

    // Every write of the contents fails (no file may grow: `ulimit -f 0`, with SIGXFSZ ignored
    // so that the write returns an error): whatever `init` created on the way must not be
    // readable by others, and the existing file must stay whole.
    let limited = "umask 000; ulimit -f 0; trap '' XFSZ";
    let failed = run_in_shell(limited, &config, &["init", "--force"]);
    assert!(!failed.status.success());
    assert_eq!(hook_of(&config), hook, "the old configuration was damaged");
    let other = dir.path().join("other.toml");
    let failed = run_in_shell(limited, &other, &["init"]);
    assert!(!failed.status.success());
    assert!(
        text(&failed.stderr).contains("other.toml"),
        "{}",
        text(&failed.stderr)
    );
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            mode_of(&path) & 0o077,
            0,
            "{} is readable by others",
            path.display()
        );
    }
    assert!(!other.exists(), "a failed init left {}", other.display());
}
