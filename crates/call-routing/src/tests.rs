//! The rules' JSON against the TypeScript type the admin console is compiled with
//! (`console/src/bindings/Rule.ts`, from `Rule`'s `ts_rs::TS`): a sample of every kind is
//! written with serde, checked against the union member of its kind (no key the type lacks, every
//! key it requires, each value of the declared type), and read back; and the least object each
//! member allows is read by serde. A change to `Rule`'s serde shape that the TypeScript type does
//! not follow fails here, not on the console's routing page.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use ts_rs::{Config, TS};

use crate::Rule;

/// One field of a TypeScript object type: its type's text and whether it may be left out.
#[derive(Debug)]
struct Field {
    ty: String,
    optional: bool,
}

/// The union's members by their `kind`.
fn declared_members() -> BTreeMap<String, BTreeMap<String, Field>> {
    let cfg = Config::new().with_large_int("number");
    let text = without_comments(&Rule::inline(&cfg));
    let mut members = BTreeMap::new();
    for member in split_top_level(text.trim().trim_end_matches(';'), '|') {
        let body = member
            .trim()
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
            .unwrap_or_else(|| panic!("a member of Rule's type is not an object: {member}"));
        let mut fields = BTreeMap::new();
        for field in split_top_level(body, ',') {
            let field = field.trim();
            if field.is_empty() {
                continue;
            }
            let (name, ty) = field
                .split_once(':')
                .unwrap_or_else(|| panic!("not a field: {field}"));
            let name = name.trim().trim_matches('"');
            let (name, optional) = match name.strip_suffix('?') {
                Some(name) => (name, true),
                None => (name, false),
            };
            let ty = ty.trim().to_owned();
            fields.insert(name.to_owned(), Field { ty, optional });
        }
        let kind = fields
            .get("kind")
            .map(|field| field.ty.trim_matches('"').to_owned())
            .unwrap_or_else(|| panic!("a member of Rule's type has no kind: {member}"));
        members.insert(kind, fields);
    }
    members
}

fn without_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

/// Splits at `sep` outside braces, brackets and angle brackets.
fn split_top_level(text: &str, sep: char) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0i32, 0, Vec::new());
    for (at, c) in text.char_indices() {
        match c {
            '{' | '<' | '[' | '(' => depth += 1,
            '}' | '>' | ']' | ')' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(&text[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Whether `value` is of the TypeScript type `ty` (the few this type uses).
fn is_of_type(value: &Value, ty: &str) -> bool {
    split_top_level(ty, '|')
        .iter()
        .map(|alternative| alternative.trim())
        .any(|alternative| match alternative {
            "boolean" => value.is_boolean(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "null" => value.is_null(),
            literal if literal.starts_with('"') => {
                value.as_str() == Some(literal.trim_matches('"'))
            }
            other => panic!("Rule's type uses {other}, which this test does not know"),
        })
}

/// A value of the TypeScript type `ty` (its first alternative).
fn value_of_type(ty: &str) -> Value {
    match split_top_level(ty, '|')[0].trim() {
        "boolean" => json!(false),
        "number" => json!(30),
        "string" => json!("883140777551401"),
        "null" => Value::Null,
        literal if literal.starts_with('"') => json!(literal.trim_matches('"')),
        other => panic!("Rule's type uses {other}, which this test does not know"),
    }
}

/// A rule of every kind, and the optional field of each both set and left out.
fn samples() -> Vec<Rule> {
    vec![
        Rule::Manager { enabled: true },
        Rule::LastOperator {
            enabled: false,
            days: 30,
        },
        Rule::OutsideHours { enabled: true },
        Rule::UnknownCaller {
            enabled: true,
            to: None,
        },
        Rule::UnknownCaller {
            enabled: false,
            to: Some("883140777551401".into()),
        },
    ]
}

#[test]
fn every_rule_kind_is_written_and_read_in_the_shape_its_typescript_type_declares() {
    let members = declared_members();
    let sampled: BTreeSet<&str> = samples().iter().map(Rule::name).collect();
    let declared: BTreeSet<&str> = members.keys().map(String::as_str).collect();
    assert_eq!(
        sampled, declared,
        "every kind the TypeScript type declares has a sample here, and no other"
    );
    for rule in samples() {
        let written = serde_json::to_value(&rule).unwrap();
        let object = written
            .as_object()
            .unwrap_or_else(|| panic!("{rule:?} is written as {written}, not an object"));
        let member = &members[rule.name()];
        for (key, value) in object {
            let field = member
                .get(key)
                .unwrap_or_else(|| panic!("{rule:?} is written with {key}, which Rule.ts lacks"));
            assert!(
                is_of_type(value, &field.ty),
                "{rule:?}: {key} is written as {value}, Rule.ts says {}",
                field.ty
            );
        }
        for (key, field) in member {
            assert!(
                field.optional || object.contains_key(key),
                "{rule:?} is written without {key}, which Rule.ts requires"
            );
        }
        let read: Rule = serde_json::from_value(written.clone()).unwrap();
        assert_eq!(read, rule, "{written} reads back as itself");
    }
}

#[test]
fn the_least_object_each_typescript_member_allows_is_read() {
    for (kind, member) in declared_members() {
        let least: serde_json::Map<String, Value> = member
            .iter()
            .filter(|(_, field)| !field.optional)
            .map(|(key, field)| (key.clone(), value_of_type(&field.ty)))
            .collect();
        let full: serde_json::Map<String, Value> = member
            .iter()
            .map(|(key, field)| (key.clone(), value_of_type(&field.ty)))
            .collect();
        for object in [least, full] {
            let object = Value::Object(object);
            let rule: Rule = serde_json::from_value(object.clone())
                .unwrap_or_else(|e| panic!("{object}, as Rule.ts allows, is refused: {e}"));
            assert_eq!(rule.name(), kind);
        }
    }
}

#[test]
fn the_shape_check_refuses_a_key_the_type_lacks() {
    // The check itself can fail: a written field Rule.ts does not declare is caught.
    let members = declared_members();
    let member = &members["manager"];
    assert!(!member.contains_key("to"));
    assert!(is_of_type(&json!("manager"), &member["kind"].ty));
    assert!(!is_of_type(&json!("last_operator"), &member["kind"].ty));
    assert!(!is_of_type(&json!(1), &member["enabled"].ty));
    assert!(members["unknown_caller"]["to"].optional);
}
