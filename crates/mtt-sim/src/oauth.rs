//! The OAuth 2.0 server at the same paths as `oauth.mtt.ru`: `/oauth/authorize` and
//! `/oauth/token`.
//!
//! The document shows the successful exchanges only; MTT's error answers are not documented, so
//! the simulator answers errors the RFC 6749 way (`{"error": "invalid_grant",
//! "error_description": …}` with status 400, or 401 for a bad client).

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::auth_store::AuthStore;
use crate::clock::after;
use crate::fault::apply_fault;
use crate::ids;
use crate::state::SimState;
use crate::sync::lock;

/// The only scope MTT accepts.
pub const SCOPE: &str = "https://mtt.ru/auth.tokens.readwrite";

/// The OAuth routes, relative to the OAuth base URL.
pub fn oauth_router(state: SimState) -> Router {
    Router::new()
        .route(
            "/oauth/authorize",
            get(authorize_page).post(authorize_login),
        )
        .route("/oauth/token", post(token))
        .with_state(state)
}

/// An RFC 6749 error answer.
#[derive(Debug)]
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn bad(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a str,
            error_description: &'a str,
        }
        let mut response = (
            self.status,
            axum::Json(Body {
                error: self.error,
                error_description: &self.description,
            }),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><p><strong>MTT simulator</strong> — this is a simulator, not MTT.</p>{body}</body></html>",
        title = escape_html(title)
    );
    (status, Html(html)).into_response()
}

fn error_page(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "Authorization error",
        &format!(
            "<h1>Authorization error</h1><p id=\"error\">{}</p>",
            escape_html(message)
        ),
    )
}

/// The authorization request after validation.
struct AuthorizeRequest {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
}

fn validate_authorize(
    sim: &SimState,
    params: &HashMap<String, String>,
) -> Result<AuthorizeRequest, String> {
    let get = |k: &str| params.get(k).map(String::as_str);
    let client = &sim.0.config.client;
    match get("response_type") {
        Some("code") => {}
        Some(other) => return Err(format!("response_type must be \"code\", not {other:?}")),
        None => return Err("response_type is missing (it must be \"code\")".to_owned()),
    }
    let client_id = get("client_id").ok_or("client_id is missing")?;
    if client_id != client.client_id {
        return Err(format!(
            "client_id {client_id:?} is not a registered integration"
        ));
    }
    let redirect_uri = get("redirect_uri").ok_or("redirect_uri is missing")?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(format!(
            "redirect_uri {redirect_uri:?} is not the one registered for this integration"
        ));
    }
    match get("scope") {
        Some(SCOPE) => {}
        Some(other) => return Err(format!("scope must be {SCOPE:?}, not {other:?}")),
        None => return Err(format!("scope is missing (it must be {SCOPE:?})")),
    }
    Ok(AuthorizeRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        state: get("state").map(str::to_owned),
    })
}

fn login_form(params: &HashMap<String, String>, problem: Option<&str>) -> Response {
    let mut hidden = String::new();
    for key in [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
    ] {
        if let Some(v) = params.get(key) {
            hidden.push_str(&format!(
                "<input type=\"hidden\" name=\"{key}\" value=\"{}\">",
                escape_html(v)
            ));
        }
    }
    let problem = problem
        .map(|p| format!("<p id=\"error\">{}</p>", escape_html(p)))
        .unwrap_or_default();
    page(
        StatusCode::OK,
        "Вход в личный кабинет МТТ Бизнес (симулятор)",
        &format!(
            "<h1>Вход в личный кабинет (симулятор)</h1>{problem}\
             <form method=\"post\" action=\"authorize\">{hidden}\
             <label>Логин <input name=\"login\" autocomplete=\"username\"></label>\
             <label>Пароль <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>\
             <button type=\"submit\">Войти</button></form>"
        ),
    )
}

