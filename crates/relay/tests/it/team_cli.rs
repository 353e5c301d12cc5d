//! `trubka-relay` in team mode: init's at-rest key, `seats …`, `team connect`, `team status`,
//! `team rotate-key`.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_trubka-relay");

fn run(config: &Path, args: &[&str]) -> Output {
    Command::new(BINARY)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("TRUBKA_RELAY_HOOK")
        .env_remove("TRUBKA_RELAY_KEY")
        .env_remove("TRUBKA_RELAY_CLIENT_SECRET")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn init(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("relay.toml");
    ok(&run(
        &config,
        &["init", "--public-url", "https://team.example.com"],
    ));
    config
}

#[test]
fn init_makes_the_key_once_and_init_force_never_touches_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = init(dir.path());
    let key = dir.path().join("trubka-relay.key");
    let first = std::fs::read(&key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let forced = ok(&run(&config, &["init", "--force"]));
    assert!(forced.contains("Kept the at-rest key"), "{forced}");
    assert_eq!(std::fs::read(&key).unwrap(), first);
}

#[test]
fn seats_are_added_invited_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let config = init(dir.path());
    let added = ok(&run(
        &config,
        &[
            "seats",
            "add",
            "--name",
            "Alice Smith",
            "--workplace",
            "883140582526566",
            "--role",
            "operator",
        ],
    ));
    assert!(added.contains("Seat 1 added"), "{added}");
    let invite = run(
        &config,
        &["seats", "invite", "Alice Smith", "--expires", "2h"],
    );
    let printed = ok(&invite);
    let mut lines = printed.lines();
    let code = lines.next().unwrap();
    assert_eq!(code.len(), 29, "{printed}");
    let link = team_api::JoinLink::parse(lines.next().unwrap()).unwrap();
    assert_eq!(link.server, "https://team.example.com");
    assert_eq!(link.code, code);

    let listed: Value =
        serde_json::from_str(&ok(&run(&config, &["seats", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["name"], "Alice Smith");
    assert_eq!(listed[0]["role"], "operator");
    assert_eq!(listed[0]["status"], "invited");
    // Nothing secret is listed.
    assert!(!listed.to_string().contains(code));

    ok(&run(&config, &["seats", "revoke", "1"]));
    let listed: Value =
        serde_json::from_str(&ok(&run(&config, &["seats", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["status"], "revoked");

    for (args, says) in [
        (vec!["seats", "invite", "1"], "revoked"),
        (vec!["seats", "revoke", "Nobody"], "no seat"),
        (vec!["seats", "invite", "2"], "no seat"),
        (
            vec![
                "seats",
                "add",
                "--name",
                "Bob",
                "--workplace",
                "x y",
                "--role",
                "operator",
            ],
            "--workplace",
        ),
        (
            vec![
                "seats",
                "add",
                "--name",
                "Bob",
                "--workplace",
                "883140582526566",
                "--role",
                "boss",
            ],
            "operator, supervisor or admin",
        ),
        (
            vec!["seats", "invite", "1", "--expires", "40d"],
            "--expires",
        ),
    ] {
        let refused = run(&config, &args);
        assert!(!refused.status.success(), "{args:?}");
        assert!(
            text(&refused.stderr).contains(says),
            "{args:?}: {}",
            text(&refused.stderr)
        );
    }
}

#[test]
fn team_connect_seals_the_client_and_status_and_rotate_key_follow_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = init(dir.path());
    let status: Value =
        serde_json::from_str(&ok(&run(&config, &["team", "status", "--json"]))).unwrap();
    assert_eq!(status["integration"], "not_connected");
    assert_eq!(status["teamMode"], false);

    let connect = ok(&run(
        &config,
        &[
            "team",
            "connect",
            "--client-id",
            "ccb350cc-6218-40b0-b134-3d290f00b9e7",
            "--client-secret",
            "the-client-secret-from-the-cabinet",
        ],
    ));
    assert!(
        connect.starts_with("https://oauth.mtt.ru/oauth/authorize?"),
        "{connect}"
    );
    assert!(
        connect.contains("redirect_uri=https%3A%2F%2Fteam.example.com%2F"),
        "{connect}"
    );
    let database = std::fs::read(dir.path().join("trubka-relay.sqlite3")).unwrap();
    let wal = std::fs::read(dir.path().join("trubka-relay.sqlite3-wal")).unwrap_or_default();
    for bytes in [database, wal] {
        assert!(
            !bytes
                .windows(b"the-client-secret".len())
                .any(|window| window == b"the-client-secret")
        );
    }
    let status: Value =
        serde_json::from_str(&ok(&run(&config, &["team", "status", "--json"]))).unwrap();
    assert_eq!(status["teamMode"], true);

    let rotated = ok(&run(&config, &["team", "rotate-key"]));
    assert!(rotated.contains("Sealed 1 stored secrets"), "{rotated}");
    ok(&run(&config, &["team", "status"]));

    // Another key: a clear error naming the key file, not garbage.
    let key = dir.path().join("trubka-relay.key");
    std::fs::remove_file(&key).unwrap();
    assert!(relay::sealing::ensure_key_file(&key).unwrap());
    let wrong = run(&config, &["team", "status"]);
    assert!(!wrong.status.success());
    let said = text(&wrong.stderr);
    assert!(said.contains(&key.display().to_string()), "{said}");
    assert!(said.contains("sealed with key"), "{said}");

    // No key at all: team connect says where it looked.
    std::fs::remove_file(&key).unwrap();
    let keyless = run(
        &config,
        &[
            "team",
            "connect",
            "--client-id",
            "x",
            "--client-secret",
            "y",
        ],
    );
    assert!(!keyless.status.success());
    assert!(
        text(&keyless.stderr).contains("no at-rest key"),
        "{}",
        text(&keyless.stderr)
    );
}
