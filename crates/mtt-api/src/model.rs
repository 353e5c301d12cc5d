//! The PBX's nouns: legs, workplaces, terminals, external numbers, and the inputs of call control.
//!
//! Values that reach the PBX are validated when they are built, so a request that cannot be right is
//! refused before anything is sent.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A call leg's Call-ID (`call.id`). The PBX's ids contain `@`, `!`, `~` and dots; they are opaque.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LegId(String);

impl LegId {
    /// Wraps an id as the PBX gave it.
    pub fn new(id: impl Into<String>) -> Self {
        LegId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LegId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What terminate and transfer need to name a leg: its id and tag from the notification, and the
/// transport id the notification came with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegRef {
    /// `call.id`.
    pub id: LegId,
    /// `call.tag`.
    pub tag: String,
    /// `transportId`.
    pub transport_id: String,
}

impl LegRef {
    /// Builds a leg reference, refusing blank parts (the PBX cannot find a leg without them).
    pub fn new(
        id: impl Into<String>,
        tag: impl Into<String>,
        transport_id: impl Into<String>,
    ) -> Result<Self, Error> {
        let (id, tag, transport_id) = (id.into(), tag.into(), transport_id.into());
        for (what, value) in [
            ("call id", &id),
            ("call tag", &tag),
            ("transport id", &transport_id),
        ] {
            if value.trim().is_empty() {
                return Err(Error::InvalidInput(format!("the {what} is empty")));
            }
        }
        Ok(LegRef {
            id: LegId(id),
            tag,
            transport_id,
        })
    }
}

/// A workplace's (or terminal's) SIP ID, such as `883140777716581`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SipId(String);

impl SipId {
    /// Accepts a non-empty string of digits. The document's SIP IDs are 15 digits starting with
    /// `8831`, but that is an observation, not a rule the client should enforce.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::InvalidInput("the workplace SIP ID is empty".into()));
        }
        if !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::InvalidInput(format!(
                "the workplace SIP ID {s:?} must contain only digits"
            )));
        }
        Ok(SipId(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether text looks like an MTT SIP ID (15 digits starting `8831`), which must never be
    /// "normalised" as if it were a phone number.
    pub fn looks_like(s: &str) -> bool {
        s.len() == 15 && s.starts_with("8831") && s.bytes().all(|b| b.is_ascii_digit())
    }
}

impl fmt::Display for SipId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A number to dial or transfer to (`calleeId`): a phone number or a SIP ID, as digits with an
/// optional leading `+`. Formatting such as spaces, dashes and brackets is the caller's to remove;
/// here anything but digits is refused so that a typo never reaches the PBX.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Callee(String);

impl Callee {
    /// Validates a callee.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let digits = s.strip_prefix('+').unwrap_or(s);
        if digits.is_empty() {
            return Err(Error::InvalidInput("the number to call is empty".into()));
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::InvalidInput(format!(
                "the number to call {s:?} must contain only digits (and an optional leading +)"
            )));
        }
        if digits.len() > 20 {
            return Err(Error::InvalidInput(format!(
                "the number to call {s:?} is too long ({} digits)",
                digits.len()
            )));
        }
        Ok(Callee(s.to_owned()))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Callee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One of the account's external numbers (`externalNumbersInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalNumber {
    /// The number, e.g. `78005560251`.
    pub number: String,
    /// The number's type in the PBX; the document's example has `null`.
    pub kind: Option<String>,
}

/// An operator's seat (`workPlacesInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workplace {
    /// The workplace's SIP ID.
    pub workplace: String,
    /// Its name; often empty.
    pub name: String,
}

/// A device registered to a workplace (`terminalsInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Terminal {
    /// The terminal's SIP ID.
    pub terminal: String,
    /// The workplace it belongs to.
    pub workplace: String,
}

/// The answer to `makeCall`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacedCall {
    /// The id of the call the PBX created; notifications about it carry the same `call.id`.
    pub id: LegId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callee_accepts_digits_and_a_plus_only() {
        assert!(Callee::parse("79219462761").is_ok());
        assert!(Callee::parse("+79219462761").is_ok());
        for bad in ["", " ", "+", "8 921", "abc", "7921-946", "++7"] {
            let err = Callee::parse(bad).unwrap_err();
            assert!(
                matches!(err, Error::InvalidInput(_)),
                "{bad:?} gave {err:?}"
            );
        }
    }

    #[test]
    fn sip_ids_are_recognised_but_not_required_to_have_fifteen_digits() {
        assert!(SipId::looks_like("883140777716581"));
        assert!(!SipId::looks_like("79219462761"));
        assert!(SipId::parse("101").is_ok());
        assert!(SipId::parse("88314x").is_err());
    }

    #[test]
    fn a_leg_ref_with_a_blank_part_is_refused() {
        assert!(LegRef::new("id", "tag", "10.0.0.1:5070").is_ok());
        assert!(LegRef::new("id", " ", "10.0.0.1:5070").is_err());
    }
}
