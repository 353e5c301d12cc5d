//! The control API: scripting scenarios from tests, the CLI and the demo.
//!
//! Everything lives under `/control` on the control server. Bodies and answers are JSON with
//! snake_case keys; errors have the same `{"error": {"code", "message"}}` shape as the
//! simulated Open API.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /control/state` | the account, timings, webhook target and URLs |
//! | `POST /control/incoming` | `{from, to, caller_name?, …plan}`: an incoming call; answers the call's key and leg ids |
//! | `POST /control/outgoing` | `{caller_id, callee_id, …plan}`: makeCall without a token |
//! | `POST /control/answer`, `/control/hangup` | `{call, by?}`: a party answers or hangs up; `call` is a key, a leg id or makeCall's id; `by` a workplace, `caller` or `callee` |
//! | `GET /control/calls?all=` | calls in progress (and recently ended ones) |
//! | `GET /control/deliveries?since=&limit=` | the webhook delivery log |
//! | `GET /control/stats` | delivery totals and active calls |
//! | `GET /control/requests?method=&since=` | the terminateCall and transferCall requests received (`seq`, `method`, `received_at`, `leg_id`, `callee_id`, `status`), after `since` |
//! | `POST /control/workplaces`, `DELETE /control/workplaces/{id}` | change workplaces (emits `workplacesChanged`) |
//! | `POST /control/numbers`, `DELETE /control/numbers/{number}` | change external numbers (emits `numbersChanged`) |
//! | `GET`/`PUT /control/timings` | read or patch the delays and windows |
//! | `GET`/`PUT /control/faults` | per-method latency and failure rate (`null` removes) |
//! | `GET`/`PUT /control/webhook` | `{url?, retry?}`: where and how notifications are sent |
//! | `POST /control/tokens`, `/control/codes` | issue an access token or an authorization code, optionally with a given value |
//! | `POST`/`DELETE /control/traffic` | start (`{calls_per_second, time_scale}`) or stop the traffic generator |
//! | `GET`/`PUT /control/clock`, `GET`/`PUT /control/oauth` | the simulated clock and the OAuth lifetimes and refresh-token mode (see `control_time.rs`) |
//!
//! The plan keys (`answer_after_ms`, `answer_by`, `operator_answer_ms`, `callee_answer_ms`,
//! `talk_ms`, `caller_hangs_up`, `caller_gives_up_ms`, `record`, `manual`) override the
//! configured timings for one call; `manual: true` turns every automatic answer and hang-up
//! off.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;
use crate::clock::after;
use crate::config::{MethodFault, NumberConfig, RetryPolicy, TrafficConfig, WorkplaceConfig};
use crate::control_time::time_routes;
use crate::ids;
use crate::oauth::SCOPE;
use crate::pbx::{self, CallPlan};
use crate::state::SimState;
use crate::sync::lock;
use crate::traffic;
use crate::wire::PbxEventType;

/// The control routes.
pub fn control_router(state: SimState) -> Router {
    Router::new()
        .route("/control/state", get(get_state))
        .route("/control/incoming", post(incoming))
        .route("/control/outgoing", post(outgoing))
        .route("/control/answer", post(answer))
        .route("/control/hangup", post(hangup))
        .route("/control/calls", get(calls))
        .route("/control/deliveries", get(deliveries))
        .route("/control/requests", get(leg_requests))
        .route("/control/stats", get(stats))
        .route("/control/workplaces", post(add_workplace))
        .route("/control/workplaces/{id}", delete(remove_workplace))
        .route("/control/numbers", post(add_number))
        .route("/control/numbers/{number}", delete(remove_number))
        .route("/control/timings", get(get_timings).put(put_timings))
        .route("/control/faults", get(get_faults).put(put_faults))
        .route("/control/webhook", get(get_webhook).put(put_webhook))
        .route("/control/tokens", post(issue_token))
        .route("/control/codes", post(issue_code))
        .route("/control/traffic", post(start_traffic).delete(stop_traffic))
        .with_state(state.clone())
        .merge(time_routes(state))
}

type Answer = Result<Response, ApiError>;

fn json<T: Serialize>(value: T) -> Answer {
    Ok(Json(value).into_response())
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}

/// Keys of [`PlanOverrides`]; flattened structs cannot deny unknown keys themselves.
const PLAN_KEYS: &[&str] = &[
    "answer_after_ms",
    "answer_by",
    "operator_answer_ms",
    "callee_answer_ms",
    "talk_ms",
    "caller_hangs_up",
    "caller_gives_up_ms",
    "record",
    "manual",
];

