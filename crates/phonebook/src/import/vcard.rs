//! The vCard reader: `calcard` reads each card (vCard 2.1, 3.0 and 4.0: folded lines, groups,
//! parameters, escapes, and 2.1's `ENCODING=QUOTED-PRINTABLE` with its soft line breaks and
//! `CHARSET`, as Android and Outlook write Cyrillic names); this module finds where each card and
//! each `TEL` starts, so that a problem names its line, and takes `FN` (or `N`), `ORG`, `TEL` (also
//! `tel:` URIs) and `NOTE` from the card. Other properties are ignored.
//!
//! The file is first read as text in whatever encoding it was saved in (see `text`): Outlook on a
//! Russian Windows writes Windows-1251 with `CHARSET=Windows-1251` on each property.

use calcard::vcard::{VCard, VCardEntry, VCardProperty, VCardValue};
use calcard::{Entry, Parser};

use super::text::decode_text;
use super::{ImportProblem, ParsedContacts, ParsedRow, clean_text};
use crate::contact::{NewContact, is_number_like};

/// One `BEGIN:VCARD` … `END:VCARD`, by the indexes of those lines.
struct CardLines {
    begin: usize,
    end: usize,
}

/// The physical lines without their line ends.
fn physical_lines(text: &str) -> Vec<&str> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

fn is_line(line: &str, expected: &str) -> bool {
    line.trim().eq_ignore_ascii_case(expected)
}

/// 1-based line number of an index into the lines.
fn line_number(index: usize) -> u64 {
    u64::try_from(index + 1).unwrap_or(u64::MAX)
}

/// Whether a physical line starts a `TEL` property (`TEL:`, `TEL;…`, `item1.TEL…`). A folded or
/// quoted-printable continuation never does: it starts with a space or goes on with `=XX` text.
fn starts_tel(line: &str) -> bool {
    let name = line.split([':', ';']).next().unwrap_or_default();
    let name = name.rsplit('.').next().unwrap_or(name);
    line.len() > name.len() && !line.starts_with([' ', '\t']) && name.eq_ignore_ascii_case("TEL")
}

/// Finds the cards, reporting `BEGIN`s without `END` and `END`s without `BEGIN`.
fn find_cards(lines: &[&str], problems: &mut Vec<ImportProblem>) -> Vec<CardLines> {
    let mut cards = Vec::new();
    let mut open: Option<usize> = None;
    for (i, line) in lines.iter().enumerate() {
        if is_line(line, "BEGIN:VCARD") {
            if let Some(begin) = open.replace(i) {
                problems.push(ImportProblem {
                    line: line_number(begin),
                    message: "the card has no END:VCARD before the next BEGIN:VCARD".into(),
                });
            }
        } else if is_line(line, "END:VCARD") {
            match open.take() {
                Some(begin) => cards.push(CardLines { begin, end: i }),
                None => problems.push(ImportProblem {
                    line: line_number(i),
                    message: "END:VCARD without BEGIN:VCARD".into(),
                }),
            }
        }
    }
    if let Some(begin) = open {
        problems.push(ImportProblem {
            line: line_number(begin),
            message: "the card has no END:VCARD".into(),
        });
    }
    cards
}

/// A value as text: a structured one's parts joined by `,`; CRLF read as `\n`.
fn text_of(value: &VCardValue) -> Option<String> {
    match value {
        VCardValue::Text(s) => Some(clean_text(s)),
        VCardValue::Component(parts) => Some(clean_text(&parts.join(","))),
        _ => None,
    }
}

fn first_text(entry: &VCardEntry) -> Option<String> {
    entry.values.first().and_then(text_of)
}

/// `N`'s given and family names (its second and first parts), as people say them.
fn structured_name(entry: &VCardEntry) -> String {
    let part = |i: usize| {
        entry
            .values
            .get(i)
            .and_then(text_of)
            .map(|s| s.replace(',', " ").trim().to_owned())
            .unwrap_or_default()
    };
    [part(1), part(0)]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `TEL` value: the number of a `tel:` URI without its parameters (`;ext=…`).
fn tel_number(entry: &VCardEntry) -> String {
    let value = entry
        .values
        .iter()
        .filter_map(text_of)
        .collect::<Vec<_>>()
        .join(",");
    let value = value.trim();
    let number = match value.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => &value[4..],
        _ => value,
    };
    number.split(';').next().unwrap_or(number).trim().to_owned()
}

/// The contact of one card; a bad number is reported on its `TEL` line (`tel_lines`, in order)
/// and left out.
fn contact_of(card: &VCard, tel_lines: &[u64], problems: &mut Vec<ImportProblem>) -> NewContact {
    let mut contact = NewContact::default();
    let mut from_n = None;
    let mut tels = tel_lines.iter();
    for entry in &card.entries {
        match entry.name {
            VCardProperty::Fn => {
                contact.name = first_text(entry).unwrap_or_default().trim().to_owned();
            }
            VCardProperty::N => from_n = Some(structured_name(entry)),
            VCardProperty::Org => {
                contact.company = first_text(entry).map(|s| s.trim().to_owned());
            }
            VCardProperty::Note => contact.notes = first_text(entry),
            VCardProperty::Tel => {
                let line = tels.next().copied();
                let number = tel_number(entry);
                if is_number_like(&number) {
                    contact.numbers.push(number);
                } else if let Some(line) = line {
                    problems.push(ImportProblem {
                        line,
                        message: format!("{number:?} is not a telephone number; skipped"),
                    });
                }
            }
            _ => {}
        }
    }
    if contact.name.is_empty() {
        contact.name = from_n.unwrap_or_default();
    }
    contact
}

/// Reads a vCard file: every card, each with the line it starts on, and a problem for each card
/// or number that could not be read.
pub fn parse_vcard(data: &[u8]) -> ParsedContacts {
    let decoded = decode_text(data);
    let lines = physical_lines(&decoded.text);
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let cards = find_cards(&lines, &mut problems);
    if cards.is_empty() && problems.is_empty() {
        problems.push(ImportProblem {
            line: 1,
            message: "the file has no BEGIN:VCARD: it is not a vCard file".into(),
        });
    }
    for CardLines { begin, end } in cards {
        let card_lines = &lines[begin..=end];
        let tel_lines: Vec<u64> = card_lines
            .iter()
            .enumerate()
            .filter(|(_, l)| starts_tel(l))
            .map(|(i, _)| line_number(begin + i))
            .collect();
        if decoded.lossy && card_lines.iter().any(|l| l.contains('\u{fffd}')) {
            problems.push(ImportProblem {
                line: line_number(begin),
                message: "the card is not valid UTF-8 text like the rest of the file \
                          (save the file as UTF-8)"
                    .into(),
            });
            continue;
        }
        let card_text = card_lines.join("\r\n");
        match Parser::new(&card_text).entry() {
            Entry::VCard(card) => {
                let contact = contact_of(&card, &tel_lines, &mut problems);
                rows.push(ParsedRow {
                    line: line_number(begin),
                    contact,
                });
            }
            other => problems.push(ImportProblem {
                line: line_number(begin),
                message: format!("the card cannot be read ({other:?})"),
            }),
        }
    }
    problems.sort_by_key(|p| p.line);
    ParsedContacts { rows, problems }
}
