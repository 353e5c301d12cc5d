//! The admin console (issue #18): its single-page app's files and its JSON API under
//! `/admin/api`, for the seats with role admin or supervisor that were given a console password.
//!
//! Invariant: every `/admin/api` route is built in [`api`] only, whose whole router (its
//! fallback included) sits behind [`session::require`]; the one request it lets through
//! without a session is the sign-in itself. The static pages carry no data.

mod assets;
mod audit;
#[cfg(test)]
mod bindings;

mod health;
mod integration;
pub mod password;
mod seats;
pub mod session;
mod settings;
mod wallboard;

use std::sync::Arc;

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};
use axum::{Json, Router};
use chrono::Utc;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::state::RelayState;
use crate::store::audit::{NewAuditEntry, Outcome};

pub use crate::console_state::{Console, ConsoleSettings, TodayCounters};

/// A seat's open stream, for the console's "app version" and "last seen": recorded when the
/// stream opens (with the version its `User-Agent: Trubka/<version>` names) and when it ends.
#[derive(Debug)]
pub struct SeenWhileOpen {
    store: crate::store::console::SharedConsoleStore,
    seat: i64,
}

impl SeenWhileOpen {
    /// Records seat `seat`'s stream opening with `headers`.
    pub async fn open(state: &RelayState, seat: i64, headers: &axum::http::HeaderMap) -> Self {
        let version = headers
            .get(header::USER_AGENT)
            .and_then(|agent| agent.to_str().ok())
            .and_then(app_version);
        if let Err(err) = state
            .console_store
            .seat_seen(seat, version, Utc::now())
            .await
        {
            tracing::warn!(error = %err, seat, "a seat's app version could not be recorded");
        }
        Self {
            store: Arc::clone(&state.console_store),
            seat,
        }
    }
}

impl Drop for SeenWhileOpen {
    fn drop(&mut self) {
        let (store, seat) = (Arc::clone(&self.store), self.seat);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = store.seat_seen(seat, None, Utc::now()).await {
                    tracing::warn!(error = %err, seat, "a seat's last seen could not be recorded");
                }
            });
        }
    }
}

/// The version in `Trubka/<version>` (the app's `User-Agent`), if it is one: at most 40
/// characters of digits, letters, dots, dashes and pluses.
fn app_version(agent: &str) -> Option<String> {
    let version = agent.split_whitespace().next()?.strip_prefix("Trubka/")?;
    (!version.is_empty()
        && version.len() <= 40
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')))
    .then(|| version.to_owned())
}

/// The largest JSON body the API reads.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;
/// The largest phonebook file it imports.
pub(crate) const IMPORT_LIMIT: usize = 5 * 1024 * 1024;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The console's routes: the pages and files, and the API behind the session.
pub fn routes(state: &RelayState) -> Router<RelayState> {
    Router::new()
        .nest("/admin/api", api(state))
        .merge(assets::routes())
        .layer(middleware::from_fn(security_headers))
}

/// Every API route. Only here, and all behind [`session::require`] (see the module's docs).
fn api(state: &RelayState) -> Router<RelayState> {
    Router::new()
        .route(
            "/session",
            post(session::sign_in)
                .get(session::current)
                .delete(session::sign_out),
        )
        .route("/sessions", delete(session::sign_out_everywhere))
        .route("/integration", get(integration::show))
        .route("/integration/connect", post(integration::connect))
        .route("/seats", get(seats::list).post(seats::add))
        .route("/seats/{id}", put(seats::edit))
        .route("/seats/{id}/revoke", post(seats::revoke))
        .route("/seats/{id}/invite", post(seats::invite))
        .route("/seats/{id}/console-password", put(seats::set_password))
        .route("/wallboard", get(wallboard::show))
        .route("/wallboard/stream", get(wallboard::stream))
        .route(
            "/routing",
            get(settings::routing).put(settings::set_routing),
        )
        .route("/routing/journal", get(settings::journal))
        .route(
            "/parking",
            get(settings::parking).put(settings::set_parking),
        )
        .route("/tags", get(settings::tags).put(settings::set_tags))
        .route(
            "/phonebook",
            get(settings::contacts).post(settings::add_contact),
        )
        .route(
            "/phonebook/{id}",
            put(settings::edit_contact).delete(settings::delete_contact),
        )
        .route("/phonebook/import", post(settings::import))
        .route("/audit", get(audit::entries))
        .route("/health", get(health::show))
        // An unknown API path is the API's (behind the guard), not a page of the app's.
        .route("/{*unknown}", any(api_not_found))
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::require,
        ))
}