/// Refuses keys that are neither in `own` nor plan overrides, so a typo is not ignored.
fn reject_unknown_keys(bytes: &[u8], own: &[&str]) -> Result<(), ApiError> {
    let object: serde_json::Map<String, serde_json::Value> = body(bytes)?;
    let unknown: Vec<&str> = object
        .keys()
        .map(String::as_str)
        .filter(|k| !own.contains(k) && !PLAN_KEYS.contains(k))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(bad(format!("unknown keys: {}", unknown.join(", "))))
    }
}

/// Parses a JSON body into `T`, naming what was wrong.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| bad(format!("the body is not as expected: {e}")))
}

#[derive(Serialize)]
struct StateView {
    account: crate::account::Account,
    timings: crate::config::Timings,
    webhook_target: String,
    oauth_url: String,
    api_url: String,
    control_url: String,
}

async fn get_state(State(sim): State<SimState>) -> Answer {
    json(StateView {
        account: sim.account(),
        timings: sim.timings(),
        webhook_target: sim.0.webhooks.target(),
        oauth_url: sim.0.urls.oauth.clone(),
        api_url: sim.0.urls.api.clone(),
        control_url: sim.0.urls.control.clone(),
    })
}

/// Overrides of a call's plan, all optional: unset fields follow the configured timings.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct PlanOverrides {
    /// Ringing workplace answers after this many ms.
    pub answer_after_ms: Option<u64>,
    /// Which workplace answers.
    pub answer_by: Option<String>,
    /// Operator of a makeCall answers after this many ms.
    pub operator_answer_ms: Option<u64>,
    /// Callee of a makeCall answers after this many ms.
    pub callee_answer_ms: Option<u64>,
    /// Conversation length.
    pub talk_ms: Option<u64>,
    /// The caller (A) hangs up at the end of the conversation.
    #[serde(default)]
    pub caller_hangs_up: bool,
    /// The caller gives up ringing after this many ms.
    pub caller_gives_up_ms: Option<u64>,
    /// Record the call (default: the configured `recording`).
    pub record: Option<bool>,
    /// No automatic answers or hang-ups at all: everything through `answer`/`hangup`.
    #[serde(default)]
    pub manual: bool,
}

impl PlanOverrides {
    fn plan(&self, sim: &SimState) -> CallPlan {
        let mut plan = CallPlan::from_timings(&sim.timings());
        if self.manual {
            plan.operator_answer = None;
            plan.callee_answer = None;
            plan.incoming_answer = None;
            plan.talk = None;
        }
        let d = Duration::from_millis;
        if let Some(v) = self.answer_after_ms {
            plan.incoming_answer = Some(d(v));
        }
        if let Some(v) = self.operator_answer_ms {
            plan.operator_answer = Some(d(v));
        }
        if let Some(v) = self.callee_answer_ms {
            plan.callee_answer = Some(d(v));
        }
        if let Some(v) = self.talk_ms {
            plan.talk = Some(d(v));
        }
        if let Some(v) = self.caller_gives_up_ms {
            plan.caller_gives_up = Some(d(v));
        }
        if let Some(v) = self.record {
            plan.record = v;
        }
        plan.answer_by.clone_from(&self.answer_by);
        plan.caller_hangs_up = self.caller_hangs_up;
        plan
    }
}

/// `POST /control/incoming`.
#[derive(Debug, Deserialize, Serialize)]
pub struct IncomingRequest {
    /// Caller number.
    pub from: String,
    /// The account's external number called.
    pub to: String,
    /// Caller's name as the network shows it.
    #[serde(default)]
    pub caller_name: Option<String>,
    /// Plan overrides.
    #[serde(flatten)]
    pub plan: PlanOverrides,
}

async fn incoming(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    reject_unknown_keys(&bytes, &["from", "to", "caller_name"])?;
    let request: IncomingRequest = body(&bytes)?;
    let plan = request.plan.plan(&sim);
    json(pbx::incoming(
        &sim,
        &request.from,
        &request.to,
        request.caller_name,
        plan,
    )?)
}

/// `POST /control/outgoing`: makeCall without a token.
#[derive(Debug, Deserialize, Serialize)]
pub struct OutgoingRequest {
    /// Operator workplace.
    pub caller_id: String,
    /// Number to dial.
    pub callee_id: String,
    /// Plan overrides.
    #[serde(flatten)]
    pub plan: PlanOverrides,
}

async fn outgoing(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    reject_unknown_keys(&bytes, &["caller_id", "callee_id"])?;
    let request: OutgoingRequest = body(&bytes)?;
    let plan = request.plan.plan(&sim);
    json(pbx::make_call(
        &sim,
        &request.caller_id,
        &request.callee_id,
        plan,
    )?)
}

