//! What the operator typed (or a link or the clipboard carried), turned into what the PBX dials.
//!
//! Russian numbers are read by [`RussianNumber`], the reading the call log keys numbers with, so
//! `8 (921) 946-27-61`, `+7 921 9462761` and `9219462761` all dial `79219462761` and a number
//! dialled is found again under the same key; other phone numbers are read with `phonenumber` in
//! a default region (Russia unless configured). SIP IDs and short internal numbers are dialled
//! exactly as typed: they are not phone numbers and "normalising" them would ring someone else.
//! Anything else is refused with a reason the operator can act on.

use mtt_api::{Callee, RussianNumber, SipId};
use phonenumber::{Mode, country};

/// Where numbers without a country code are read: Trubka's users are in Russia.
pub const DEFAULT_REGION: country::Id = country::Id::RU;

/// Internal (extension) numbers are at most this long; anything longer must be a phone number.
const MAX_INTERNAL_DIGITS: usize = 6;

/// Why an input cannot be dialled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialError {
    /// Nothing to dial.
    #[error("type a number to call")]
    Empty,
    /// A character that has no place in a number.
    #[error("{input:?} is not a number: {found:?} cannot be dialled")]
    NotANumber {
        /// What was typed.
        input: String,
        /// The first offending character.
        found: char,
    },
    /// Digits that form no valid phone number.
    #[error("{input:?} is not a valid phone number{}", hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Invalid {
        /// What was typed.
        input: String,
        /// What seems wrong, if we can tell.
        hint: Option<String>,
    },
}

/// What the dialer decided to dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialTarget {
    /// The digits sent to the PBX as `calleeId`.
    pub callee: Callee,
    /// How the number reads to a person, e.g. `+7 921 946-27-61`; the digits for SIP IDs.
    pub display: String,
    /// Whether this is a workplace SIP ID or internal number rather than a phone number.
    pub internal: bool,
}

/// Reads an input into a dial target, reading phone numbers in `region` (e.g. `RU`).
pub fn dial_target(input: &str, region: country::Id) -> Result<DialTarget, DialError> {
    let cleaned = strip_formatting(input)?;
    let digits = cleaned.trim_start_matches('+');
    if digits.is_empty() {
        return Err(DialError::Empty);
    }
    let has_plus = cleaned.starts_with('+');
    if !has_plus && (SipId::looks_like(digits) || digits.len() <= MAX_INTERNAL_DIGITS) {
        return Ok(DialTarget {
            callee: callee(digits, input)?,
            display: digits.to_owned(),
            internal: true,
        });
    }
    if let Some(russian) =
        RussianNumber::from_digits(digits, has_plus).filter(|_| region == country::Id::RU)
    {
        return Ok(DialTarget {
            callee: callee(&russian.e164_digits(), input)?,
            display: russian.to_string(),
            internal: false,
        });
    }
    let parsed = phonenumber::parse(Some(region), &cleaned).map_err(|e| DialError::Invalid {
        input: input.trim().to_owned(),
        hint: Some(e.to_string()),
    })?;
    if !phonenumber::is_valid(&parsed) {
        return Err(DialError::Invalid {
            input: input.trim().to_owned(),
            hint: Some(format!("{} digits", digits.len())),
        });
    }
    let e164 = parsed.format().mode(Mode::E164).to_string();
    let digits = e164.trim_start_matches('+');
    Ok(DialTarget {
        callee: callee(digits, input)?,
        display: readable(&parsed),
        internal: false,
    })
}

/// A number for people to read: `+7 921 946-27-61`. Stored and received numbers come in many
/// shapes (`7…`, `+7…`, `8…`); SIP IDs and anything unparseable are shown as they are.
pub fn display_number(raw: &str, region: country::Id) -> String {
    let trimmed = raw.trim();
    let bare = trimmed.split('@').next().unwrap_or(trimmed);
    if SipId::looks_like(bare) || bare.len() <= MAX_INTERNAL_DIGITS {
        return bare.to_owned();
    }
    let has_plus = bare.starts_with('+');
    let digits = bare.trim_start_matches('+');
    if region == country::Id::RU
        && let Some(russian) = RussianNumber::from_digits(digits, has_plus)
    {
        return russian.to_string();
    }
    match phonenumber::parse(Some(region), bare) {
        Ok(n) if phonenumber::is_valid(&n) => readable(&n),
        _ => bare.to_owned(),
    }
}

fn readable(n: &phonenumber::PhoneNumber) -> String {
    n.format().mode(Mode::International).to_string()
}

fn callee(digits: &str, input: &str) -> Result<Callee, DialError> {
    Callee::parse(digits).map_err(|_| DialError::Invalid {
        input: input.trim().to_owned(),
        hint: None,
    })
}

