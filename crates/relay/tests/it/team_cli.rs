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

#[tokio::test(flavor = "multi_thread")]
async fn audit_prints_filters_and_exports_csv_with_formulas_neutralised() {
    use relay::store::audit::{AuditStore as _, NewAuditEntry, Outcome};
    use relay::store::team::TeamStore as _;

    let dir = tempfile::tempdir().unwrap();
    let config = init(dir.path());
    ok(&run(
        &config,
        &[
            "seats",
            "add",
            "--name",
            "=HYPERLINK(\"x\")",
            "--workplace",
            "883140582526566",
            "--role",
            "operator",
        ],
    ));
    ok(&run(
        &config,
        &[
            "seats",
            "add",
            "--name",
            "Сергей",
            "--workplace",
            "883140777446532",
            "--role",
            "supervisor",
        ],
    ));
    {
        let store = relay::store::sqlite::SqliteStore::open(
            &dir.path().join(relay::config::DEFAULT_DATABASE),
            relay::store::sqlite::SqliteOptions::default(),
            std::sync::Arc::new(relay::store::NoSink),
        )
        .unwrap();
        let seats = store.seats().await.unwrap();
        assert_eq!(seats.len(), 2);
        for (seat, at, outcome) in [
            (&seats[0], "2026-01-01T10:00:00Z", Outcome::Done),
            (&seats[1], "2026-02-01T10:00:00Z", Outcome::Refused),
        ] {
            store
                .record(NewAuditEntry {
                    at: at.parse().unwrap(),
                    seat_id: seat.profile.id,
                    seat_name: seat.profile.name.clone(),
                    action: "dial".into(),
                    target: "+79001234567 from 883140582526566".into(),
                    outcome,
                    code: (outcome == Outcome::Refused).then(|| "not_your_workplace".into()),
                    detail: "@SUM(A1)".into(),
                })
                .await
                .unwrap();
        }
    }
    let all = ok(&run(&config, &["audit"]));
    assert_eq!(all.lines().count(), 2, "{all}");
    let since = ok(&run(&config, &["audit", "--since", "2026-01-15"]));
    assert!(
        since.contains("Сергей") && !since.contains("HYPERLINK"),
        "{since}"
    );
    let seat = ok(&run(&config, &["audit", "--seat", "Сергей"]));
    assert_eq!(seat.lines().count(), 1, "{seat}");
    let unknown = run(&config, &["audit", "--seat", "Nobody"]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("--seat"),
        "{}",
        text(&unknown.stderr)
    );
    let bad_since = run(&config, &["audit", "--since", "yesterday"]);
    assert!(!bad_since.status.success());

    let csv = dir.path().join("audit.csv");
    ok(&run(&config, &["audit", "--csv", csv.to_str().unwrap()]));
    let written = std::fs::read_to_string(&csv).unwrap();
    assert!(written.starts_with("id,at,seat_id,seat,action,target,outcome,code,detail\r\n"));
    assert!(written.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{written}");
    assert!(written.contains(",'@SUM(A1)\r\n"), "{written}");
    // A cell that starts like a formula and is not only a number is guarded too.
    assert!(
        written.contains(",'+79001234567 from 883140582526566,"),
        "{written}"
    );
    // An export never overwrites a file.
    assert!(
        !run(&config, &["audit", "--csv", csv.to_str().unwrap()])
            .status
            .success()
    );
}

#[test]
fn routing_rules_are_set_from_a_file_checked_first_shown_back_and_the_journal_printed() {
    let dir = tempfile::tempdir().unwrap();
    let config = init(dir.path());
    let file = dir.path().join("routing.toml");
    std::fs::write(
        &file,
        "parked = [\"74996497803\"]\ntime_zone = \"Europe/Moscow\"\n\n[routing]\ndeadline_ms = 3000\nrules = [{ kind = \"manager\" }, { kind = \"unknown_caller\", to = \"883140777551401\" }]\n",
    )
    .unwrap();
    let saved = run(&config, &["routing", "set", file.to_str().unwrap()]);
    ok(&saved);
    assert!(
        text(&saved.stderr).contains("2 rules, 1 parked"),
        "{}",
        text(&saved.stderr)
    );
    let shown = ok(&run(&config, &["routing", "show"]));
    assert!(shown.contains("74996497803"), "{shown}");
    assert!(shown.contains("deadline_ms = 3000"), "{shown}");
    assert!(shown.contains("883140777551401"), "{shown}");
    // What `show` prints, `set` reads back unchanged.
    std::fs::write(&file, &shown).unwrap();
    ok(&run(&config, &["routing", "set", file.to_str().unwrap()]));
    assert_eq!(ok(&run(&config, &["routing", "show"])), shown);

    // A wrong rule is named, and nothing changes.
    std::fs::write(&file, "[routing]\ndeadline_ms = 9000\n").unwrap();
    let refused = run(&config, &["routing", "set", file.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("deadline_ms"),
        "{}",
        text(&refused.stderr)
    );
    std::fs::write(&file, "parked = [\"reception\"]\n").unwrap();
    let refused = run(&config, &["routing", "set", file.to_str().unwrap()]);
    assert!(
        text(&refused.stderr).contains("reception"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(ok(&run(&config, &["routing", "show"])), shown);

    // An empty journal prints nothing.
    assert_eq!(ok(&run(&config, &["routing", "journal"])), "");
}