/// `POST /control/answer` and `/control/hangup`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PartyAction {
    /// The call: its key, a leg id or makeCall's id.
    pub call: String,
    /// Who acts: a workplace SIP ID, `caller` or `callee`.
    #[serde(default)]
    pub by: Option<String>,
}

#[derive(Serialize)]
struct Done {
    ok: bool,
}

async fn answer(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let action: PartyAction = body(&bytes)?;
    pbx::answer(&sim, &action.call, action.by).await?;
    json(Done { ok: true })
}

async fn hangup(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let action: PartyAction = body(&bytes)?;
    pbx::hangup(&sim, &action.call, action.by).await?;
    json(Done { ok: true })
}

#[derive(Deserialize)]
struct CallsQuery {
    #[serde(default)]
    all: bool,
}

async fn calls(State(sim): State<SimState>, Query(q): Query<CallsQuery>) -> Answer {
    json(pbx::snapshots(&sim, q.all))
}

#[derive(Deserialize)]
struct DeliveriesQuery {
    #[serde(default)]
    since: u64,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    1_000
}

async fn deliveries(State(sim): State<SimState>, Query(q): Query<DeliveriesQuery>) -> Answer {
    json(sim.0.webhooks.log_since(q.since, q.limit))
}

#[derive(Deserialize)]
struct LegRequestsQuery {
    #[serde(default)]
    since: u64,
    method: Option<String>,
}

async fn leg_requests(State(sim): State<SimState>, Query(q): Query<LegRequestsQuery>) -> Answer {
    json(lock(&sim.0.leg_requests).since(q.since, q.method.as_deref()))
}

#[derive(Serialize)]
struct Stats {
    webhooks: crate::webhook::DeliveryStats,
    active_calls: usize,
}

async fn stats(State(sim): State<SimState>) -> Answer {
    let active_calls = pbx::snapshots(&sim, false).len();
    json(Stats {
        webhooks: sim.0.webhooks.stats(),
        active_calls,
    })
}

#[derive(Serialize)]
struct Changed {
    changed: bool,
}

fn check_sip_id(what: &str, id: &str) -> Result<(), ApiError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("{what} {id:?} must be digits (a SIP ID)")));
    }
    Ok(())
}

async fn add_workplace(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let workplace: WorkplaceConfig = body(&bytes)?;
    check_sip_id("workplace", &workplace.workplace)?;
    for t in &workplace.terminals {
        check_sip_id("terminal", t)?;
    }
    let changed = lock(&sim.0.account).upsert_workplace(workplace);
    if changed {
        sim.emit_pbx(PbxEventType::WorkplacesChanged);
    }
    json(Changed { changed })
}

async fn remove_workplace(State(sim): State<SimState>, Path(id): Path<String>) -> Answer {
    let changed = lock(&sim.0.account).remove_workplace(&id);
    if !changed {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_workplace",
            format!("there is no workplace {id}"),
        ));
    }
    sim.emit_pbx(PbxEventType::WorkplacesChanged);
    json(Changed { changed })
}

async fn add_number(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let number: NumberConfig = body(&bytes)?;
    check_sip_id("number", &number.number)?;
    let changed = lock(&sim.0.account).add_number(number);
    if changed {
        sim.emit_pbx(PbxEventType::NumbersChanged);
    }
    json(Changed { changed })
}

async fn remove_number(State(sim): State<SimState>, Path(number): Path<String>) -> Answer {
    let changed = lock(&sim.0.account).remove_number(&number);
    if !changed {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_number",
            format!("there is no external number {number}"),
        ));
    }
    sim.emit_pbx(PbxEventType::NumbersChanged);
    json(Changed { changed })
}

async fn get_timings(State(sim): State<SimState>) -> Answer {
    json(sim.timings())
}

/// Merges the given keys into the timings; unknown keys are refused.
async fn put_timings(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let patch: serde_json::Map<String, serde_json::Value> = body(&bytes)?;
    let mut current = serde_json::to_value(sim.timings())
        .map_err(|e| bad(format!("the timings could not be read: {e}")))?;
    if let Some(object) = current.as_object_mut() {
        for (k, v) in patch {
            object.insert(k, v);
        }
    }
    let timings = serde_json::from_value(current)
        .map_err(|e| bad(format!("the timings are not valid: {e}")))?;
    sim.set_timings(timings);
    json(sim.timings())
}