/// Removes what people put between digits (spaces, dashes, dots, brackets, a `tel:` prefix), and
/// refuses any other character, naming it.
fn strip_formatting(input: &str) -> Result<String, DialError> {
    let trimmed = input.trim();
    let body = trimmed
        .strip_prefix("tel:")
        .or_else(|| trimmed.strip_prefix("callto:"))
        .unwrap_or(trimmed);
    let mut out = String::with_capacity(body.len());
    for (i, c) in body.chars().enumerate() {
        match c {
            '0'..='9' => out.push(c),
            '+' if i == 0 => out.push(c),
            ' ' | '\u{a0}' | '-' | '.' | '(' | ')' | '/' | '\u{2010}'..='\u{2015}' => {}
            other => {
                return Err(DialError::NotANumber {
                    input: trimmed.to_owned(),
                    found: other,
                });
            }
        }
    }
    if out.is_empty() {
        return Err(DialError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dial(s: &str) -> Result<String, DialError> {
        dial_target(s, country::Id::RU).map(|t| t.callee.as_str().to_owned())
    }

    #[test]
    fn russian_numbers_in_every_usual_shape_dial_the_same() {
        for input in [
            "8 (921) 946-27-61",
            "+7 921 9462761",
            "9219462761",
            "79219462761",
            "+7 (921) 946 27 61",
            "tel:+79219462761",
            "8-921-946-27-61",
        ] {
            assert_eq!(dial(input).as_deref(), Ok("79219462761"), "{input}");
        }
        assert_eq!(dial("8 800 556-02-51").as_deref(), Ok("78005560251"));
        assert_eq!(dial("+7 812 424-15-00").as_deref(), Ok("78124241500"));
        assert_eq!(dial("8 (812) 424-15-00").as_deref(), Ok("78124241500"));
        let spb = dial_target("88124241500", country::Id::RU).unwrap();
        assert_eq!(spb.display, "+7 812 424-15-00");
        assert_eq!(
            dial("+7 727 258 4545").as_deref(),
            Ok("77272584545"),
            "Kazakhstan shares +7"
        );
        assert_eq!(dial("+44 20 7946 0958").as_deref(), Ok("442079460958"));
    }

    #[test]
    fn sip_ids_and_short_numbers_pass_as_they_are() {
        let t = dial_target("883140582526566", country::Id::RU).unwrap();
        assert_eq!(t.callee.as_str(), "883140582526566");
        assert!(t.internal);
        assert_eq!(dial("101").as_deref(), Ok("101"));
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        assert_eq!(dial("  "), Err(DialError::Empty));
        assert_eq!(dial("()"), Err(DialError::Empty));
        let err = dial("8921abc").unwrap_err();
        assert_eq!(
            err,
            DialError::NotANumber {
                input: "8921abc".into(),
                found: 'a'
            }
        );
        assert!(err.to_string().contains("'a'"));
        assert!(matches!(dial("1234567"), Err(DialError::Invalid { .. })));
        assert!(matches!(dial("+7 921"), Err(DialError::Invalid { .. })));
        assert!(matches!(
            dial("7+921"),
            Err(DialError::NotANumber { found: '+', .. })
        ));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(
            display_number("79219462761", country::Id::RU),
            "+7 921 946-27-61"
        );
        assert_eq!(
            display_number("+79219462761", country::Id::RU),
            "+7 921 946-27-61"
        );
        assert_eq!(
            display_number("89219462761", country::Id::RU),
            "+7 921 946-27-61"
        );
        assert_eq!(
            display_number("78124241500@pstn", country::Id::RU),
            "+7 812 424-15-00"
        );
        assert_eq!(
            display_number("883140582526566", country::Id::RU),
            "883140582526566"
        );
        assert_eq!(display_number("<b>x</b>", country::Id::RU), "<b>x</b>");
    }

    /// The spellings of one Russian number: the operator's and the PBX's.
    fn spelled(national: &str, shape: usize) -> String {
        let (area, a, b, c) = (
            &national[..3],
            &national[3..6],
            &national[6..8],
            &national[8..],
        );
        match shape {
            0 => national.to_owned(),
            1 => format!("8{national}"),
            2 => format!("7{national}"),
            3 => format!("+7{national}"),
            4 => format!("8 ({area}) {a}-{b}-{c}"),
            5 => format!("+7 ({area}) {a}-{b}-{c}"),
            6 => format!("{area} {a} {b} {c}"),
            _ => format!("7{national}@pstn"),
        }
    }

    proptest::proptest! {
        /// What the dialer sends, what the operator typed (and the phonebook keeps) and what the
        /// PBX reports back (`7812…`, `8812…`, `+7 (812) …`, `7812…@pstn`) meet on one call-log
        /// key, so "called before", the caller's contact and routing all find each other.
        #[test]
        fn the_log_key_of_what_the_dialer_dials_is_the_key_of_what_the_pbx_reports(
            national in "[3489][0-9]{9}",
            shape in 0usize..7,
        ) {
            let typed = spelled(&national, shape);
            let target = dial_target(&typed, country::Id::RU).unwrap();
            let dialled = call_log::normalize_number(target.callee.as_str());
            let e164 = format!("7{national}");
            proptest::prop_assert_eq!(dialled.as_deref(), Some(e164.as_str()));
            proptest::prop_assert_eq!(&call_log::normalize_number(&typed), &dialled, "typed {}", typed);
            for reported in 1..8 {
                let reported = spelled(&national, reported);
                proptest::prop_assert_eq!(
                    &call_log::normalize_number(&reported),
                    &dialled,
                    "reported {}",
                    reported
                );
            }
        }

        /// A workplace SIP ID is dialled and keyed exactly, with or without `@pstn`: never read
        /// as a phone number.
        #[test]
        fn sip_ids_are_never_read_as_phone_numbers(rest in "[0-9]{11}") {
            let sip = format!("8831{rest}");
            let target = dial_target(&sip, country::Id::RU).unwrap();
            proptest::prop_assert_eq!(target.callee.as_str(), sip.as_str());
            proptest::prop_assert!(target.internal);
            proptest::prop_assert_eq!(display_number(&sip, country::Id::RU), sip.clone());
            proptest::prop_assert_eq!(call_log::normalize_number(&sip), Some(sip.clone()));
            proptest::prop_assert_eq!(
                call_log::normalize_number(&format!("{sip}@pstn")),
                Some(sip.clone())
            );
        }
    }
}
