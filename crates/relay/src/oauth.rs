//! OAuth hand-off: the browser lands on the Redirect URI with `?code&state`, and the app that
//! owns `state` fetches the code with a long poll.
//!
//! The code is a secret: it is kept in memory only, under its state, handed out once, dropped
//! after its time to live, never logged and never echoed into the page. In personal mode it is
//! useless without the client secret, which stays in the app.
//!
//! What a fetch is answered: the sign-in (200) once; 404 `pending` while nothing has landed
//! (ask again); 410 `taken` or `expired` once it was fetched or outlived its time to live — 410
//! is final, so an app stops asking (see [`fetch_code`]).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use crate::handoff::{AuthCode, Handoff, LandingRefusal, Missing, SignIn};
use crate::state::RelayState;

/// The longest state accepted.
const MAX_STATE_LEN: usize = 512;

/// The query of the browser's landing.
#[derive(Debug, Deserialize)]
pub(crate) struct LandingQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, lines: &[String], app_link: Option<&str>) -> Response {
    let mut body = String::with_capacity(1024);
    body.push_str("<!doctype html>\n<html><head><meta charset=\"utf-8\">");
    body.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    if let Some(link) = app_link {
        body.push_str(&format!(
            "<meta http-equiv=\"refresh\" content=\"1; url={}\">",
            escape_html(link)
        ));
    }
    body.push_str(&format!(
        "<title>{}</title><style>body{{font-family:sans-serif;max-width:36em;margin:4em auto;padding:0 1em}}</style></head><body>",
        escape_html(title)
    ));
    for line in lines {
        body.push_str(&format!("<p>{line}</p>"));
    }
    if let Some(link) = app_link {
        body.push_str(&format!(
            "<p><a href=\"{}\">Открыть Trubka / Open Trubka</a></p>",
            escape_html(link)
        ));
    }
    body.push_str("</body></html>\n");
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The landing URL carries the code: no other site may learn it from a Referer.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `GET /<hook>?code=…&state=…` (or `?error=…`): the browser's landing after sign-in.
pub(crate) async fn landing(
    State(state): State<RelayState>,
    Path(hook): Path<String>,
    Query(query): Query<LandingQuery>,
) -> Response {
    if !state.config.hook.matches(&hook) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let app_link = state.config.app_link.as_deref();
    let bad_request = |ru: &str, en: &str| {
        page(
            StatusCode::BAD_REQUEST,
            "Trubka",
            &[escape_html(ru), escape_html(en)],
            None,
        )
    };
    let Some(oauth_state) = query
        .state
        .filter(|s| !s.is_empty() && s.len() <= MAX_STATE_LEN)
    else {
        return bad_request(
            "В адресе нет параметра state — начните вход из приложения заново.",
            "The address has no state parameter — start signing in from the app again.",
        );
    };
    let sign_in = match (query.code, query.error) {
        (_, Some(error)) => SignIn::Refused {
            error,
            description: query.error_description,
        },
        (Some(code), None) if !code.is_empty() => SignIn::Code(AuthCode(code)),
        _ => {
            return bad_request(
                "В адресе нет ни кода, ни ошибки — начните вход из приложения заново.",
                "The address has neither a code nor an error — start signing in from the app again.",
            );
        }
    };
    // A sign-in the relay started itself (`team connect`) is exchanged here, not handed off.
    if let Some(outcome) = state.integration.land(&oauth_state, &sign_in).await {
        return match outcome {
            Ok(()) => page(
                StatusCode::OK,
                "Интеграция подключена / Integration connected",
                &[
                    "<strong>Интеграция МТТ подключена к серверу команды.</strong>".to_owned(),
                    "<strong>The МТТ integration is connected to the team server.</strong>"
                        .to_owned(),
                ],
                None,
            ),
            Err(why) => page(
                StatusCode::BAD_GATEWAY,
                "Интеграция не подключена / Integration not connected",
                &[
                    format!(
                        "<strong>Интеграция не подключена</strong>: {}",
                        escape_html(&why)
                    ),
                    format!(
                        "<strong>The integration is not connected</strong>: {}. Run `trubka-relay team connect` again.",
                        escape_html(&why)
                    ),
                ],
                None,
            ),
        };
    }
    let refused = match &sign_in {
        SignIn::Refused { error, description } => {
            let detail = match description {
                Some(description) => format!("{error}: {description}"),
                None => error.clone(),
            };
            Some(escape_html(&detail))
        }
        SignIn::Code(_) => None,
    };
    match state.handoff.land(&oauth_state, sign_in) {
        Ok(()) => {}
        Err(LandingRefusal::AlreadyReceived) => {
            return page(
                StatusCode::CONFLICT,
                "Trubka",
                &[
                    "Этот вход уже получен — вернитесь в приложение.".to_owned(),
                    "This sign-in was already received — return to the app.".to_owned(),
                ],
                app_link,
            );
        }
        Err(LandingRefusal::Full) => {
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Trubka",
                &[
                    "Сервер перегружен — попробуйте войти через минуту.".to_owned(),
                    "The server is busy — try signing in again in a minute.".to_owned(),
                ],
                None,
            );
        }
    }
    match refused {
        None => page(
            StatusCode::OK,
            "Вход выполнен / Signed in",
            &[
                "<strong>Вход выполнен — вернитесь в приложение.</strong>".to_owned(),
                "<strong>Signed in — return to the app.</strong>".to_owned(),
            ],
            app_link,
        ),
        Some(detail) => page(
            StatusCode::OK,
            "Вход не выполнен / Sign-in failed",
            &[
                format!(
                    "<strong>Вход не выполнен</strong>: {detail}. Вернитесь в приложение и попробуйте ещё раз."
                ),
                format!(
                    "<strong>Sign-in failed</strong>: {detail}. Return to the app and try again."
                ),
            ],
            app_link,
        ),
    }
}

