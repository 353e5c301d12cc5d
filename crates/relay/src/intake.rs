//! Webhook intake: `POST /<hook>/events`.
//!
//! The PBX posts every notification here. A notification is answered 2xx only after the store
//! has committed it; anything that is not a JSON body within the limits is refused with a 4xx
//! that names the problem, and nothing of it is stored.

use std::borrow::Cow;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::fanout::is_plain_kind;
use crate::metrics::RejectReason;
use crate::state::RelayState;
use crate::store::IncomingNotification;

/// Why a notification was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    UnknownPath,
    TooLarge(usize),
    Empty,
    NotUtf8,
    NotJson,
    TooDeep(usize),
    StoreFailed,
}

impl Refusal {
    fn reason(self) -> RejectReason {
        match self {
            Refusal::UnknownPath => RejectReason::UnknownPath,
            Refusal::TooLarge(_) => RejectReason::TooLarge,
            Refusal::Empty => RejectReason::Empty,
            Refusal::NotUtf8 | Refusal::NotJson => RejectReason::NotJson,
            Refusal::TooDeep(_) => RejectReason::TooDeep,
            Refusal::StoreFailed => RejectReason::StoreFailed,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Refusal::UnknownPath => (StatusCode::NOT_FOUND, "not found".to_owned()),
            Refusal::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {limit} bytes"),
            ),
            Refusal::Empty => (StatusCode::BAD_REQUEST, "the body is empty".to_owned()),
            Refusal::NotUtf8 => (StatusCode::BAD_REQUEST, "the body is not UTF-8".to_owned()),
            Refusal::NotJson => (StatusCode::BAD_REQUEST, "the body is not JSON".to_owned()),
            Refusal::TooDeep(limit) => (
                StatusCode::BAD_REQUEST,
                format!("the body nests deeper than {limit} levels"),
            ),
            Refusal::StoreFailed => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the event could not be stored; send it again".to_owned(),
            ),
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    event: Option<Cow<'a, str>>,
}

/// The notification's kind: its `event` field when that is a plain name, else `unknown`.
fn kind_of(text: &str) -> String {
    serde_json::from_str::<Envelope<'_>>(text)
        .ok()
        .and_then(|envelope| envelope.event)
        .filter(|kind| is_plain_kind(kind))
        .map_or_else(|| "unknown".to_owned(), Cow::into_owned)
}

/// Whether JSON text nests deeper than `limit` arrays and objects. Scanning bytes first keeps a
/// hostile body from ever reaching a recursive parser.
fn nests_deeper_than(text: &str, limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Checks a body and makes it a notification.
fn accept(body: &[u8], max_nesting: usize) -> Result<IncomingNotification, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Refusal::Empty);
    }
    let text = std::str::from_utf8(body).map_err(|_| Refusal::NotUtf8)?;
    if nests_deeper_than(text, max_nesting) {
        return Err(Refusal::TooDeep(max_nesting));
    }
    IncomingNotification::new(kind_of(text), text.to_owned()).map_err(|_| Refusal::NotJson)
}

/// `POST /<hook>/events`.
pub(crate) async fn receive(
    State(state): State<RelayState>,
    Path(hook): Path<String>,
    body: Body,
) -> Response {
    let metrics = &state.metrics;
    if !state.config.hook.matches(&hook) {
        metrics.rejected(RejectReason::UnknownPath);
        return Refusal::UnknownPath.into_response();
    }
    metrics.received();
    let limit = state.config.body_limit;
    let refused = |refusal: Refusal| {
        metrics.rejected(refusal.reason());
        refusal.into_response()
    };
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => return refused(Refusal::TooLarge(limit)),
    };
    let notification = match accept(&bytes, state.config.max_nesting) {
        Ok(notification) => notification,
        Err(refusal) => return refused(refusal),
    };
    let started = Instant::now();
    let routing = state.routing.watch(&notification);
    match state.store.append(notification).await {
        Ok(appended) => {
            metrics.stored(appended.duplicate, started.elapsed());
            if let Some(seen) = routing.filter(|_| !appended.duplicate) {
                state.routing.act(seen);
            }
            (
                StatusCode::OK,
                Json(json!({ "id": appended.id.0, "duplicate": appended.duplicate })),
            )
                .into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "a notification could not be stored");
            refused(Refusal::StoreFailed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_event_field() {
        assert_eq!(
            kind_of(r#"{"event":"callNotifications","result":{}}"#),
            "callNotifications"
        );
        assert_eq!(kind_of(r#"{"result":{}}"#), "unknown");
        assert_eq!(kind_of(r#"[1,2]"#), "unknown");
        assert_eq!(kind_of(r#"{"event":"two words"}"#), "unknown");
        assert_eq!(kind_of(r#"{"event":7}"#), "unknown");
    }

    #[test]
    fn nesting_is_measured_outside_strings() {
        assert!(!nests_deeper_than(r#"{"a":[{"b":"[[[[[["}]}"#, 3));
        assert!(nests_deeper_than(r#"{"a":[{"b":[1]}]}"#, 3));
        assert!(!nests_deeper_than(r#"{"a":"\"[[[[[[["}"#, 1));
        assert!(nests_deeper_than(&"[".repeat(10_000), 64));
    }

    #[test]
    fn bodies_are_checked_before_storing() {
        assert_eq!(accept(b"", 64).unwrap_err(), Refusal::Empty);
        assert_eq!(accept(b" \n ", 64).unwrap_err(), Refusal::Empty);
        assert_eq!(accept(b"not json", 64).unwrap_err(), Refusal::NotJson);
        assert_eq!(accept(b"{\"a\":1", 64).unwrap_err(), Refusal::NotJson);
        assert_eq!(accept(&[0xff, 0xfe], 64).unwrap_err(), Refusal::NotUtf8);
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            accept(deep.as_bytes(), 64).unwrap_err(),
            Refusal::TooDeep(64)
        );
        let ok = accept(
            br#"{"event":"vpbxNotifications","result":{"eventType":"numbersChanged"}}"#,
            64,
        )
        .unwrap();
        assert_eq!(ok.kind(), "vpbxNotifications");
    }
}
