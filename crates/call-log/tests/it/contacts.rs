//! The phonebook: editing, import with bad rows reported by line, export read back.

use call_log::{CallLogError, NewContact};

use crate::harness::TestLog;

#[tokio::test]
async fn contacts_are_added_found_by_any_spelling_updated_and_deleted() {
    let t = TestLog::new();
    let added = t
        .log
        .add_contact(NewContact {
            name: "Анна".into(),
            company: Some("ООО Ромашка".into()),
            numbers: vec!["+7 921 946-27-61".into(), "101".into()],
            manager_sip_id: Some("883140777716581".into()),
            notes: Some("VIP".into()),
        })
        .await
        .unwrap();
    assert_eq!(added.numbers[0].key, "79219462761");
    assert_eq!(added.numbers[1].key, "101");
    let found = t
        .log
        .contact_for_number("89219462761")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, added.id);
    assert_eq!(t.log.contacts(Some("ромаш"), 10).await.unwrap().len(), 1);
    assert_eq!(t.log.contacts(Some("946-27"), 10).await.unwrap().len(), 1);
    let updated = t
        .log
        .update_contact(
            added.id,
            NewContact {
                name: "Анна К.".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(updated.numbers.is_empty());
    assert!(
        t.log
            .contact_for_number("89219462761")
            .await
            .unwrap()
            .is_none()
    );
    t.log.delete_contact(added.id).await.unwrap();
    assert!(matches!(
        t.log.delete_contact(added.id).await,
        Err(CallLogError::NoSuchContact(_))
    ));
    let bad = t
        .log
        .add_contact(NewContact {
            name: "X".into(),
            numbers: vec!["call me".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("call me"), "{bad}");
}

#[tokio::test]
async fn a_csv_import_reports_each_bad_row_by_line_and_imports_the_rest() {
    let t = TestLog::new();
    let csv = "name,company,phone,manager,notes\n\
               Иван Петров,Ромашка,8 921 946-27-61; +7 812 424-15-00,883140777716581,first\n\
               ,,,,\n\
               Bad Phone,,not a number,,\n\
               Bad Manager,,+79990000000,12345,\n\
               \"Quoted, Name\",\"Multi\nLine Co\",74996497803,,\"note, with comma\"\n\
               ,,,,only a note\n\
               Иван Петров,,89219462761,,merged\n";
    let report = t
        .log
        .import_contacts_csv(csv.as_bytes().to_vec())
        .await
        .unwrap();
    let lines: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [4, 5, 8], "{:?}", report.problems);
    assert!(report.problems[0].message.contains("not a number"));
    assert!(report.problems[1].message.contains("SIP ID"));
    assert_eq!((report.added, report.updated), (2, 1));
    let ivan = t
        .log
        .contact_for_number("+78124241500")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ivan.numbers.len(), 2);
    assert_eq!(ivan.notes.as_deref(), Some("merged"));
    let quoted = t
        .log
        .contact_for_number("74996497803")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(quoted.name, "Quoted, Name");
    assert_eq!(quoted.company.as_deref(), Some("Multi\nLine Co"));
}

/// "Case aside" holds in every script: SQLite's `lower()` and NOCASE fold only ASCII, so a row
/// "анна петрова" was added beside "Анна Петрова", and the list put "алла" after "Вера".
#[tokio::test]
async fn a_merge_and_the_list_take_names_case_aside_in_cyrillic_too() {
    let t = TestLog::new();
    let csv = "name,company,phone,notes\n\
               Анна Петрова,Ромашка,+7 921 946-27-61,\n\
               Вера,Ромашка,+7 812 424-15-00,\n\
               алла,Ромашка,74996497803,\n\
               анна петрова,,89219462761,merged\n";
    let report = t
        .log
        .import_contacts_csv(csv.as_bytes().to_vec())
        .await
        .unwrap();
    assert_eq!(
        (report.added, report.updated),
        (3, 1),
        "{:?}",
        report.problems
    );
    let anna = t
        .log
        .contact_for_number("+79219462761")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (anna.name.as_str(), anna.notes.as_deref()),
        ("Анна Петрова", Some("merged"))
    );
    let names =
        |contacts: Vec<call_log::Contact>| contacts.into_iter().map(|c| c.name).collect::<Vec<_>>();
    assert_eq!(
        names(t.log.contacts(None, 10).await.unwrap()),
        ["алла", "Анна Петрова", "Вера"]
    );
    assert_eq!(
        names(t.log.contacts(Some("ромашка"), 10).await.unwrap()),
        ["алла", "Анна Петрова", "Вера"]
    );
}