async fn get_faults(State(sim): State<SimState>) -> Answer {
    json(lock(&sim.0.faults).clone())
}

/// Sets the faults of the named methods; a method given `null` loses its fault.
async fn put_faults(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let patch: BTreeMap<String, Option<MethodFault>> = body(&bytes)?;
    for (method, fault) in &patch {
        if let Some(f) = fault
            && !(0.0..=1.0).contains(&f.failure_rate)
        {
            return Err(bad(format!(
                "{method}: failure_rate must be between 0 and 1"
            )));
        }
    }
    let mut faults = lock(&sim.0.faults);
    for (method, fault) in patch {
        match fault {
            Some(f) => faults.insert(method, f),
            None => faults.remove(&method),
        };
    }
    json(faults.clone())
}

#[derive(Serialize)]
struct WebhookView {
    target: String,
}

async fn get_webhook(State(sim): State<SimState>) -> Answer {
    json(WebhookView {
        target: sim.0.webhooks.target(),
    })
}

/// `PUT /control/webhook`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// New webhook base (`/events` is appended).
    #[serde(default)]
    pub url: Option<String>,
    /// New retry policy; `null` turns retry off.
    #[serde(default)]
    pub retry: Option<Option<RetryPolicy>>,
}

async fn put_webhook(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let settings: WebhookSettings = body(&bytes)?;
    if let Some(url) = &settings.url {
        url::Url::parse(url).map_err(|e| bad(format!("url {url:?} is not valid: {e}")))?;
        sim.0.webhooks.set_base(url);
    }
    if let Some(retry) = settings.retry {
        sim.0.webhooks.set_retry(retry);
    }
    json(WebhookView {
        target: sim.0.webhooks.target(),
    })
}

/// `POST /control/tokens`: issue an access token directly (optionally with a chosen value, so
/// the document's curl examples can run as given).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token's value; random when unset.
    #[serde(default)]
    pub access_token: Option<String>,
    /// Lifetime; the configured access lifetime when unset.
    #[serde(default)]
    pub lifetime_ms: Option<u64>,
}

#[derive(Serialize)]
struct IssuedToken {
    access_token: String,
    expires_in: u64,
    token_type: &'static str,
    scope: &'static str,
}

async fn issue_token(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let request: TokenRequest = if bytes.is_empty() {
        TokenRequest::default()
    } else {
        body(&bytes)?
    };
    let lifetime = request
        .lifetime_ms
        .unwrap_or(sim.oauth_settings().access_lifetime_ms);
    let token = match request.access_token {
        Some(t) if !t.is_empty() => t,
        Some(_) => return Err(bad("access_token must not be empty")),
        None => sim.with_rng(ids::token),
    };
    let expires = after(sim.now(), Duration::from_millis(lifetime));
    lock(&sim.0.auth).insert_access(token.clone(), expires);
    json(IssuedToken {
        access_token: token,
        expires_in: lifetime / 1000,
        token_type: "Bearer",
        scope: SCOPE,
    })
}

/// `POST /control/codes`: issue an authorization code directly.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The code's value; random when unset.
    #[serde(default)]
    pub code: Option<String>,
    /// The redirect URI it is bound to; the first registered one when unset.
    #[serde(default)]
    pub redirect_uri: Option<String>,
}

#[derive(Serialize)]
struct IssuedCode {
    code: String,
    redirect_uri: String,
}

async fn issue_code(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let request: CodeRequest = if bytes.is_empty() {
        CodeRequest::default()
    } else {
        body(&bytes)?
    };
    let client = &sim.0.config.client;
    let redirect_uri = request
        .redirect_uri
        .or_else(|| client.redirect_uris.first().cloned())
        .unwrap_or_default();
    let code = request.code.unwrap_or_else(|| sim.with_rng(ids::token));
    let expires = after(
        sim.now(),
        Duration::from_millis(sim.oauth_settings().code_lifetime_ms),
    );
    lock(&sim.0.auth).insert_code(
        code.clone(),
        client.client_id.clone(),
        redirect_uri.clone(),
        expires,
    );
    json(IssuedCode { code, redirect_uri })
}

async fn start_traffic(State(sim): State<SimState>, bytes: bytes::Bytes) -> Answer {
    let config: TrafficConfig = if bytes.is_empty() {
        TrafficConfig::default()
    } else {
        body(&bytes)?
    };
    config.validate().map_err(|e| bad(e.to_string()))?;
    traffic::start(&sim, config);
    json(config)
}

async fn stop_traffic(State(sim): State<SimState>) -> Answer {
    json(Changed {
        changed: traffic::stop(&sim),
    })
}
