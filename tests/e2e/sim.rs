//! The demo's simulated PBX, seen from outside: `demo.json` says where it listens, and its
//! control API scripts calls and shows what the PBX received.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::wait_for;

/// The account's main external number (the simulator's default account).
pub const MAIN_NUMBER: &str = "78005560251";
/// A colleague's workplace (Петров Сергей), rung by the first routing group with mine.
pub const COLLEAGUE: &str = "883140777446532";
/// The colleague's name as the directory shows it.
pub const COLLEAGUE_NAME: &str = "Петров Сергей";

/// What the demo writes to `$XDG_DATA_HOME/trubka/profiles/demo/demo.json` once signed in.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoInfo {
    pub control_url: String,
    #[allow(
        dead_code,
        reason = "part of the file's contract; measure.rs reads the hook"
    )]
    pub api_url: String,
    pub hook_url: String,
    pub workplace: Option<String>,
}

/// The identifiers of a call the simulator started.
#[derive(Debug, Clone, Deserialize)]
pub struct Started {
    pub key: u64,
    pub leg_id: String,
}

/// A client of the simulator's control API.
#[derive(Debug)]
pub struct Sim {
    http: reqwest::blocking::Client,
    base: String,
}

impl Sim {
    pub fn new(control_url: &str) -> Self {
        Sim {
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            base: control_url.trim_end_matches('/').to_owned(),
        }
    }

    fn send(&self, request: reqwest::blocking::RequestBuilder, what: &str) -> Value {
        let response = request.send().unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = response.status();
        let text = response.text().unwrap_or_default();
        assert!(status.is_success(), "{what}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub fn get(&self, path: &str) -> Value {
        self.send(self.http.get(format!("{}{path}", self.base)), path)
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        self.send(
            self.http.post(format!("{}{path}", self.base)).json(&body),
            path,
        )
    }

    pub fn put(&self, path: &str, body: Value) -> Value {
        self.send(
            self.http.put(format!("{}{path}", self.base)).json(&body),
            path,
        )
    }

    /// People in the simulated world act only when told to, so each step is the test's; and a
    /// ringing call rings until the test ends it (a missed call is a caller who gives up), so a
    /// slow screenshot cannot let it ring out from under the test.
    pub fn manual_timings(&self) {
        self.put(
            "/timings",
            json!({
                "operator_answer_ms": null, "callee_answer_ms": null, "incoming_answer_ms": null,
                "talk_ms": null, "record_delay_ms": 200, "ring_timeout_ms": 600_000,
            }),
        );
    }

    /// An incoming call to the main number; `plan` adds plan keys (`manual`, `caller_gives_up_ms`…).
    pub fn incoming(&self, from: &str, caller_name: Option<&str>, plan: Value) -> Started {
        let mut body = json!({"from": from, "to": MAIN_NUMBER, "caller_name": caller_name});
        if let (Some(body), Some(plan)) = (body.as_object_mut(), plan.as_object()) {
            body.extend(plan.clone());
        }
        serde_json::from_value(self.post("/incoming", body)).unwrap()
    }

    pub fn answer(&self, call: &str, by: &str) {
        self.post("/answer", json!({"call": call, "by": by}));
    }

    pub fn hangup(&self, call: &str, by: &str) {
        self.post("/hangup", json!({"call": call, "by": by}));
    }

    /// Calls in progress, and with `all` the recently ended ones too.
    pub fn calls(&self, all: bool) -> Vec<Value> {
        let path = if all { "/calls?all=true" } else { "/calls" };
        self.get(path).as_array().cloned().unwrap_or_default()
    }

    /// The terminateCall or transferCall requests the PBX received for a leg.
    pub fn leg_requests(&self, method: &str, leg: &str) -> Vec<Value> {
        self.get(&format!("/requests?method={method}"))
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r["leg_id"].as_str() == Some(leg))
            .collect()
    }

    /// The latest snapshot of the call with this key.
    pub fn call(&self, key: u64) -> Option<Value> {
        self.calls(true)
            .into_iter()
            .rfind(|c| c["key"].as_u64() == Some(key))
    }

    /// Waits until the call with `key` satisfies `pred`, and returns its snapshot.
    pub fn wait_call(&self, what: &str, key: u64, pred: impl Fn(&Value) -> bool) -> Value {
        wait_for(what, || match self.call(key) {
            Some(c) if pred(&c) => Ok(c),
            Some(c) => Err(c.to_string()),
            None => Err(format!("no call {key}")),
        })
    }
}

/// The leg ids of a call snapshot.
pub fn leg_ids(call: &Value) -> Vec<String> {
    call["legs"]
        .as_array()
        .map(|legs| {
            legs.iter()
                .filter_map(|l| l["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether this workplace (or party) is ringing in the call snapshot.
pub fn is_ringing(call: &Value, who: &str) -> bool {
    call["ringing"]
        .as_array()
        .is_some_and(|r| r.iter().any(|w| w.as_str() == Some(who)))
}