#[tokio::test]
async fn a_vcard_import_reports_bad_cards_and_imports_the_rest() {
    let t = TestLog::new();
    let vcf = "BEGIN:VCARD\nVERSION:3.0\nFN:Good One\nTEL;TYPE=CELL:+79219462761\nEND:VCARD\n\
               BEGIN:VCARD\nVERSION:4.0\nTEL:not-a-number\nEND:VCARD\n\
               BEGIN:VCARD\nVERSION:4.0\nFN:Second\nORG:Co;Dept\nTEL;VALUE=uri:tel:+78124241500\nNOTE:a\\, b\nEND:VCARD\n\
               BEGIN:VCARD\nFN:Never ended\n";
    let report = t.log.import_contacts_vcard(vcf).await.unwrap();
    let lines: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [6, 8, 17], "{:?}", report.problems);
    assert_eq!(report.added, 2);
    let second = t
        .log
        .contact_for_number("78124241500")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.company.as_deref(), Some("Co"));
    assert_eq!(second.notes.as_deref(), Some("a, b"));
}

#[tokio::test]
async fn the_csv_export_reads_back_into_the_same_phonebook() {
    let t = TestLog::new();
    for (name, number) in [("Анна", "+79219462761"), ("Борис, мл.", "8 812 424-15-00")] {
        t.log
            .add_contact(NewContact {
                name: name.into(),
                numbers: vec![number.into(), "101".into()],
                notes: Some("line1\nline2".into()),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let file = t.dir.path().join("contacts.csv");
    assert_eq!(t.log.export_contacts_csv(&file).await.unwrap(), 2);
    let other = TestLog::new();
    let report = other
        .log
        .import_contacts_csv(std::fs::read(&file).unwrap())
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.added, 2);
    assert_eq!(
        other
            .log
            .contacts(None, 10)
            .await
            .unwrap()
            .iter()
            .map(|c| c.numbers.len())
            .collect::<Vec<_>>(),
        [2, 2]
    );
    let boris = other
        .log
        .contact_for_number("78124241500")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(boris.name, "Борис, мл.");
    assert_eq!(boris.notes.as_deref(), Some("line1\nline2"));
}

#[tokio::test]
async fn the_contacts_export_never_writes_a_cell_a_spreadsheet_would_run_and_reads_back() {
    let t = TestLog::new();
    let hostile = NewContact {
        name: "=HYPERLINK(\"http://evil.example\",\"Ivan\")".into(),
        company: Some("@SUM(1+1)".into()),
        numbers: vec!["+7 921 946-27-61".into(), "-8 812 424-15-00".into()],
        notes: Some("+cmd|' /C calc'!A0\n-second line".into()),
        ..Default::default()
    };
    t.log.add_contact(hostile.clone()).await.unwrap();
    let file = t.dir.path().join("contacts.csv");
    t.log.export_contacts_csv(&file).await.unwrap();
    let mut reader = csv::Reader::from_path(&file).unwrap();
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(&row[0], "'=HYPERLINK(\"http://evil.example\",\"Ivan\")");
    assert_eq!(&row[1], "'@SUM(1+1)");
    // Telephone numbers stay usable: digits, spaces and `+ - ( ) ;` cannot call a function.
    assert_eq!(&row[2], "+7 921 946-27-61; -8 812 424-15-00");
    assert_eq!(&row[4], "'+cmd|' /C calc'!A0\n-second line");
    for cell in row.iter() {
        assert!(
            !cell.starts_with(['=', '+', '@', '\t', '\r']) || cell == &row[2],
            "{cell:?}"
        );
    }
    // The importer takes the guard off again, so an export reads back as it was.
    let other = TestLog::new();
    let report = other
        .log
        .import_contacts_csv(std::fs::read(&file).unwrap())
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let back = other.log.contacts(None, 10).await.unwrap();
    assert_eq!(back[0].name, hostile.name);
    assert_eq!(back[0].company, hostile.company);
    assert_eq!(back[0].notes, hostile.notes);
}

/// A phonebook file from `tests/fixtures/contacts` (see its README: how each was made).
fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/contacts/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The keys of a contact's numbers, in order.
fn keys(contact: &call_log::Contact) -> Vec<&str> {
    contact.numbers.iter().map(|n| n.key.as_str()).collect()
}

#[tokio::test]
async fn an_android_vcard_2_1_export_with_quoted_printable_cyrillic_is_read() {
    let t = TestLog::new();
    let report = t
        .log
        .import_contacts_vcard(fixture("android-2.1.vcf"))
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!((report.added, report.updated), (2, 0));
    let ivan = t
        .log
        .contact_for_number("79219462761")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ivan.name, "Иван Петров");
    // The company is quoted-printable with soft line breaks.
    assert_eq!(
        ivan.company.as_deref(),
        Some("Общество с ограниченной ответственностью «Ромашка»")
    );
    assert_eq!(keys(&ivan), ["79219462761", "78124241500"]);
    let anna = t
        .log
        .contact_for_number("+7 916 123-45-67")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(anna.name, "Анна Смирнова");
    assert_eq!(
        anna.notes.as_deref(),
        Some("Бухгалтер\nзвонить после 10:00")
    );
}

#[tokio::test]
async fn an_outlook_vcard_in_windows_1251_is_read() {
    let t = TestLog::new();
    let report = t
        .log
        .import_contacts_vcard(fixture("outlook-2.1.vcf"))
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.added, 1);
    let maria = t
        .log
        .contact_for_number("74959379992")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(maria.name, "Мария Кузнецова");
    assert_eq!(maria.company.as_deref(), Some("ООО \"Вектор\""));
    assert_eq!(keys(&maria), ["74959379992", "79167654321"]);
    assert_eq!(
        maria.notes.as_deref(),
        Some("Звонить в рабочие часы, по пятницам до 16:00.\nЛичный менеджер: Ольга.")
    );
}