/// The JSON the app receives from `GET /oauth/code/<state>`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Fetched<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
}

/// `GET /oauth/code/<state>`: a long poll that returns the sign-in once.
///
/// - 200 `{"code":…}` or `{"error":…,"errorDescription":…}`: the sign-in, handed out this once;
/// - 404 `{"reason":"pending"}`: nothing landed for this state while the poll waited (or the
///   relay is stopping) — ask again;
/// - 410 `{"reason":"taken"}`: the sign-in was already fetched; 410 `{"reason":"expired"}`: it
///   landed but nobody fetched it within `oauth_code_ttl`. Both are final: start a new sign-in.
///   They are answered at once, for half an hour after the code was taken or expired.
pub(crate) async fn fetch_code(
    State(state): State<RelayState>,
    Path(oauth_state): Path<String>,
) -> Response {
    let timeout = state.config.oauth_poll_timeout;
    let taken = tokio::select! {
        taken = state.handoff.take(&oauth_state, timeout) => taken,
        () = state.shutdown.cancelled() => Err(Missing::NotYet),
    };
    let mut response = match &taken {
        Ok(SignIn::Code(code)) => Json(Fetched {
            code: Some(code.expose_secret()),
            error: None,
            error_description: None,
        })
        .into_response(),
        Ok(SignIn::Refused { error, description }) => Json(Fetched {
            code: None,
            error: Some(error),
            error_description: description.as_deref(),
        })
        .into_response(),
        Err(Missing::NotYet) => (
            StatusCode::NOT_FOUND,
            Json(json!({
                "reason": "pending",
                "message": "no sign-in has landed for this state yet; ask again",
            })),
        )
            .into_response(),
        Err(Missing::Taken) => (
            StatusCode::GONE,
            Json(json!({
                "reason": "taken",
                "message": "this sign-in was already fetched; start signing in again",
            })),
        )
            .into_response(),
        Err(Missing::Expired) => (
            StatusCode::GONE,
            Json(json!({
                "reason": "expired",
                "message": "this sign-in was not fetched in time and is dropped; start signing in again",
            })),
        )
            .into_response(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_redacted_and_html_is_escaped() {
        assert_eq!(
            format!("{:?}", AuthCode("secret".into())),
            "AuthCode([redacted])"
        );
        assert_eq!(
            escape_html("<script>\"a\"&'b'"),
            "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;"
        );
    }
}
