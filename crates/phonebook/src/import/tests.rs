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
    let ParsedContacts { rows, problems } = parse_vcard(text.as_bytes());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].contact.name, "Ivan Petrov");
    assert_eq!(rows[0].contact.company.as_deref(), Some("Romashka"));
    assert_eq!(rows[0].contact.numbers, vec!["+7 921 94627 61"]);
    assert_eq!(rows[0].contact.notes.as_deref(), Some("line one\nline two"));
    assert_eq!(rows[1].line, 9);
    assert_eq!(rows[1].contact.numbers, vec!["+78124241500"]);
}

/// `text` in `encoding`, as a program on Windows would save it.
fn encoded(text: &str, encoding: &'static encoding_rs::Encoding) -> Vec<u8> {
    encoding.encode(text).0.into_owned()
}

#[test]
fn legacy_encodings_and_byte_order_marks_are_read() {
    let text = "Имя;Телефон;Заметки\r\nИван Петров;+7 921 946-27-61;Звонить утром\r\n";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let mut utf8_bom = vec![0xEF, 0xBB, 0xBF];
    utf8_bom.extend(text.as_bytes());
    for data in [
        encoded(text, encoding_rs::WINDOWS_1251),
        encoded(text, encoding_rs::KOI8_R),
        utf16,
        utf8_bom,
        text.as_bytes().to_vec(),
    ] {
        let ParsedContacts { rows, problems } = parse_csv(&data);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].contact.name, "Иван Петров");
        assert_eq!(rows[0].contact.notes.as_deref(), Some("Звонить утром"));
    }
}

#[test]
fn csv_lines_are_counted_right_with_crlf_line_ends() {
    let data = "name,phone\r\nA,+79219462761\r\n\r\nB,\"two\r\nlines\"\r\nC,x\r\n";
    let ParsedContacts { rows, problems } = parse_csv(data.as_bytes());
    assert!(problems.is_empty(), "{problems:?}");
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 4, 6]);
    assert_eq!(rows[1].contact.numbers, ["two", "lines"]);
}

#[test]
fn the_separator_is_the_one_that_makes_sense_of_the_header() {
    for data in [
        "name\tphone\nIvan\t+79219462761\n",
        "name,phone\nIvan,+79219462761\n",
        // More commas than semicolons in the header, but only `;` finds the columns.
        "Name;Phone, mobile;Notes, misc\nIvan;+79219462761;x\n",
    ] {
        let ParsedContacts { rows, problems } = parse_csv(data.as_bytes());
        assert!(problems.is_empty(), "{data:?}: {problems:?}");
        assert_eq!(rows[0].contact.name, "Ivan", "{data:?}");
        assert_eq!(rows[0].contact.numbers, ["+79219462761"], "{data:?}");
    }
}

#[test]
fn names_in_parts_and_outlook_phone_headers_are_read() {
    let data = "Фамилия;Имя;Отчество;Рабочий телефон;Мобильный телефон\n\
                Петров;Иван;Сергеевич;8 812 424-15-00;+7 921 946-27-61\n";
    let ParsedContacts { rows, problems } = parse_csv(data.as_bytes());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(rows[0].contact.name, "Иван Сергеевич Петров");
    assert_eq!(
        rows[0].contact.numbers,
        ["8 812 424-15-00", "+7 921 946-27-61"]
    );
    let data = "First Name,Last Name,Company,Business Phone,Home Phone,E-mail Address\n\
                Anna,Smirnova,Vector,+7 495 937-99-92,,anna@example.com\n";
    let ParsedContacts { rows, problems } = parse_csv(data.as_bytes());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(rows[0].contact.name, "Anna Smirnova");
    assert_eq!(rows[0].contact.company.as_deref(), Some("Vector"));
    assert_eq!(rows[0].contact.numbers, ["+7 495 937-99-92"]);
}

#[test]
fn quoted_printable_with_soft_line_breaks_is_decoded_and_numbers_keep_their_lines() {
    let text = "BEGIN:VCARD\nVERSION:2.1\n\
                FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=98=D0=B2=D0=B0=D0=BD =D0=9F=\n\
                =D0=B5=D1=82=D1=80=D0=BE=D0=B2\n\
                TEL;CELL:+7 921 946-27-61\n\
                TEL;HOME:звонить\n\
                TEL;WORK;VALUE=uri:tel:+7-812-424-15-00;ext=101\n\
                END:VCARD\n";
    let ParsedContacts { rows, problems } = parse_vcard(text.as_bytes());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].contact.name, "Иван Петров");
    assert_eq!(
        rows[0].contact.numbers,
        ["+7 921 946-27-61", "+7-812-424-15-00"]
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 6);
    assert!(problems[0].message.contains("звонить"));
}

#[test]
fn a_vcard_in_windows_1251_is_read() {
    let text = "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=Windows-1251:Петров;Иван\r\n\
                TEL;CELL:+79219462761\r\nEND:VCARD\r\n";
    let ParsedContacts { rows, problems } = parse_vcard(&encoded(text, encoding_rs::WINDOWS_1251));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(rows[0].contact.name, "Иван Петров");
}