fn approve(sim: &SimState, request: AuthorizeRequest) -> Response {
    let code = sim.with_rng(ids::token);
    let lifetime = Duration::from_millis(sim.oauth_settings().code_lifetime_ms);
    let expires_at = after(sim.now(), lifetime);
    lock(&sim.0.auth).insert_code(
        code.clone(),
        request.client_id,
        request.redirect_uri.clone(),
        expires_at,
    );
    let location = match url::Url::parse(&request.redirect_uri) {
        Ok(mut url) => {
            {
                let mut pairs = url.query_pairs_mut();
                pairs.append_pair("code", &code);
                if let Some(state) = &request.state {
                    pairs.append_pair("state", state);
                }
            }
            url.to_string()
        }
        Err(e) => return error_page(&format!("the registered redirect URI is unusable: {e}")),
    };
    match HeaderValue::from_str(&location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => error_page("the redirect location could not be built"),
    }
}

async fn authorize_page(
    State(sim): State<SimState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Err(response) = apply_fault(&sim, "authorize").await {
        return response;
    }
    match validate_authorize(&sim, &params) {
        Err(message) => error_page(&message),
        Ok(request) if sim.0.config.auto_approve => approve(&sim, request),
        Ok(_) => login_form(&params, None),
    }
}

async fn authorize_login(
    State(sim): State<SimState>,
    axum::Form(params): axum::Form<HashMap<String, String>>,
) -> Response {
    let request = match validate_authorize(&sim, &params) {
        Err(message) => return error_page(&message),
        Ok(request) => request,
    };
    let login_ok = params.get("login").map(String::as_str) == Some(sim.0.config.login.as_str());
    let password_ok =
        params.get("password").map(String::as_str) == Some(sim.0.config.password.expose());
    if login_ok && password_ok {
        approve(&sim, request)
    } else {
        login_form(&params, Some("Неверный логин или пароль"))
    }
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    scope: &'static str,
    token_type: &'static str,
}

/// Counts a token request as open while it is being served; dropped when it is answered, or
/// when its client goes away first (the server then drops the handler).
struct OpenTokenRequest(SimState);

impl OpenTokenRequest {
    fn new(sim: &SimState) -> Self {
        lock(&sim.0.auth).token_request_opened();
        Self(sim.clone())
    }
}

impl Drop for OpenTokenRequest {
    fn drop(&mut self) {
        lock(&self.0.0.auth).token_request_done();
    }
}

async fn token(State(sim): State<SimState>, headers: HeaderMap, body: bytes::Bytes) -> Response {
    let _open = OpenTokenRequest::new(&sim);
    if let Err(response) = apply_fault(&sim, "token").await {
        return response;
    }
    match exchange(&sim, &headers, &body) {
        Ok(response) => {
            let mut response = axum::Json(response).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => e.into_response(),
    }
}

fn exchange(sim: &SimState, headers: &HeaderMap, body: &[u8]) -> Result<TokenResponse, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(OAuthError::bad(
            "invalid_request",
            format!(
                "the token endpoint takes application/x-www-form-urlencoded bodies, not {content_type:?}"
            ),
        ));
    }
    let mut params: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if params.insert(k.to_string(), v.to_string()).is_some() {
            return Err(OAuthError::bad(
                "invalid_request",
                format!("parameter {k} is repeated"),
            ));
        }
    }
    let get = |k: &str| params.get(k).map(String::as_str);
    let require = |k: &'static str| {
        get(k).ok_or_else(|| OAuthError::bad("invalid_request", format!("{k} is missing")))
    };
    let client = &sim.0.config.client;
    let client_id = require("client_id")?;
    let client_secret = require("client_secret")?;
    let secret_matches = client_secret == lock(&sim.0.client_secret).expose();
    if client_id != client.client_id || !secret_matches {
        return Err(OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "unknown client_id or wrong client_secret".to_owned(),
        });
    }
    let now = sim.now();
    let tokens = sim.oauth_settings();
    match require("grant_type")? {
        "authorization_code" => {
            let code = require("code")?;
            let redirect_uri = require("redirect_uri")?;
            match get("scope") {
                Some(SCOPE) => {}
                Some(other) => {
                    return Err(OAuthError::bad(
                        "invalid_scope",
                        format!("scope must be {SCOPE:?}, not {other:?}"),
                    ));
                }
                None => {
                    return Err(OAuthError::bad(
                        "invalid_request",
                        format!("scope is missing (it must be {SCOPE:?})"),
                    ));
                }
            }
            let mut auth = lock(&sim.0.auth);
            let grant = auth.code_mut(code).ok_or_else(|| {
                OAuthError::bad("invalid_grant", "the authorization code is unknown")
            })?;
            if grant.used {
                return Err(OAuthError::bad(
                    "invalid_grant",
                    "the authorization code has already been used",
                ));
            }
            if grant.expires_at <= now {
                return Err(OAuthError::bad(
                    "invalid_grant",
                    "the authorization code has expired",
                ));
            }
            if grant.client_id != client_id {
                return Err(OAuthError::bad(
                    "invalid_grant",
                    "the authorization code was issued to another client",
                ));
            }
            if grant.redirect_uri != redirect_uri {
                return Err(OAuthError::bad(
                    "invalid_grant",
                    "redirect_uri differs from the one the code was issued for",
                ));
            }
            grant.used = true;
            let access = sim.with_rng(ids::token);
            let refresh = sim.with_rng(ids::token);
            auth.insert_access(access.clone(), after(now, ms(tokens.access_lifetime_ms)));
            auth.insert_refresh(
                refresh.clone(),
                client_id.to_owned(),
                after(now, ms(tokens.refresh_lifetime_ms)),
            );
            Ok(TokenResponse {
                access_token: access,
                expires_in: tokens.access_lifetime_ms / 1000,
                refresh_token: Some(refresh),
                scope: SCOPE,
                token_type: "Bearer",
            })
        }
        "refresh_token" => {
            let refresh = require("refresh_token")?;
            let mut auth = lock(&sim.0.auth);
            let answer = refresh_grant(sim, &mut auth, client_id, refresh, now);
            auth.count_refresh(answer.is_ok());
            answer
        }
        other => Err(OAuthError::bad(
            "unsupported_grant_type",
            format!(
                "grant_type {other:?} is not supported (use authorization_code or refresh_token)"
            ),
        )),
    }
}

