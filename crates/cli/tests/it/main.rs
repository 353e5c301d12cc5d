//! The `trubka` command as a person runs it: output, errors on stderr and exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test with its line"
)]

mod contacts;
mod json;
mod routing;

use assert_cmd::Command;
use predicates::prelude::*;

/// `trubka` with its settings and history in a temporary directory and no keyring, so the test
/// touches nothing of the machine's.
fn trubka(dir: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("trubka").unwrap();
    cmd.env("TRUBKA_CONFIG_DIR", dir.path().join("config"))
        .env("TRUBKA_DATA_DIR", dir.path().join("data"))
        .env_remove("TRUBKA_PROFILE")
        .env_remove("TRUBKA_CLIENT_SECRET")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .timeout(std::time::Duration::from_secs(60));
    cmd
}

#[test]
fn a_number_that_cannot_be_dialled_is_refused_with_exit_code_5() {
    let dir = tempfile::tempdir().unwrap();
    trubka(&dir)
        .args(["call", "8 (921) abc"])
        .assert()
        .code(5)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("'a' cannot be dialled"));
}

#[test]
fn a_bad_profile_name_is_refused_with_exit_code_5() {
    let dir = tempfile::tempdir().unwrap();
    trubka(&dir)
        .args(["--profile", "../etc", "status"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("profile name"));
}

#[test]
fn calling_without_an_account_says_what_to_do_with_exit_code_3() {
    let dir = tempfile::tempdir().unwrap();
    trubka(&dir)
        .args(["call", "89219462761"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("trubka account set"));
    trubka(&dir)
        .args(["status", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(r#""configured":false"#));
}

#[test]
fn a_secret_is_never_taken_from_a_flag_and_is_required_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    trubka(&dir)
        .args([
            "account",
            "set",
            "--client-id",
            "c",
            "--redirect-uri",
            "https://relay.example.com/h",
            "--client-secret",
            "x",
        ])
        .assert()
        .code(2);
    trubka(&dir)
        .args([
            "account",
            "set",
            "--client-id",
            "c",
            "--redirect-uri",
            "https://relay.example.com/h",
        ])
        .write_stdin("")
        .assert()
        .code(5)
        .stderr(predicate::str::contains("TRUBKA_CLIENT_SECRET"));
}

#[test]
fn a_broken_settings_file_is_reported_with_exit_code_8_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("config/profiles/default/settings.toml");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, "router = maybe\n").unwrap();
    trubka(&dir)
        .arg("history")
        .assert()
        .code(8)
        .stderr(predicate::str::contains("settings.toml").and(predicate::str::contains("line 1")));
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        "router = maybe\n"
    );
}

#[test]
fn the_demo_runs_headless_prints_calls_and_leaves_a_history() {
    let dir = tempfile::tempdir().unwrap();
    let output = trubka(&dir)
        .args([
            "demo",
            "--calls-per-minute",
            "600",
            "--seconds",
            "4",
            "--json",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("SIMULATED"))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events.iter().any(|e| e["kind"] == "callStarted"),
        "the demo shows calls coming in:\n{text}"
    );
    // Every event has the fields docs/cli-json.md documents for its kind.
    json::assert_events_documented(&text);
    // The demo's calls are in the demo profile's history afterwards.
    let history = trubka(&dir)
        .args(["--profile", "demo", "history", "--json", "--limit", "50"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&history).unwrap();
    assert!(!rows.is_empty());
}

#[test]
fn hangup_and_transfer_check_the_target_and_the_account() {
    let dir = tempfile::tempdir().unwrap();
    trubka(&dir)
        .args(["hangup", "no-such-leg@127.0.0.1"])
        .assert()
        .code(3);
    trubka(&dir)
        .args(["transfer", "leg", "not a number"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("not a number"));
}

#[test]
fn a_team_invite_is_checked_and_its_host_confirmed_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    trubka(&dir)
        .args(["team", "join", "ABCD-EFGH"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("--server"));
    trubka(&dir)
        .args([
            "team",
            "join",
            "trubka://join?server=http%3A%2F%2Fevil.example&code=ABCD",
        ])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("https"));
    // No terminal to ask in and no --yes: not joined, and the host is named.
    trubka(&dir)
        .args([
            "team",
            "join",
            "trubka://join?server=https%3A%2F%2Fteam.example.ru&code=ABCD",
        ])
        .assert()
        .code(9)
        .stderr(predicate::str::contains("team.example.ru"));
    trubka(&dir)
        .args(["team", "status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Not in a team"));
    trubka(&dir)
        .args(["team", "leave"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("not in a team"));
}
