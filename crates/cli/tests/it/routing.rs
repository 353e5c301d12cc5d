//! `trubka park` and `trubka routing`: confirmations, checked rule files, the journal and the
//! router switch, without an account or a network.

use predicates::prelude::*;

use crate::trubka;

#[test]
fn parking_without_a_terminal_or_yes_is_refused_with_exit_code_9_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    trubka(&dir)
        .args(["park", "74996497803", "--on"])
        .write_stdin("")
        .assert()
        .code(9)
        .stdout(predicate::str::is_empty())
        .stderr(
            predicate::str::contains("--yes")
                .and(predicate::str::contains("5 seconds"))
                .and(predicate::str::contains("parking not changed")),
        );
    // With --yes the confirmation is skipped, and the missing account is what stops it.
    trubka(&dir)
        .args(["park", "74996497803", "--off", "--yes"])
        .assert()
        .code(3);
    // Neither --on nor --off is a command-line error.
    trubka(&dir)
        .args(["park", "74996497803", "--yes"])
        .assert()
        .code(2);
}

#[test]
fn a_rules_file_is_checked_before_it_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[routing]\nrules = [{ kind = \"last_operator\", days = 0 }]\n",
    )
    .unwrap();
    trubka(&dir)
        .args(["routing", "set-rules"])
        .arg(&bad)
        .assert()
        .code(5)
        .stderr(predicate::str::contains(
            "rules[1] (last_operator): days must be 1–365",
        ));
    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, "rules = [{ kind = \"astrology\" }]\n").unwrap();
    trubka(&dir)
        .args(["routing", "set-rules"])
        .arg(&unknown)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("astrology"));
    trubka(&dir)
        .args(["routing", "set-rules", "no-such-file.toml"])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("cannot read no-such-file.toml"));
    // Nothing was saved: the defaults are still there.
    trubka(&dir)
        .args(["routing", "rules"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("kind = \"manager\"")
                .and(predicate::str::contains("deadline_ms = 4000")),
        );

    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "deadline_ms = 3000\nwhen_busy = \"release\"\nrules = [{ kind = \"manager\" }, { kind = \"unknown_caller\", to = \"883140777551401\" }]\n",
    )
    .unwrap();
    trubka(&dir)
        .args(["routing", "set-rules"])
        .arg(&good)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "manager, unknown_caller (deadline 3000 ms)",
        ));
    trubka(&dir)
        .args(["routing", "rules", "--json"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains(r#""deadline_ms":3000"#)
                .and(predicate::str::contains(r#""to":"883140777551401""#)),
        );
}

#[test]
fn the_journal_and_the_router_switch_work_on_an_empty_profile() {
    let dir = tempfile::tempdir().unwrap();
    trubka(&dir)
        .args(["routing", "journal", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            r#"{"decisions":[],"met":0,"share":null}"#,
        ));
    trubka(&dir)
        .args(["routing", "journal"])
        .assert()
        .success()
        .stdout(predicate::str::contains("No routing decisions yet."));
    trubka(&dir)
        .args(["routing", "router", "--on"])
        .assert()
        .success()
        .stdout(predicate::str::contains("decides parked calls"));
    trubka(&dir)
        .args(["status", "--json"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains(r#""router":true"#)
                .and(predicate::str::contains(r#""parkingAppliedAt":null"#)),
        );
    trubka(&dir).args(["routing", "router"]).assert().code(2);
}
