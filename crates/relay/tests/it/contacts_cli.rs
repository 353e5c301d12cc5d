//! `trubka-relay contacts import|list|export`: a file with a bad row is refused whole, naming
//! the line, and stores nothing; `--skip-bad-rows` imports the rest; an export reads back
//! (importing it again updates, never duplicates); every import is in the audit log.

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
        .env_remove("TRUBKA_RELAY_DATABASE")
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

fn listed(config: &Path) -> Vec<Value> {
    serde_json::from_str::<Vec<Value>>(&ok(&run(config, &["contacts", "list", "--json"]))).unwrap()
}

#[test]
fn an_import_is_all_or_nothing_and_an_export_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("relay.toml");
    ok(&run(
        &config,
        &["init", "--public-url", "https://team.example.com"],
    ));
    let file = dir.path().join("team.csv");
    std::fs::write(
        &file,
        "Имя;Телефон;Менеджер;Заметки\n\
         Иван Петров;8 921 946-27-61;883140582526566;VIP\n\
         Плохой;позвоните мне;;\n\
         Анна;+7 812 424-15-00;;\n",
    )
    .unwrap();
    let refused = run(&config, &["contacts", "import", file.to_str().unwrap()]);
    assert!(!refused.status.success());
    let message = text(&refused.stderr);
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("nothing was imported"), "{message}");
    assert!(listed(&config).is_empty());

    let imported = ok(&run(
        &config,
        &[
            "contacts",
            "import",
            "--skip-bad-rows",
            file.to_str().unwrap(),
        ],
    ));
    assert!(imported.contains("2 added"), "{imported}");
    let contacts = listed(&config);
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts[1]["manager"], "883140582526566");

    let export = dir.path().join("export.csv");
    ok(&run(
        &config,
        &["contacts", "export", export.to_str().unwrap()],
    ));
    let again = ok(&run(
        &config,
        &["contacts", "import", export.to_str().unwrap()],
    ));
    assert!(again.contains("0 added, 2 updated"), "{again}");
    assert_eq!(listed(&config).len(), 2);
    let exists = run(&config, &["contacts", "export", export.to_str().unwrap()]);
    assert!(!exists.status.success(), "an export never overwrites");

    let audit = ok(&run(&config, &["audit"]));
    assert_eq!(audit.matches("contacts_import").count(), 2, "{audit}");
}
