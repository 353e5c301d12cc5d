//! Seat credentials and invite codes: random secrets from the operating system, of which the
//! store keeps only SHA-256 hashes (both carry at least 125 random bits, so a fast hash is
//! enough: nobody can try enough guesses for a slow one to matter).
//!
//! A credential is `tks_<team id>_<256 random bits>`: the team id lets the relay tell a
//! credential of another relay ("you joined another team") from a wrong one. An invite code is
//! 25 characters of Crockford's base32 in five groups (`7KQ2M-…`), easy to read aloud and to
//! type; case, dashes and spaces do not matter, and `O`/`I`/`L` are read as `0`/`1`/`1`.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore as _;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use team_api::SeatCredential;

use crate::error::RelayError;
use crate::store::team::{NewSeat, TeamId};

/// Crockford's base32 alphabet (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in an invite code (125 bits).
const CODE_LEN: usize = 25;
/// The default life of an invite.
pub const DEFAULT_INVITE_LIFE: Duration = Duration::from_secs(72 * 3600);
/// The longest life an invite may be given.
pub const LONGEST_INVITE_LIFE: Duration = Duration::from_secs(30 * 24 * 3600);

pub(crate) fn random<const N: usize>() -> Result<[u8; N], RelayError> {
    let mut bytes = [0u8; N];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|err| RelayError::Random(err.to_string()))?;
    Ok(bytes)
}

/// A fresh credential for a seat of `team`.
pub fn new_credential(team: TeamId) -> Result<SeatCredential, RelayError> {
    let secret = URL_SAFE_NO_PAD.encode(random::<32>()?);
    Ok(SeatCredential::new(format!(
        "{}{team}_{secret}",
        SeatCredential::PREFIX
    )))
}

/// The hash the store keeps of a credential (or of any Bearer text presented as one).
pub fn credential_hash(credential: &str) -> [u8; 32] {
    Sha256::digest(credential.as_bytes()).into()
}

/// The team a presented credential names, if it has a credential's shape.
pub fn credential_team(credential: &str) -> Option<TeamId> {
    let rest = credential.strip_prefix(SeatCredential::PREFIX)?;
    let (team, secret) = rest.split_once('_')?;
    if team.len() != 16 || secret.len() != 43 {
        return None;
    }
    u64::from_str_radix(team, 16).ok().map(TeamId)
}

/// An invite's one-time code. Prints as `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct InviteCode(String);

impl InviteCode {
    /// A fresh code.
    pub fn generate() -> Result<Self, RelayError> {
        let bytes = random::<16>()?;
        let mut bits: u128 = u128::from_be_bytes(bytes);
        let mut code = String::with_capacity(CODE_LEN);
        for _ in 0..CODE_LEN {
            code.push(char::from(ALPHABET[(bits & 31) as usize]));
            bits >>= 5;
        }
        Ok(Self(code))
    }

    /// Reads a code as typed: case, dashes and spaces do not matter; `None` if it is not a
    /// code's shape.
    pub fn parse(text: &str) -> Option<Self> {
        let mut code = String::with_capacity(CODE_LEN);
        for ch in text.chars() {
            let ch = match ch.to_ascii_uppercase() {
                '-' | ' ' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            };
            if !ch.is_ascii() || !ALPHABET.contains(&(ch as u8)) || code.len() == CODE_LEN {
                return None;
            }
            code.push(ch);
        }
        (code.len() == CODE_LEN).then_some(Self(code))
    }

    /// The code in five groups, to print once. Never log it.
    pub fn expose_secret(&self) -> String {
        self.0
            .as_bytes()
            .chunks(5)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// The hash the store keeps.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

impl fmt::Debug for InviteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InviteCode([redacted])")
    }
}

/// Reads an invite's life: a number and a unit, `s`, `m`, `h` or `d` (`72h`, `3d`).
pub fn parse_life(text: &str) -> Result<Duration, RelayError> {
    let refuse = |reason: &str| RelayError::TeamInput {
        field: "--expires",
        reason: format!("{text:?}: {reason}"),
    };
    let text = text.trim();
    let split = text
        .find(|ch: char| !ch.is_ascii_digit())
        .ok_or_else(|| refuse("give a unit: s, m, h or d (e.g. 72h)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| refuse("start with a whole number (e.g. 72h)"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 24 * 3600,
        _ => return Err(refuse("the unit is s, m, h or d")),
    };
    let life = Duration::from_secs(number.saturating_mul(unit));
    if life.is_zero() || life > LONGEST_INVITE_LIFE {
        return Err(refuse("an invite lives from a second to 30 days"));
    }
    Ok(life)
}

/// Checks a seat to make: a name people can read, and a workplace that is a SIP ID.
pub fn validate_seat(seat: &NewSeat) -> Result<(), RelayError> {
    let name = seat.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(RelayError::TeamInput {
            field: "--name",
            reason: "give 1 to 100 characters, without control characters".into(),
        });
    }
    if name.parse::<i64>().is_ok() {
        return Err(RelayError::TeamInput {
            field: "--name",
            reason: "a name cannot be a number (numbers name seats by their id)".into(),
        });
    }
    mtt_api::SipId::parse(&seat.workplace).map_err(|err| RelayError::TeamInput {
        field: "--workplace",
        reason: err.to_string(),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_whatever_the_case_dashes_and_lookalikes() {
        let code = InviteCode::generate().unwrap();
        let printed = code.expose_secret();
        assert_eq!(printed.len(), CODE_LEN + 4);
        assert_eq!(InviteCode::parse(&printed), Some(code.clone()));
        assert_eq!(
            InviteCode::parse(&printed.to_lowercase().replace('-', " ")),
            Some(code.clone())
        );
        assert_ne!(InviteCode::generate().unwrap(), code);
        assert!(InviteCode::parse("").is_none());
        assert!(InviteCode::parse("ABCDE").is_none());
        assert!(InviteCode::parse(&format!("{printed}X")).is_none());
        assert!(InviteCode::parse("UUUUU-UUUUU-UUUUU-UUUUU-UUUUU").is_none());
        assert_eq!(
            InviteCode::parse("OOOOO-IIIII-LLLLL-00000-11111")
                .unwrap()
                .0,
            "0000011111111110000011111"
        );
        assert!(!format!("{code:?}").contains(&printed));
    }

    #[test]
    fn credentials_name_their_team() {
        let team = TeamId(0x1234);
        let credential = new_credential(team).unwrap();
        assert_eq!(credential_team(credential.expose_secret()), Some(team));
        assert!(credential_team("tks_short").is_none());
        assert!(credential_team("trk_abc").is_none());
        assert_ne!(
            credential_hash(credential.expose_secret()),
            credential_hash(new_credential(team).unwrap().expose_secret())
        );
    }

    #[test]
    fn lives_and_seats_are_checked() {
        assert_eq!(parse_life("72h").unwrap(), DEFAULT_INVITE_LIFE);
        assert_eq!(parse_life("90s").unwrap(), Duration::from_secs(90));
        for bad in ["", "72", "h", "0h", "31d", "5w", "-1h"] {
            assert!(parse_life(bad).is_err(), "{bad}");
        }
        let seat = |name: &str, workplace: &str| NewSeat {
            name: name.into(),
            workplace: workplace.into(),
            role: team_api::Role::Operator,
        };
        assert!(validate_seat(&seat("Alice", "883140582526566")).is_ok());
        assert!(validate_seat(&seat("", "883140582526566")).is_err());
        assert!(validate_seat(&seat("12", "883140582526566")).is_err());
        assert!(validate_seat(&seat("Alice", "not a sip id")).is_err());
    }
}