/// A refresh: new tokens for a valid refresh token, rotating it or keeping it as the settings
/// say. The document does not say how a refused refresh is answered; like every OAuth error
/// here it is RFC 6749's `invalid_grant` with status 400, whose description says which of
/// "unknown", "already replaced" or "expired" it was.
fn refresh_grant(
    sim: &SimState,
    auth: &mut AuthStore,
    client_id: &str,
    refresh: &str,
    now: DateTime<Utc>,
) -> Result<TokenResponse, OAuthError> {
    let tokens = sim.oauth_settings();
    let grant = auth
        .refresh_grant(refresh)
        .ok_or_else(|| OAuthError::bad("invalid_grant", "the refresh token is unknown"))?;
    if grant.replaced {
        auth.count_replaced();
        return Err(OAuthError::bad(
            "invalid_grant",
            "the refresh token was already used and has been replaced by a new one (rotation)",
        ));
    }
    if grant.expires_at <= now {
        return Err(OAuthError::bad(
            "invalid_grant",
            "the refresh token has expired; sign in again",
        ));
    }
    if grant.client_id != client_id {
        return Err(OAuthError::bad(
            "invalid_grant",
            "the refresh token was issued to another client",
        ));
    }
    let access = sim.with_rng(ids::token);
    auth.insert_access(access.clone(), after(now, ms(tokens.access_lifetime_ms)));
    // A rotated token lives its full lifetime from its own issue; a kept one keeps the expiry
    // of its first issue (the document: "fixed from issue"), so without rotation an
    // integration lapses that long after sign-in whatever the client does.
    let refresh_token = if tokens.rotate_refresh_tokens {
        auth.mark_replaced(refresh);
        let new_refresh = sim.with_rng(ids::token);
        auth.insert_refresh(
            new_refresh.clone(),
            client_id.to_owned(),
            after(now, ms(tokens.refresh_lifetime_ms)),
        );
        Some(new_refresh)
    } else if tokens.repeat_kept_refresh_token {
        Some(refresh.to_owned())
    } else {
        None
    };
    Ok(TokenResponse {
        access_token: access,
        expires_in: tokens.access_lifetime_ms / 1000,
        refresh_token,
        scope: SCOPE,
        token_type: "Bearer",
    })
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

#[cfg(test)]
mod tests {
    use super::escape_html;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
    }
}
