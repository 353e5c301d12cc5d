//! The vCard 3.0/4.0 reader, written by hand and tolerant: cards are read for `FN` (or `N`),
//! `ORG`, `TEL` (also `tel:` URIs) and `NOTE`; other properties are ignored.

use super::{ImportProblem, ParsedContacts, ParsedRow};
use crate::contacts::{NewContact, is_number_like};

/// Undoes vCard text escaping (`\n`, `\,`, `\;`, `\\`).
fn vcard_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a structured vCard value on unescaped `;`.
fn vcard_components(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            current.push('\\');
            current.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ';' {
            parts.push(vcard_unescape(&current));
            current.clear();
        } else {
            current.push(c);
        }
    }
    parts.push(vcard_unescape(&current));
    parts
}

/// Reads vCard 3.0/4.0 cards tolerantly: folded lines, groups (`item1.TEL`), parameters, upper or
/// lower case, CRLF or LF. Unknown properties are ignored.
pub(crate) fn parse_vcard(text: &str) -> ParsedContacts {
    // Unfold: a line that starts with a space or tab continues the previous one.
    let mut lines: Vec<(u64, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = u64::try_from(i + 1).unwrap_or(u64::MAX);
        if let Some(rest) = raw.strip_prefix([' ', '\t'])
            && let Some((_, last)) = lines.last_mut()
        {
            last.push_str(rest);
            continue;
        }
        lines.push((number, raw.to_owned()));
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut card: Option<(u64, NewContact, Option<String>)> = None;
    for (line, content) in lines {
        if content.trim().is_empty() {
            continue;
        }
        let Some((head, value)) = content.split_once(':') else {
            if card.is_some() {
                problems.push(ImportProblem {
                    line,
                    message: format!("the line {content:?} has no ':' and was skipped"),
                });
            }
            continue;
        };
        let mut params = head.split(';');
        let name = params.next().unwrap_or_default();
        let name = name
            .rsplit('.')
            .next()
            .unwrap_or(name)
            .trim()
            .to_ascii_uppercase();
        match name.as_str() {
            "BEGIN" if value.trim().eq_ignore_ascii_case("vcard") => {
                if let Some((start, _, _)) = card.take() {
                    problems.push(ImportProblem {
                        line: start,
                        message: "the card has no END:VCARD before the next BEGIN:VCARD".into(),
                    });
                }
                card = Some((line, NewContact::default(), None));
            }
            "END" if value.trim().eq_ignore_ascii_case("vcard") => match card.take() {
                Some((start, mut contact, structured_name)) => {
                    if contact.name.trim().is_empty() {
                        contact.name = structured_name.unwrap_or_default();
                    }
                    rows.push(ParsedRow {
                        line: start,
                        contact,
                    });
                }
                None => problems.push(ImportProblem {
                    line,
                    message: "END:VCARD without BEGIN:VCARD".into(),
                }),
            },
            _ => {
                let Some((_, contact, structured_name)) = card.as_mut() else {
                    continue;
                };
                match name.as_str() {
                    "FN" => contact.name = vcard_unescape(value).trim().to_owned(),
                    "N" => {
                        let parts = vcard_components(value);
                        let family = parts.first().map(|s| s.trim()).unwrap_or_default();
                        let given = parts.get(1).map(|s| s.trim()).unwrap_or_default();
                        let joined = [given, family]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join(" ");
                        *structured_name = Some(joined);
                    }
                    "ORG" => {
                        contact.company = vcard_components(value)
                            .into_iter()
                            .next()
                            .map(|s| s.trim().to_owned())
                    }
                    "TEL" => {
                        let number = value.trim();
                        let number = number
                            .strip_prefix("tel:")
                            .or_else(|| number.strip_prefix("TEL:"))
                            .unwrap_or(number);
                        let number = number.split(';').next().unwrap_or(number);
                        if !is_number_like(number) {
                            problems.push(ImportProblem {
                                line,
                                message: format!("{number:?} is not a telephone number; skipped"),
                            });
                        } else {
                            contact.numbers.push(number.to_owned());
                        }
                    }
                    "NOTE" => contact.notes = Some(vcard_unescape(value)),
                    _ => {}
                }
            }
        }
    }
    if let Some((start, _, _)) = card {
        problems.push(ImportProblem {
            line: start,
            message: "the card has no END:VCARD".into(),
        });
    }
    ParsedContacts { rows, problems }
}
