//! `trubka-relay admin add|list|remove`: the console's first account from the command line,
//! the password read from a pipe, and the refusals (an operator, a short password, a revoked
//! or unknown seat).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_trubka-relay");

fn run_with(config: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BINARY)
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("TRUBKA_RELAY_HOOK")
        .env_remove("TRUBKA_RELAY_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn add_seat(config: &Path, name: &str, role: &str, workplace: &str) {
    let added = run_with(
        config,
        &[
            "seats",
            "add",
            "--name",
            name,
            "--workplace",
            workplace,
            "--role",
            role,
        ],
        "",
    );
    assert!(added.status.success(), "{}", text(&added));
}

#[test]
fn admin_add_gives_an_admin_a_console_password_and_refuses_what_it_must() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    let init = run_with(
        &config,
        &["init", "--public-url", "https://team.example.com"],
        "",
    );
    assert!(init.status.success(), "{}", text(&init));
    add_seat(&config, "Ольга", "admin", "883140582526566");
    add_seat(&config, "Анна", "operator", "883140582526567");

    let added = run_with(
        &config,
        &["admin", "add", "Ольга"],
        "correct horse battery\n",
    );
    assert!(added.status.success(), "{}", text(&added));
    assert!(
        text(&added).contains("Seat 1 (Ольга, admin) may sign in"),
        "{}",
        text(&added)
    );

    for (args, input, expected) in [
        (
            vec!["admin", "add", "Анна"],
            "correct horse battery\n",
            "operator",
        ),
        (vec!["admin", "add", "1"], "short\n", "12"),
        (
            vec!["admin", "add", "Никто"],
            "correct horse battery\n",
            "Никто",
        ),
    ] {
        let refused = run_with(&config, &args, input);
        assert!(!refused.status.success(), "{args:?}: {}", text(&refused));
        assert!(
            text(&refused).contains(expected),
            "{args:?}: {}",
            text(&refused)
        );
    }

    let listed = run_with(&config, &["admin", "list"], "");
    let listing = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert_eq!(
        listing.trim(),
        "1\tОльга\tadmin\tactive",
        "{}",
        text(&listed)
    );

    let removed = run_with(&config, &["admin", "remove", "Ольга"], "");
    assert!(removed.status.success(), "{}", text(&removed));
    let listed = run_with(&config, &["admin", "list"], "");
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "");
    let again = run_with(&config, &["admin", "remove", "Ольга"], "");
    assert!(!again.status.success());
}
