//! The Contacts screen's commands: list and search, add, edit, delete, import with a per-line
//! report, export.

use serde_json::{Value, json};
use tauri::Manager;
use trubka_app::downloads::Downloads;

use crate::harness::TestApp;

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[test]
fn a_contact_is_added_found_edited_and_deleted() {
    let app = TestApp::new();
    let added = app
        .invoke(
            "add_contact",
            json!({"contact": {"name": "Иван Петров", "company": "ООО Ромашка",
                   "numbers": ["8 921 946-27-61"], "managerSipId": "883140777716581",
                   "notes": "<b>не HTML</b>"}}),
        )
        .unwrap();
    assert_eq!(added["numbers"][0]["number"], "+7 921 946-27-61");
    assert_eq!(added["numbers"][0]["raw"], "8 921 946-27-61");
    assert_eq!(added["notes"], "<b>не HTML</b>");
    let id = added["id"].as_i64().unwrap();

    let by_number = app.invoke("contacts", json!({"search": "946-27"})).unwrap();
    assert_eq!(names(&by_number), ["Иван Петров"]);
    let by_company = app
        .invoke("contacts", json!({"search": "Ромашка"}))
        .unwrap();
    assert_eq!(names(&by_company), ["Иван Петров"]);
    let short = app.invoke("contacts", json!({"search": "Ив"})).unwrap_err();
    assert_eq!(short["code"], "search_too_short", "{short}");

    let edited = app
        .invoke(
            "update_contact",
            json!({"id": id, "contact": {"name": "Иван П.", "numbers": ["+79219462761", "8 812 424-15-00"]}}),
        )
        .unwrap();
    assert_eq!(edited["numbers"].as_array().unwrap().len(), 2);
    assert_eq!(edited["company"], Value::Null);
    assert_eq!(
        names(&app.invoke("contacts", json!({})).unwrap()),
        ["Иван П."]
    );

    app.invoke("delete_contact", json!({"id": id})).unwrap();
    assert_eq!(app.invoke("contacts", json!({})).unwrap(), json!([]));
}

#[test]
fn a_bad_contact_is_refused_with_the_invalid_code() {
    let app = TestApp::new();
    let bad_manager = app
        .invoke(
            "add_contact",
            json!({"contact": {"name": "Анна", "numbers": [], "managerSipId": "12"}}),
        )
        .unwrap_err();
    assert_eq!(bad_manager["code"], "invalid", "{bad_manager}");
    let bad_number = app
        .invoke(
            "add_contact",
            json!({"contact": {"name": "Анна", "numbers": ["позвоните мне"]}}),
        )
        .unwrap_err();
    assert_eq!(bad_number["code"], "invalid", "{bad_number}");
    assert!(
        bad_number["message"]
            .as_str()
            .unwrap()
            .contains("позвоните мне")
    );
    let missing = app
        .invoke(
            "update_contact",
            json!({"id": 4242, "contact": {"name": "Анна", "numbers": []}}),
        )
        .unwrap_err();
    assert_eq!(missing["code"], "not_found", "{missing}");
}

#[test]
fn a_csv_with_broken_rows_imports_the_rest_and_reports_each_bad_line() {
    let app = TestApp::new();
    let mut csv = "Имя;Компания;Телефон\n\
                   Иван Петров;Ромашка;+7 921 946-27-61\n\
                   ;;\n\
                   Пётр;;не номер\n\
                   Ольга;Лютик;8 (812) 424-15-00\n"
        .as_bytes()
        .to_vec();
    // A row saved in another encoding than UTF-8 (cp1251 "Имя").
    csv.extend_from_slice(b"\xc8\xec\xff;;+79031112233\n");
    let report = app
        .invoke("import_contacts", json!({"format": "csv", "data": csv}))
        .unwrap();
    assert_eq!(report["added"], 2, "{report}");
    assert_eq!(report["updated"], 0);
    let problems = report["problems"].as_array().unwrap();
    let lines: Vec<u64> = problems
        .iter()
        .map(|p| p["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [4, 6], "{report}");
    assert!(
        problems
            .iter()
            .all(|p| !p["message"].as_str().unwrap().is_empty())
    );
    assert_eq!(
        names(&app.invoke("contacts", json!({})).unwrap()),
        ["Иван Петров", "Ольга"]
    );
}

#[test]
fn a_vcard_is_imported_in_any_encoding_and_a_file_that_is_not_one_is_reported() {
    let app = TestApp::new();
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Анна Смирнова\r\nORG:Лютик\r\n\
                TEL;TYPE=CELL:+7 916 555-00-11\r\nEND:VCARD\r\n";
    let report = app
        .invoke(
            "import_contacts",
            json!({"format": "vcard", "data": card.as_bytes()}),
        )
        .unwrap();
    assert_eq!(
        (
            report["added"].as_u64(),
            report["problems"].as_array().map(Vec::len)
        ),
        (Some(1), Some(0))
    );
    // Outlook on a Russian Windows saves vCards in Windows-1251: the window sends the bytes as
    // they are and the names arrive in Cyrillic.
    let outlook = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/call-log/tests/fixtures/contacts/outlook-2.1.vcf"
    ))
    .unwrap();
    let report = app
        .invoke(
            "import_contacts",
            json!({"format": "vcard", "data": outlook}),
        )
        .unwrap();
    assert_eq!(report["added"], 1, "{report}");
    assert_eq!(
        names(&app.invoke("contacts", json!({})).unwrap()),
        ["Анна Смирнова", "Мария Кузнецова"]
    );
    // Bytes that are no vCard at all are reported on line 1, not refused as "not UTF-8".
    let report = app
        .invoke(
            "import_contacts",
            json!({"format": "vcard", "data": [0x42, 0xff, 0x43]}),
        )
        .unwrap();
    assert_eq!(report["added"], 0, "{report}");
    assert_eq!(report["problems"][0]["line"], 1, "{report}");
}

#[test]
fn the_phonebook_is_exported_into_the_downloads_folder() {
    let app = TestApp::new();
    let downloads = tempfile::tempdir().unwrap();
    app.window.state::<Downloads>().save_into(downloads.path());
    app.invoke(
        "add_contact",
        json!({"contact": {"name": "Иван", "numbers": ["+79219462761"]}}),
    )
    .unwrap();
    let saved = app.invoke("export_contacts", json!({})).unwrap();
    assert_eq!(saved["rows"], 1);
    let path = std::path::PathBuf::from(saved["path"].as_str().unwrap());
    assert_eq!(path.parent().unwrap(), downloads.path());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("Иван"), "{text}");
}
