//! The readers on small files.

use super::*;

#[test]
fn csv_rows_are_read_with_russian_headers_and_semicolons() {
    let data = "Имя;Компания;Телефон;Телефон 2;Менеджер;Заметки\n\
                Иван Петров;ООО Ромашка;8 921 946-27-61;+7 (812) 424-15-00;883140777716581;VIP\n";
    let ParsedContacts { rows, problems } = parse_csv(data.as_bytes());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].line, 2);
    let c = &rows[0].contact;
    assert_eq!(c.name, "Иван Петров");
    assert_eq!(c.numbers, vec!["8 921 946-27-61", "+7 (812) 424-15-00"]);
    assert_eq!(c.manager_sip_id.as_deref(), Some("883140777716581"));
}

#[test]
fn a_csv_without_known_headers_is_refused_on_line_1() {
    let ParsedContacts { rows, problems } = parse_csv(b"a,b\n1,2\n");
    assert!(rows.is_empty());
    assert_eq!(problems[0].line, 1);
}

#[test]
fn vcards_are_unfolded_and_read() {
    let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Petrov;Ivan;;;\r\nORG:Romashka;Sales\r\n\
                item1.TEL;TYPE=CELL:+7 921 946\r\n 27 61\r\nNOTE:line one\\nline two\r\n\
                END:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:Anna\r\n\
                TEL;VALUE=uri;TYPE=work:tel:+78124241500\r\nEND:VCARD\r\n";
    let ParsedContacts { rows, problems } = parse_vcard(text);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].contact.name, "Ivan Petrov");
    assert_eq!(rows[0].contact.company.as_deref(), Some("Romashka"));
    assert_eq!(rows[0].contact.numbers, vec!["+7 921 94627 61"]);
    assert_eq!(rows[0].contact.notes.as_deref(), Some("line one\nline two"));
    assert_eq!(rows[1].line, 9);
    assert_eq!(rows[1].contact.numbers, vec!["+78124241500"]);
}
