//! `trubka contacts import` as a person runs it: files as phones and Excel save them, and a
//! report written for people.

use crate::trubka;

/// One of the call log's phonebook fixtures (see its README).
fn fixture(name: &str) -> String {
    format!(
        "{}/../call-log/tests/fixtures/contacts/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn an_import_reports_its_counts_and_each_bad_line_for_people() {
    let dir = tempfile::tempdir().unwrap();
    let output = trubka(&dir)
        .args(["contacts", "import", &fixture("excel-ru-cp1251.csv")])
        .assert()
        .success();
    let stdout = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    assert_eq!(
        stdout,
        "added 3, updated 0, skipped 1:\n  line 4: \"звонить вечером\" is not a telephone number\n"
    );
}

#[test]
fn a_vcard_in_windows_1251_is_imported_with_its_cyrillic_names() {
    let dir = tempfile::tempdir().unwrap();
    trubka(&dir)
        .args(["contacts", "import", &fixture("outlook-2.1.vcf")])
        .assert()
        .success()
        .stdout("added 1, updated 0, skipped 0\n");
    trubka(&dir)
        .args(["contacts", "import", &fixture("android-2.1.vcf")])
        .assert()
        .success()
        .stdout("added 2, updated 0, skipped 0\n");
    let output = trubka(&dir).args(["contacts", "list"]).assert().success();
    let stdout = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout, "Анна Смирнова\nИван Петров\nМария Кузнецова\n");
}
