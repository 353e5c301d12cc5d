//! Shared helpers: a simulator with fast timings and a webhook receiver that records bodies.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::post;
use mtt_sim::{Sim, SimConfig, SimHandle};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// Records every POST to `/events`; answers with the statuses queued in `replies` (then 200).
#[derive(Clone, Default)]
pub struct Receiver {
    bodies: Arc<Mutex<Vec<Value>>>,
    replies: Arc<Mutex<Vec<u16>>>,
    arrived: Arc<Notify>,
    pub base: String,
}

impl Receiver {
    pub async fn start() -> Self {
        let mut receiver = Self::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        receiver.base = format!("http://{}", listener.local_addr().unwrap());
        let r = receiver.clone();
        let app = axum::Router::new().route(
            "/events",
            post(move |body: bytes::Bytes| {
                let r = r.clone();
                async move {
                    let value: Value = serde_json::from_slice(&body).expect("webhook body is JSON");
                    r.bodies.lock().unwrap().push(value);
                    r.arrived.notify_waiters();
                    let status = {
                        let mut replies = r.replies.lock().unwrap();
                        if replies.is_empty() {
                            200
                        } else {
                            replies.remove(0)
                        }
                    };
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    /// Makes the next deliveries fail with these statuses.
    pub fn reply_with(&self, statuses: &[u16]) {
        self.replies.lock().unwrap().extend_from_slice(statuses);
    }

    pub fn all(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    /// Waits (at most 5 s) until `done` holds for the bodies received so far.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let notified = self.arrived.notified();
            let bodies = self.all();
            if done(&bodies) {
                return bodies;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "timed out waiting for {what}; received:\n{}",
                    pretty(&bodies)
                );
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
        }
    }

    /// Waits for the call notifications of the leg `leg_id` to reach `state`, and returns
    /// that leg's notifications.
    pub async fn wait_for_state(&self, leg_id: &str, state: &str) -> Vec<Value> {
        let bodies = self
            .wait_until(&format!("{state} on {leg_id}"), |b| {
                b.iter().any(|n| leg(n) == leg_id && state_of(n) == state)
            })
            .await;
        bodies.into_iter().filter(|n| leg(n) == leg_id).collect()
    }
}

pub fn pretty(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn info(n: &Value) -> &Value {
    &n["result"]["callInfo"]
}

pub fn leg(n: &Value) -> &str {
    info(n)["call"]["id"].as_str().unwrap_or("")
}

pub fn state_of(n: &Value) -> &str {
    info(n)["state"].as_str().unwrap_or("")
}

/// `state` or `state:callee-id` for each notification, for compact sequence assertions.
pub fn sequence(ns: &[Value]) -> Vec<String> {
    ns.iter()
        .map(|n| match state_of(n) {
            s @ ("showing" | "hiding" | "connected") => {
                format!("{s}:{}", info(n)["callee"]["id"].as_str().unwrap_or("?"))
            }
            s => s.to_owned(),
        })
        .collect()
}

/// Timings in milliseconds so flows finish quickly; nothing answers on its own unless a test
/// says so.
pub fn fast_config(receiver: &Receiver) -> SimConfig {
    let mut config = SimConfig {
        webhook_url: Some(receiver.base.clone()),
        ..SimConfig::default()
    };
    let t = &mut config.timings;
    t.parking_window_ms = 150;
    t.operator_no_answer_ms = 150;
    t.ring_timeout_ms = 200;
    t.operator_answer_ms = None;
    t.callee_answer_ms = None;
    t.incoming_answer_ms = None;
    t.talk_ms = None;
    t.record_delay_ms = 10;
    config
}

pub struct Harness {
    pub sim: SimHandle,
    pub hooks: Receiver,
    pub http: reqwest::Client,
    pub token: String,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(change: impl FnOnce(&mut SimConfig)) -> Self {
        let hooks = Receiver::start().await;
        let mut config = fast_config(&hooks);
        change(&mut config);
        let sim = Sim::start(config).await.unwrap();
        // The simulator is on loopback: no proxy from the system.
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut harness = Self {
            sim,
            hooks,
            http,
            token: String::new(),
        };
        harness.token = harness.control_post("/tokens", json!({})).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        harness
    }

    /// POST to the control API; panics unless it succeeds.
    pub async fn control_post(&self, path: &str, body: Value) -> Value {
        let (status, value) = self.control(reqwest::Method::POST, path, Some(body)).await;
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }

    pub async fn control(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.sim.control_url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// An authorised Open API POST with a JSON body.
    pub async fn api_post(&self, method: &str, body: Value) -> (reqwest::StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/{method}", self.sim.api_url()))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    pub async fn api_get(&self, method: &str) -> (reqwest::StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}/{method}", self.sim.api_url()))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// Starts an incoming call through the control API and returns its main leg id.
    pub async fn incoming(&self, from: &str, to: &str, extra: Value) -> Value {
        let mut body = json!({"from": from, "to": to});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        self.control_post("/incoming", body).await
    }

    /// The leg reference (`call`, `transportId`) from a notification, for terminate/transfer.
    pub fn leg_ref(n: &Value) -> (Value, Value) {
        let i = info(n);
        (
            json!({"id": i["call"]["id"], "tag": i["call"]["tag"]}),
            i["transportId"].clone(),
        )
    }
}

pub const ANNA: &str = "883140582526566";
pub const PETROV: &str = "883140777446532";
pub const SMIRNOVA: &str = "883140777551201";
pub const RECEPTION: &str = "883140777551401";
pub const KUZNETSOV: &str = "883140777551301";
pub const MAIN_NUMBER: &str = "78005560251";
pub const CALLER: &str = "79161234567";
