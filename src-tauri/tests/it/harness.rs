//! A core on a temporary profile, the app built around it on the mock runtime, and a way to
//! invoke a command as the window would.

use std::sync::Arc;

use call_log::{EventBody, LoggedEvent};
use chrono::{DateTime, Duration, TimeZone, Utc};
use companion::{Companion, MemoryVault, Profile};
use serde_json::{Value, json};
use tauri::test::{INVOKE_KEY, MockRuntime, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};
use trubka_app::AppCore;

/// The app with its main window, over a core whose files live in `dir`.
pub struct TestApp {
    pub companion: Arc<Companion>,
    pub window: WebviewWindow<MockRuntime>,
    _app: App<MockRuntime>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// A core with no account set up (as on a first start).
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let profile =
            Profile::under("test", &dir.path().join("config"), &dir.path().join("data")).unwrap();
        std::fs::create_dir_all(profile.data_dir()).unwrap();
        let companion = Arc::new(
            tauri::async_runtime::block_on(async {
                Companion::open(profile, Arc::new(MemoryVault::default()))
            })
            .unwrap(),
        );
        let app = trubka_app::builder(mock_builder(), AppCore::ready(Arc::clone(&companion)))
            .build(mock_context(noop_assets()))
            .unwrap();
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        TestApp {
            companion,
            window,
            _app: app,
            _dir: dir,
        }
    }

    /// Invokes `cmd` with `args` as the window would; the JSON answer or the JSON error.
    pub fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        tauri::test::get_ipc_response(&self.window, request)
            .map(|body| body.deserialize::<Value>().unwrap())
    }

    /// Writes whole calls into the core's call log, as the relay would have delivered them.
    pub fn log_calls(&self, calls: &[PastCall]) {
        let mut events = Vec::new();
        for call in calls {
            for (i, state) in call.states.iter().enumerate() {
                let i = i as i64;
                events.push(LoggedEvent {
                    relay_id: events.len() as i64 + 1,
                    received_at: at(call.start + i),
                    body: EventBody::parse(call.body(state).as_bytes()),
                });
            }
        }
        tauri::async_runtime::block_on(self.companion.log().apply(events)).unwrap();
    }
}

/// A call in the past: its leg, direction, parties and the states it went through.
pub struct PastCall {
    pub leg: &'static str,
    pub direction: &'static str,
    pub caller: &'static str,
    pub caller_name: &'static str,
    pub callee: &'static str,
    pub start: i64,
    pub states: &'static [&'static str],
}

impl PastCall {
    fn body(&self, state: &str) -> String {
        let mut info = json!({
            "call": {"id": self.leg, "tag": "t"},
            "state": state,
            "type": self.direction,
            "caller": {"id": self.caller, "displayId": self.caller,
                       "displayName": self.caller_name, "forwarderList": []},
            "callee": {"id": self.callee, "displayId": self.callee, "forwarderList": []},
            "transportId": "10.0.0.1:5070",
        });
        if state == "finished" {
            info["duration"] = json!(42);
            info["reason"] = json!("Normal");
        }
        json!({"event": "callNotifications", "result": {"callInfo": info}}).to_string()
    }
}

/// 2026-03-02 09:00 UTC plus `seconds`.
pub fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap() + Duration::seconds(seconds)
}
