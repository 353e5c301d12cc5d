//! Console sessions: sign-in (argon2id, a lock after `lock_after` wrong passwords in a row, a
//! rate limit on attempts from everywhere), the session cookie, the CSRF token and the Origin
//! check, and signing out (here, or everywhere).
//!
//! The cookie holds 256 random bits; the store keeps only their SHA-256, so a copy of the
//! database opens no session. Every sign-in makes a new id: a cookie the browser sent is
//! never adopted (no fixation). The CSRF token is derived from the session id (a keyed hash
//! the page cannot compute without the HttpOnly cookie) and checked against its stored hash
//! in constant time.

use axum::Extension;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use team_api::Role;

use super::{ConsoleError, ConsoleJson, password, record};
use crate::state::RelayState;
use crate::store::audit::Outcome;
use crate::store::console::{ConsoleSessionRecord, FailedSignIn};
use crate::store::team::{SeatRecord, SeatRef};

/// The session cookie's name: `__Host-` makes the browser insist on Secure, Path=/ and no
/// Domain.
pub const COOKIE: &str = "__Host-trubka_console";
/// The CSRF token's header.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session ends after this long unused.
const IDLE: TimeDelta = TimeDelta::hours(12);
/// And this long after sign-in, used or not.
const ABSOLUTE: TimeDelta = TimeDelta::days(7);
/// A session's last use is written at most this often.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);

const WRONG: &str = "the name or password is wrong";

/// Who is signed in, as the guard found them.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) seat: i64,
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) id_hash: [u8; 32],
    csrf: String,
    expires_at: DateTime<Utc>,
}

impl Caller {
    /// Refuses a supervisor what only admins may do.
    pub(crate) fn admin(&self) -> Result<(), ConsoleError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(ConsoleError::forbidden())
        }
    }
}

/// `ConsoleSession` of the contract.
#[derive(Debug, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "ConsoleSession.ts")]
pub struct ConsoleSession {
    seat: i64,
    name: String,
    #[ts(as = "ConsoleRole")]
    role: Role,
    csrf_token: String,
    #[ts(type = "string")]
    expires_at: DateTime<Utc>,
}

impl From<&Caller> for ConsoleSession {
    fn from(caller: &Caller) -> Self {
        Self {
            seat: caller.seat,
            name: caller.name.clone(),
            role: caller.role,
            csrf_token: caller.csrf.clone(),
            expires_at: caller.expires_at,
        }
    }
}

/// The roles that may sign in to the console: what [`ConsoleSession`]'s `role` can be, spelled
/// as [`Role`] spells them (`bindings.rs` checks it). The session keeps the seat's `Role`; this
/// is its TypeScript type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export_to = "ConsoleRole.ts")]
pub enum ConsoleRole {
    /// `Role::Admin`.
    Admin,
    /// `Role::Supervisor`.
    Supervisor,
}

/// `POST /admin/api/session`'s body.
#[derive(Debug, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export_to = "ConsoleSignIn.ts")]
pub struct ConsoleSignIn {
    login: String,
    password: String,
}

fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

fn csrf_for(session_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("trubka console csrf\0{session_id}").as_bytes(),
    ))
}

fn expires_at(session: &ConsoleSessionRecord) -> DateTime<Utc> {
    (session.created_at + ABSOLUTE).min(session.last_used_at + IDLE)
}

/// Removes the expired sessions (retention runs it); answers how many.
pub async fn prune_expired(state: &RelayState) -> Result<u64, crate::RelayError> {
    let now = Utc::now();
    state
        .console_store
        .prune_console_sessions(now - IDLE, now - ABSOLUTE)
        .await
}