#[tokio::test]
async fn an_iphone_vcard_3_0_is_read() {
    let t = TestLog::new();
    let report = t
        .log
        .import_contacts_vcard(fixture("iphone-3.0.vcf"))
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.added, 2);
    let dmitry = t
        .log
        .contact_for_number("89215550102")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dmitry.name, "Дмитрий Кузнецов");
    assert_eq!(dmitry.company.as_deref(), Some("ИП Кузнецов Д. А."));
    assert_eq!(keys(&dmitry), ["79215550102", "78005553535", "79112223344"]);
    assert_eq!(
        dmitry.notes.as_deref(),
        Some("Звонить после 10:00, не раньше.\nЛюбит кофе.")
    );
    let taxi = t
        .log
        .contact_for_number("78126000000")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taxi.name, "Такси «Быстрое»");
}

#[tokio::test]
async fn an_excel_csv_in_windows_1251_with_semicolons_is_read_with_its_bad_line_reported() {
    let t = TestLog::new();
    let report = t
        .log
        .import_contacts_csv(fixture("excel-ru-cp1251.csv"))
        .await
        .unwrap();
    let lines: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [4], "{:?}", report.problems);
    assert!(
        report.problems[0].message.contains("звонить вечером"),
        "{:?}",
        report.problems
    );
    assert_eq!((report.added, report.updated), (3, 0));
    let ivan = t
        .log
        .contact_for_number("89219462761")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ivan.name, "Иван Петров");
    assert_eq!(ivan.company.as_deref(), Some("ООО \"Ромашка\""));
    assert_eq!(ivan.manager_sip_id.as_deref(), Some("883140777716581"));
    let anna = t
        .log
        .contact_for_number("78005553535")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(anna.name, "Анна Смирнова");
    assert_eq!(anna.company.as_deref(), Some("Вектор; филиал"));
    assert_eq!(keys(&anna), ["78124241500", "78005553535"]);
    let petr = t
        .log
        .contact_for_number("79161234567")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(petr.name, "Пётр Сидоров");
    assert_eq!(petr.notes.as_deref(), Some("Две строки:\nвторая"));
}