async fn api_not_found() -> ConsoleError {
    ConsoleError::new(StatusCode::NOT_FOUND, "not_found", "no such console API")
}

/// The headers of every `/admin` answer; the API's are never cached.
async fn security_headers(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/admin/api");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    if api || !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// An API refusal: `{code, message, field}`.
#[derive(Debug)]
pub(crate) struct ConsoleError {
    status: StatusCode,
    body: ErrorBody,
    retry_after: Option<u64>,
    close: bool,
}

/// The body of every refusal (`ConsoleError` in TypeScript, as the page reads it).
#[derive(Debug, Serialize, ts_rs::TS)]
#[ts(rename = "ConsoleError", export_to = "ConsoleError.ts")]
pub(crate) struct ErrorBody {
    code: &'static str,
    message: String,
    field: Option<String>,
}

impl ConsoleError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code,
                message: message.into(),
                field: None,
            },
            retry_after: None,
            close: false,
        }
    }

    /// 400 naming the form field that is wrong.
    pub(crate) fn field(field: &str, message: impl Into<String>) -> Self {
        let mut error = Self::new(StatusCode::BAD_REQUEST, "bad_request", message);
        error.body.field = Some(field.to_owned());
        error
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in to the console first (no session, or it expired)",
        )
    }

    pub(crate) fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only the team's admins may do this",
        )
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub(crate) fn too_large(limit: usize) -> Self {
        let mut error = Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request's body is over {} KB", limit / 1024),
        );
        // The rest of the body is not read: the connection cannot be reused.
        error.close = true;
        error
    }

    pub(crate) fn unavailable(err: &crate::RelayError) -> Self {
        tracing::error!(error = %err, "the console's store call failed");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the relay's store is unavailable",
        )
    }

    pub(crate) fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    pub(crate) fn code(&self) -> &'static str {
        self.body.code
    }
}

impl From<crate::RelayError> for ConsoleError {
    fn from(err: crate::RelayError) -> Self {
        use crate::RelayError as E;
        match &err {
            E::TeamInput { field, reason } => {
                ConsoleError::field(field.trim_start_matches("--"), reason.clone())
            }
            E::SeatNotFound(_) => ConsoleError::not_found("seat"),
            E::SeatRevoked(seat) => ConsoleError::conflict(format!("seat {seat} is revoked")),
            E::SeatAmbiguous(name) => {
                ConsoleError::conflict(format!("more than one active seat is named {name}"))
            }
            _ => ConsoleError::unavailable(&err),
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if self.close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// Reads a body of at most `limit` bytes; one announced larger is refused before any of it
/// is read.
pub(crate) async fn read_body(
    request: Request,
    limit: usize,
) -> Result<axum::body::Bytes, ConsoleError> {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return Err(ConsoleError::too_large(limit));
    }
    axum::body::to_bytes(request.into_body(), limit)
        .await
        .map_err(|_| ConsoleError::too_large(limit))
}

/// A JSON body (at most [`BODY_LIMIT`]) read into `T`, whose unknown fields are refused; a
/// wrong one is a 400 naming the field when serde names it.
#[derive(Debug)]
pub(crate) struct ConsoleJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ConsoleJson<T> {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ConsoleError> {
        let bytes = read_body(request, BODY_LIMIT).await?;
        parse_json(&bytes).map(ConsoleJson)
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ConsoleError> {
    serde_json::from_slice(bytes).map_err(|err| {
        let message = err.to_string();
        let named = |prefix: &str| {
            message
                .split_once(prefix)
                .and_then(|(_, rest)| rest.split('`').next())
                .map(str::to_owned)
        };
        let field = named("unknown field `")
            .or_else(|| named("missing field `"))
            .unwrap_or_else(|| "body".to_owned());
        ConsoleError::field(
            &field,
            format!("the request is not what this form sends: {message}"),
        )
    })
}

/// Records a console change in the audit log, with who made it.
pub(crate) async fn audit(
    state: &RelayState,
    who: &session::Caller,
    action: &str,
    target: String,
    outcome: Outcome,
    detail: String,
) {
    record(state, who.seat, &who.name, action, target, outcome, detail).await;
}

pub(crate) async fn record(
    state: &RelayState,
    seat: i64,
    name: &str,
    action: &str,
    target: String,
    outcome: Outcome,
    detail: String,
) {
    let entry = NewAuditEntry {
        at: Utc::now(),
        seat_id: seat,
        seat_name: name.to_owned(),
        action: action.to_owned(),
        target,
        outcome,
        code: None,
        detail,
    };
    if let Err(err) = state.audit.record(entry).await {
        tracing::error!(error = %err, action, "a console change could not be audited");
    }
}
