//! Russian telephone numbers in every spelling the operator, a phonebook and the PBX use.
//!
//! One reading shared by everything that compares or dials numbers: the dialer (what to send as
//! `calleeId`), the call log (the key a number is matched on) and, in team mode, the relay. Two
//! readings used to disagree on ten-digit numbers such as `812 424-15-00` and `800 555-35-35`,
//! so a number the dialer called was not found again under the key the log gave it.
//!
//! The general-purpose metadata (`phonenumber` 0.3) cannot be used for these: it takes the 8 of
//! St Petersburg (`812`) and toll-free (`800`) area codes for the Russian trunk prefix and strips
//! it, even after `+7`. Russian numbers are therefore read here, by their fixed shape: a national
//! number of ten digits starting with 3, 4, 8 or 9, written bare, after the trunk prefix `8`, or
//! after the country code `7`/`+7`. Everything else (Kazakhstan's `+7 6…`/`+7 7…`, foreign
//! numbers, SIP IDs, short internal numbers) is not a [`RussianNumber`], and callers read it
//! their own way; in particular a workplace SIP ID (15 digits, `8831…`) is never one.

use std::fmt;

/// A number of the Russian numbering plan, known by its ten-digit national number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RussianNumber {
    national: String,
}

impl RussianNumber {
    /// Reads the digits of a number (formatting already removed; `international` when they were
    /// written after a `+`):
    ///
    /// - `+7` and ten digits, or `7`/`8` and ten digits without the `+`;
    /// - ten digits alone (a national number as Russians write it);
    ///
    /// where the ten-digit national number starts with 3, 4, 8 or 9. Anything else is `None`.
    pub fn from_digits(digits: &str, international: bool) -> Option<Self> {
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let national = match (digits.len(), international) {
            (11, true) if digits.starts_with('7') => &digits[1..],
            (11, false) if digits.starts_with(['7', '8']) => &digits[1..],
            (10, false) => digits,
            _ => return None,
        };
        national
            .starts_with(['3', '4', '8', '9'])
            .then(|| RussianNumber {
                national: national.to_owned(),
            })
    }

    /// The ten-digit national number, e.g. `8124241500`.
    pub fn national(&self) -> &str {
        &self.national
    }

    /// The E.164 digits without the `+`, e.g. `78124241500`: what the PBX dials and reports, and
    /// the key the call log matches numbers on.
    pub fn e164_digits(&self) -> String {
        format!("7{}", self.national)
    }
}

/// How the number reads to a person: `+7 812 424-15-00`.
impl fmt::Display for RussianNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.national;
        write!(f, "+7 {} {}-{}-{}", &n[..3], &n[3..6], &n[6..8], &n[8..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(digits: &str, international: bool) -> Option<String> {
        RussianNumber::from_digits(digits, international).map(|n| n.e164_digits())
    }

    #[test]
    fn every_russian_spelling_gives_the_same_number() {
        for (digits, international) in [
            ("78124241500", true),
            ("78124241500", false),
            ("88124241500", false),
            ("8124241500", false),
        ] {
            assert_eq!(
                e164(digits, international).as_deref(),
                Some("78124241500"),
                "{digits} {international}"
            );
        }
        assert_eq!(e164("8005553535", false).as_deref(), Some("78005553535"));
        assert_eq!(e164("89219462761", false).as_deref(), Some("79219462761"));
        assert_eq!(e164("3012345678", false).as_deref(), Some("73012345678"));
        let spb = RussianNumber::from_digits("88124241500", false).unwrap();
        assert_eq!(spb.national(), "8124241500");
        assert_eq!(spb.to_string(), "+7 812 424-15-00");
    }

    #[test]
    fn other_numbers_are_not_russian() {
        for (digits, international) in [
            // `+8…` is not a trunk prefix; `+7` needs eleven digits.
            ("88124241500", true),
            ("8124241500", true),
            // Kazakhstan shares +7; its numbers are left to the metadata.
            ("77272584545", false),
            ("87272584545", false),
            // Unallocated first digits, the wrong length, SIP IDs, short numbers, non-digits.
            ("71234567890", false),
            ("1234567890", false),
            ("921946276", false),
            ("883140777716581", false),
            ("101", false),
            ("8812424150x", false),
            ("", false),
        ] {
            assert_eq!(
                e164(digits, international),
                None,
                "{digits} {international}"
            );
        }
    }
}
