//! The crate's one error type.

use std::time::Duration;

pub use error_codes::ErrorCode;

/// Body text kept on an error is cut to this many bytes, so a huge HTML page cannot bloat logs.
pub const BODY_EXCERPT_LIMIT: usize = 4096;

/// Everything that can go wrong talking to MTT.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// There are no usable tokens: the user must sign in again.
    #[error("sign-in required: {0}")]
    SignInRequired(String),

    /// The server answered, but not with success.
    #[error("{}", api_message(*status, code.as_deref(), message.as_deref(), body))]
    Api {
        /// The HTTP status.
        status: u16,
        /// An error code from the body, if it had one.
        code: Option<String>,
        /// An error message from the body, if it had one.
        message: Option<String>,
        /// The body text, cut to [`BODY_EXCERPT_LIMIT`] bytes.
        body: String,
    },

    /// The request did not get an answer.
    #[error("could not reach {host}: {detail}")]
    Transport {
        /// The host we tried to reach.
        host: String,
        /// What went wrong, in words.
        detail: String,
        /// Whether the same request may safely be sent again (true for connection failures
        /// before anything was sent; false for a timeout, after which a POST may have run).
        retryable: bool,
        /// Set when the failure was the request deadline.
        timeout: Option<Duration>,
    },

    /// The server answered with success but the body is not what the document describes.
    #[error("the answer from {what} could not be read: {detail} ({excerpt})")]
    Undecodable {
        /// Which request this was the answer to.
        what: String,
        /// Why it could not be read.
        detail: String,
        /// What the body looked like: for the PBX's answers its start (`body starts: "…"`); for
        /// the token endpoint's, which carry tokens, only its length and shape.
        excerpt: String,
    },

    /// The request was refused before anything was sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// The state that came back from the browser is not the one this sign-in sent.
    #[error(
        "the sign-in response does not belong to this sign-in attempt (state mismatch); start the sign-in again"
    )]
    StateMismatch,

    /// The token store failed.
    #[error("the token store failed: {0}")]
    TokenStore(String),

    /// The token store holds something that cannot be read as tokens (a damaged entry). Unlike
    /// [`Error::TokenStore`], this will not go away by itself: the session clears it and carries
    /// on signed out.
    #[error("the stored sign-in cannot be read: {0}")]
    StoredTokensUnreadable(String),
}

impl Error {
    /// Whether the same request may be sent again without risk of doing it twice.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { retryable, .. } => *retryable,
            Error::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// A short, stable machine-readable code for the UI and the CLI's exit codes.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::SignInRequired(_) => ErrorCode::SignInRequired,
            Error::Api { .. } => ErrorCode::ApiError,
            Error::Transport {
                timeout: Some(_), ..
            } => ErrorCode::Timeout,
            Error::Transport { .. } => ErrorCode::Unreachable,
            Error::Undecodable { .. } => ErrorCode::BadResponse,
            Error::InvalidInput(_) => ErrorCode::InvalidInput,
            Error::StateMismatch => ErrorCode::StateMismatch,
            Error::TokenStore(_) | Error::StoredTokensUnreadable(_) => ErrorCode::TokenStore,
        }
    }
}

fn api_message(status: u16, code: Option<&str>, message: Option<&str>, body: &str) -> String {
    let mut text = format!("the PBX refused the request (HTTP {status}");
    if let Some(code) = code {
        text.push_str(", code ");
        text.push_str(code);
    }
    text.push(')');
    match message {
        Some(m) => {
            text.push_str(": ");
            text.push_str(m);
        }
        None if !body.trim().is_empty() => {
            text.push_str(": ");
            text.push_str(&excerpt(body, 200));
        }
        None => {}
    }
    text
}

/// The first `limit` bytes of `text`, cut at a character boundary, with an ellipsis if cut.
pub fn excerpt(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// `body starts: "…"`, the first 300 bytes of an answer that is not a secret, for
/// [`Error::Undecodable`].
pub(crate) fn body_starts(text: &str) -> String {
    format!("body starts: {:?}", excerpt(text, 300))
}

/// What an answer that may carry secrets looked like, without any of its content: its length,
/// its media type, and the names of its fields if it is a JSON object. The token endpoint's
/// answers hold the access and refresh tokens, so they are described this way and never quoted.
pub fn body_shape(body: &[u8], content_type: Option<&str>) -> String {
    let mut text = format!("{} bytes", body.len());
    if let Some(kind) = content_type.and_then(|c| c.split(';').next()) {
        text.push_str(" of ");
        text.push_str(&excerpt(kind.trim(), 60));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        text.push_str(", empty");
        return text;
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(fields)) => {
            let names: Vec<String> = fields.keys().take(20).map(|k| excerpt(k, 40)).collect();
            text.push_str(", a JSON object with the fields ");
            text.push_str(&names.join(", "));
            if fields.len() > names.len() {
                text.push_str(", …");
            }
        }
        Ok(serde_json::Value::Array(_)) => text.push_str(", a JSON array"),
        Ok(_) => text.push_str(", a single JSON value"),
        Err(_) => text.push_str(", not JSON"),
    }
    text.push_str("; the body is not shown because it may hold tokens");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_at_a_character_boundary() {
        assert_eq!(excerpt("Иван", 3), "И…");
        assert_eq!(excerpt("abc", 3), "abc");
    }

    #[test]
    fn a_body_shape_names_fields_but_never_values() {
        let shape = body_shape(
            br#"{"access_token":"SECRET-A","refresh_token":"SECRET-R","expires_in":"x"}"#,
            Some("application/json; charset=utf-8"),
        );
        assert!(!shape.contains("SECRET"), "{shape}");
        assert!(
            shape.contains("of application/json")
                && shape.contains("access_token, expires_in, refresh_token"),
            "{shape}"
        );
        assert!(
            body_shape(b"<html>SECRET</html>", None)
                .ends_with("not JSON; the body is not shown because it may hold tokens")
        );
        assert_eq!(
            body_shape(b" ", Some("text/plain")),
            "1 bytes of text/plain, empty"
        );
    }

    #[test]
    fn api_errors_read_well() {
        let e = Error::Api {
            status: 400,
            code: Some("unknown_leg".into()),
            message: Some("no such call".into()),
            body: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "the PBX refused the request (HTTP 400, code unknown_leg): no such call"
        );
    }
}