/// The session id the request's cookie carries.
fn cookie_session(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

fn set_cookie(value: &str, clear: bool) -> HeaderValue {
    let text = if clear {
        format!("{COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0")
    } else {
        format!("{COOKIE}={value}; HttpOnly; Secure; SameSite=Strict; Path=/")
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The relay's own origin: the public URL when configured, else what the request's `Host`
/// names (a browser sends the page's origin, which then has the same host).
fn same_origin(state: &RelayState, headers: &HeaderMap, origin: &str) -> bool {
    if let Some(public) = &state.config.public_url {
        return origin.eq_ignore_ascii_case(public);
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    authority.is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

/// The guard of every `/admin/api` route: a valid session, and on anything but GET and HEAD
/// the session's CSRF token and no foreign `Origin`. Only `POST /session` (the sign-in) passes
/// without a session. A seat's `Authorization: Bearer` is ignored: it is not a session.
pub(crate) async fn require(
    State(state): State<RelayState>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let reads = method == Method::GET || method == Method::HEAD;
    let headers = request.headers();
    if !reads
        && let Some(origin) = headers.get(header::ORIGIN)
        && !origin
            .to_str()
            .is_ok_and(|origin| same_origin(&state, headers, origin))
    {
        return ConsoleError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a change to the console must come from the console's own page (Origin)",
        )
        .into_response();
    }
    let path = request.uri().path();
    if method == Method::POST && (path == "/session" || path == "/admin/api/session") {
        return next.run(request).await;
    }
    let caller = match authenticate(&state, headers).await {
        Ok(caller) => caller,
        Err(refused) => return refused.into_response(),
    };
    if !reads {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !bool::from(sha256(sent).ct_eq(&sha256(&caller.csrf))) || sent.is_empty() {
            return ConsoleError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "the console's CSRF token is missing or wrong: reload the page",
            )
            .into_response();
        }
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The seat behind a session, if it still may use the console.
fn console_seat(seats: Vec<SeatRecord>, seat: i64) -> Option<SeatRecord> {
    seats.into_iter().find(|record| {
        record.profile.id == seat
            && record.revoked_at.is_none()
            && matches!(record.profile.role, Role::Admin | Role::Supervisor)
    })
}

async fn authenticate(state: &RelayState, headers: &HeaderMap) -> Result<Caller, ConsoleError> {
    let Some(id) = cookie_session(headers) else {
        return Err(ConsoleError::unauthorized());
    };
    let id_hash = sha256(&id);
    let store = &state.console_store;
    let Some(session) = store.console_session(id_hash).await? else {
        return Err(ConsoleError::unauthorized());
    };
    let now = Utc::now();
    if expires_at(&session) <= now {
        store.remove_console_session(id_hash).await?;
        return Err(ConsoleError::unauthorized());
    }
    let seats = state.team.seats().await?;
    let Some(seat) = console_seat(seats, session.seat) else {
        // Revoked, or no longer an admin or supervisor: the session is over.
        store.remove_console_session(id_hash).await?;
        return Err(ConsoleError::unauthorized());
    };
    let mut last_used = session.last_used_at;
    if now - session.last_used_at >= TOUCH_EVERY {
        store.touch_console_session(id_hash, now).await?;
        last_used = now;
    }
    Ok(Caller {
        seat: seat.profile.id,
        name: seat.profile.name,
        role: seat.profile.role,
        id_hash,
        csrf: csrf_for(&id),
        expires_at: expires_at(&ConsoleSessionRecord {
            last_used_at: last_used,
            ..session
        }),
    })
}

/// `POST /admin/api/session`: a new session for the right name and password.
pub(crate) async fn sign_in(
    State(state): State<RelayState>,
    ConsoleJson(body): ConsoleJson<ConsoleSignIn>,
) -> Result<Response, ConsoleError> {
    if let Err(wait) = state.console.sign_ins.take() {
        return Err(ConsoleError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many sign-in attempts at this relay; try again shortly",
        )
        .retry_after(wait.as_secs()));
    }
    let login = body.login.trim();
    if login.is_empty() {
        return Err(ConsoleError::field(
            "login",
            "enter your seat's name or number",
        ));
    }
    if body.password.is_empty() {
        return Err(ConsoleError::field(
            "password",
            "enter your console password",
        ));
    }
    let seats = state.team.seats().await?;
    let seat = match SeatRef::parse(login) {
        SeatRef::Id(id) => console_seat(seats, id),
        SeatRef::Name(name) => {
            let named: Vec<SeatRecord> = seats
                .into_iter()
                .filter(|seat| seat.revoked_at.is_none() && seat.profile.name == name)
                .collect();
            match named.as_slice() {
                [one] => console_seat(named.clone(), one.profile.id),
                _ => None,
            }
        }
    };
    let account = match &seat {
        Some(seat) => state.console_store.console_account(seat.profile.id).await?,
        None => None,
    };
    let (Some(seat), Some(account)) = (seat, account) else {
        // As slow as a wrong password, and worded the same: no hint that the login exists.
        password::verify(body.password, None).await;
        record(
            &state,
            0,
            "",
            "console.sign_in",
            login.chars().take(64).collect(),
            Outcome::Refused,
            "unknown login, or not an admin or supervisor with a console password".into(),
        )
        .await;
        return Err(ConsoleError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            WRONG,
        ));
    };
    let profile = seat.profile;
    let now = Utc::now();
    if let Some(until) = account.locked_until
        && until > now
    {
        record(
            &state,
            profile.id,
            &profile.name,
            "console.sign_in",
            profile.id.to_string(),
            Outcome::Refused,
            format!("locked until {until}"),
        )
        .await;
        return Err(locked(until, now));
    }
    if !password::verify(body.password, Some(account.password_hash)).await {
        let settings = &state.config.console;
        let lock = TimeDelta::from_std(settings.lock_for).unwrap_or(TimeDelta::MAX);
        let failed = state
            .console_store
            .console_sign_in_failed(profile.id, now, settings.lock_after, lock)
            .await?;
        return Err(match failed {
            FailedSignIn::Counted(count) => {
                record(
                    &state,
                    profile.id,
                    &profile.name,
                    "console.sign_in",
                    profile.id.to_string(),
                    Outcome::Refused,
                    format!("wrong password ({count} in a row)"),
                )
                .await;
                ConsoleError::new(StatusCode::UNAUTHORIZED, "unauthorized", WRONG)
            }
            FailedSignIn::Locked(until) => {
                tracing::warn!(
                    seat = profile.id,
                    "a console account was locked after wrong passwords"
                );
                record(
                    &state,
                    profile.id,
                    &profile.name,
                    "console.lockout",
                    profile.id.to_string(),
                    Outcome::Refused,
                    format!(
                        "{} wrong passwords in a row: locked until {until}",
                        settings.lock_after
                    ),
                )
                .await;
                locked(until, now)
            }
        });
    }
    state
        .console_store
        .console_sign_in_succeeded(profile.id)
        .await?;
    let id = URL_SAFE_NO_PAD.encode(crate::seats::random::<32>()?);
    let csrf = csrf_for(&id);
    let session = ConsoleSessionRecord {
        id_hash: sha256(&id),
        csrf_hash: sha256(&csrf),
        seat: profile.id,
        created_at: now,
        last_used_at: now,
    };
    let expires = expires_at(&session);
    state.console_store.add_console_session(session).await?;
    record(
        &state,
        profile.id,
        &profile.name,
        "console.sign_in",
        profile.id.to_string(),
        Outcome::Done,
        String::new(),
    )
    .await;
    let body = ConsoleSession {
        seat: profile.id,
        name: profile.name,
        role: profile.role,
        csrf_token: csrf,
        expires_at: expires,
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&id, false));
    Ok(response)
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> ConsoleError {
    let seconds = u64::try_from((until - now).num_seconds()).unwrap_or(1);
    ConsoleError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "locked",
        format!(
            "too many wrong passwords: this account is locked until {}",
            until.format("%H:%M UTC")
        ),
    )
    .retry_after(seconds)
}

/// `GET /admin/api/session`.
pub(crate) async fn current(Extension(caller): Extension<Caller>) -> Json<ConsoleSession> {
    Json(ConsoleSession::from(&caller))
}

/// `DELETE /admin/api/session`: ends this session and clears the cookie.
pub(crate) async fn sign_out(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ConsoleError> {
    state
        .console_store
        .remove_console_session(caller.id_hash)
        .await?;
    super::audit(
        &state,
        &caller,
        "console.sign_out",
        caller.seat.to_string(),
        Outcome::Done,
        String::new(),
    )
    .await;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie("", true));
    Ok(response)
}

/// `DELETE /admin/api/sessions`: ends every session of this account, this one too.
pub(crate) async fn sign_out_everywhere(
    State(state): State<RelayState>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, ConsoleError> {
    let ended = state
        .console_store
        .remove_console_sessions_of(caller.seat)
        .await?;
    super::audit(
        &state,
        &caller,
        "console.sign_out_everywhere",
        caller.seat.to_string(),
        Outcome::Done,
        format!("{ended} sessions ended"),
    )
    .await;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie("", true));
    Ok(response)
}
