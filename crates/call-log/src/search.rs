//! The search box's text as a query of the FTS5 trigram indexes over calls and contacts.

use crate::error::{CallLogError, Result};

/// Turns the search box's text into an FTS5 trigram phrase. A text made only of digits and
/// phone formatting searches by its digits, so `921-946` finds `+79219462761`. Fewer than three
/// characters cannot be looked up in a trigram index and are refused with
/// [`CallLogError::SearchTooShort`] rather than answered by a slow scan.
pub(crate) fn search_phrase(text: &str) -> Result<String> {
    let trimmed = text.trim();
    let phone_like = !trimmed.is_empty()
        && trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' ' | '.'));
    let needle: String = if phone_like {
        trimmed.chars().filter(char::is_ascii_digit).collect()
    } else {
        trimmed.to_owned()
    };
    if needle.chars().count() < 3 {
        return Err(CallLogError::SearchTooShort(text.to_owned()));
    }
    Ok(format!("\"{}\"", needle.replace('"', "\"\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_digits_for_numbers_and_refused_when_short() {
        assert_eq!(search_phrase("921-946").unwrap(), "\"921946\"");
        assert_eq!(search_phrase("Иван").unwrap(), "\"Иван\"");
        assert_eq!(search_phrase("a\"b").unwrap(), "\"a\"\"b\"");
        assert!(matches!(
            search_phrase("+7 9"),
            Err(CallLogError::SearchTooShort(_))
        ));
        assert!(matches!(
            search_phrase("ab"),
            Err(CallLogError::SearchTooShort(_))
        ));
    }
}
