//! Turning the many spellings of a telephone number into one key to match on.
//!
//! The PBX writes an outside number as `78124241500`, `+79219462761` or `78124241500@pstn`, an
//! operator types `8 (921) 946-27-61`, and a phonebook may hold any of these. To say "this number
//! called before" all of them must meet on one key: the E.164 digits without the `+`. Workplace and
//! terminal SIP IDs (15 digits starting `8831`) and short internal numbers are *not* phone numbers
//! and are kept exactly, because "normalising" them would invent a foreign number.

use mtt_api::RussianNumber;
use mtt_api::model::SipId;
use phonenumber::Mode;

/// The longest run of digits still treated as an internal (extension) number and kept as typed.
const SHORT_NUMBER_MAX_DIGITS: usize = 6;

/// The key a number is matched on.
///
/// - `8 921 946-27-61`, `+7 (921) 946-27-61`, `79219462761` and `79219462761@pstn` all give
///   `79219462761`: E.164 digits, read in Russia when the number has no country code.
/// - A SIP ID (`883140777716581`) or a short internal number (`101`) is kept exactly.
/// - Anything that is not a number (`anonymous`, an e-mail-like account) is kept trimmed and
///   lower-cased so that it still matches itself.
///
/// Returns `None` for blank input.
pub fn normalize_number(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let without_pstn = strip_pstn(trimmed).trim();
    if without_pstn.is_empty() {
        return None;
    }
    if SipId::looks_like(without_pstn) {
        return Some(without_pstn.to_owned());
    }
    let digits: String = without_pstn.chars().filter(char::is_ascii_digit).collect();
    let is_phone_like = !digits.is_empty()
        && without_pstn.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' ' | '.' | '\u{a0}')
        });
    if !is_phone_like {
        return Some(without_pstn.to_lowercase());
    }
    if digits.len() <= SHORT_NUMBER_MAX_DIGITS {
        return Some(digits);
    }
    let international = without_pstn.starts_with('+');
    // The one reading of Russian numbers the dialer uses too (the metadata misreads `+7 8xx`).
    if let Some(russian) = RussianNumber::from_digits(&digits, international) {
        return Some(russian.e164_digits());
    }
    let parsed = phonenumber::parse(Some(phonenumber::country::Id::RU), without_pstn)
        .ok()
        .filter(phonenumber::PhoneNumber::is_valid);
    match parsed {
        Some(number) => Some(
            number
                .format()
                .mode(Mode::E164)
                .to_string()
                .trim_start_matches('+')
                .to_owned(),
        ),
        // A number the metadata does not know is still best matched by its digits; a `+` says
        // they already start with the country code.
        None if international => Some(digits),
        None => Some(digits),
    }
}

/// Removes the PBX's `@pstn` account suffix (any `@domain`, in fact: the part before it is the
/// number).
fn strip_pstn(s: &str) -> &str {
    match s.split_once('@') {
        Some((number, _)) if !number.trim().is_empty() => number,
        _ => s,
    }
}

/// Whether a text reads as a workplace or terminal SIP ID once an `@domain` suffix is removed.
pub fn sip_id_of(s: &str) -> Option<&str> {
    let candidate = strip_pstn(s.trim()).trim();
    SipId::looks_like(candidate).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_spellings_meet_on_one_key() {
        for raw in [
            "8 921 946-27-61",
            "+79219462761",
            "79219462761",
            "+7 (921) 946-27-61",
            "79219462761@pstn",
            " 8(921)9462761 ",
        ] {
            assert_eq!(
                normalize_number(raw).as_deref(),
                Some("79219462761"),
                "{raw}"
            );
        }
    }

    #[test]
    fn sip_ids_and_short_numbers_are_kept_exactly() {
        assert_eq!(
            normalize_number("883140777716581").as_deref(),
            Some("883140777716581")
        );
        assert_eq!(
            normalize_number("883140777716581@pstn").as_deref(),
            Some("883140777716581")
        );
        assert_eq!(normalize_number("101").as_deref(), Some("101"));
        assert_eq!(normalize_number("  ").as_deref(), None);
        assert_eq!(normalize_number("Anonymous").as_deref(), Some("anonymous"));
    }

    #[test]
    fn the_russian_reading_gives_numbers_the_metadata_accepts_as_e164() {
        // The metadata misreads Russian numbers whose area code starts with 8 (`+7 812 …`,
        // `+7 800 …`: it strips the 8 as if it were a trunk prefix), and `7…` without a `+`,
        // which is why Russian shapes are read by `RussianNumber`. Elsewhere both must agree.
        for raw in [
            "89219462761",
            "74996497803",
            "+79219462761",
            "8 (495) 937-99-92",
        ] {
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            let key = RussianNumber::from_digits(&digits, raw.starts_with('+'))
                .unwrap()
                .e164_digits();
            let parsed = phonenumber::parse(None, format!("+{key}")).unwrap();
            assert_eq!(
                parsed.format().mode(Mode::E164).to_string(),
                format!("+{key}"),
                "{raw}"
            );
        }
    }

    #[test]
    fn toll_free_and_st_petersburg_numbers_keep_their_8() {
        assert_eq!(
            normalize_number("8 800 556-02-51").as_deref(),
            Some("78005560251")
        );
        assert_eq!(
            normalize_number("+7 812 424-15-00").as_deref(),
            Some("78124241500")
        );
        assert_eq!(
            normalize_number("78005560251").as_deref(),
            Some("78005560251")
        );
    }

    #[test]
    fn ten_digit_national_numbers_get_the_country_code_like_in_the_dialer() {
        // `812…` and `800…` written without a prefix: the metadata strips the 8 as a trunk
        // prefix and refuses what is left, which used to leave the bare ten digits as the key.
        for (raw, key) in [
            ("812 424-15-00", "78124241500"),
            ("8005560251", "78005560251"),
            ("(495) 937-99-92", "74959379992"),
            ("3999999999", "73999999999"),
        ] {
            assert_eq!(normalize_number(raw).as_deref(), Some(key), "{raw}");
        }
    }

    #[test]
    fn foreign_numbers_use_the_metadata() {
        assert_eq!(
            normalize_number("+44 20 7946 0018").as_deref(),
            Some("442079460018")
        );
        assert_eq!(
            normalize_number("+375 29 123-45-67").as_deref(),
            Some("375291234567")
        );
    }
}
