//! How numbers and workplaces appear in notifications, and which numbers the PBX accepts.

use axum::http::StatusCode;

use crate::api_error::ApiError;
use crate::calls::Target;
use crate::wire::Party;

pub(super) fn check_number(field: &str, value: &str) -> Result<(), ApiError> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    if (3..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_number",
            format!("{field} {value:?} is neither a workplace nor a telephone number"),
        ))
    }
}

/// A Russian number as the PBX shows it while dialling: `89219462761` → `+79219462761`.
pub(super) fn with_plus(number: &str) -> String {
    let digits = number.strip_prefix('+').unwrap_or(number);
    if digits.len() == 11 && (digits.starts_with('8') || digits.starts_with('7')) {
        format!("+7{}", &digits[1..])
    } else if number.starts_with('+') || digits.len() < 11 {
        number.to_owned()
    } else {
        format!("+{digits}")
    }
}

pub(super) fn number_party(number: &str) -> Party {
    Party {
        display_id: number.to_owned(),
        id: number.to_owned(),
        ..Party::default()
    }
}

pub(super) fn workplace_party(centrex: &str, target: &Target, via: Option<&str>) -> Party {
    match target {
        Target::Workplace { id, name } => Party {
            account_id: Some(id.clone()),
            centrex_id: Some(centrex.to_owned()),
            display_id: id.clone(),
            display_name: Some(name.clone()),
            forwarder_list: via.map(|v| vec![v.to_owned()]).unwrap_or_default(),
            id: id.clone(),
        },
        Target::Number(n) => Party {
            forwarder_list: via.map(|v| vec![v.to_owned()]).unwrap_or_default(),
            ..number_party(n)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialled_numbers_are_shown_like_the_document() {
        assert_eq!(with_plus("89219462761"), "+79219462761");
        assert_eq!(with_plus("79219462761"), "+79219462761");
        assert_eq!(with_plus("+79219462761"), "+79219462761");
        assert_eq!(with_plus("101"), "101");
    }

    #[test]
    fn numbers_are_checked() {
        assert!(check_number("x", "+79219462761").is_ok());
        assert!(check_number("x", "12").is_err());
        assert!(check_number("x", "7921abc").is_err());
    }
}
