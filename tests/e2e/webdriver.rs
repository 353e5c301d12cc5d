//! A small W3C WebDriver client: only the endpoints the suite uses, over blocking `reqwest`
//! (already a workspace dependency). A full client crate would bring its own HTTP stack for
//! about fifteen JSON calls; these are easier to read here than through another API.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// The W3C key under which an element reference travels.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One WebDriver session, that is one running app.
#[derive(Debug)]
pub struct WebDriver {
    http: reqwest::blocking::Client,
    base: String,
    session: String,
}

/// A reference to an element of the current window's document.
#[derive(Debug, Clone)]
pub struct Element(String);

/// An error the remote end answered with (its W3C `error` code and message), or a transport one.
#[derive(Debug)]
pub struct WdError {
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl WebDriver {
    /// Starts a session, which launches `application` with `args`.
    pub fn start(driver_url: &str, application: &Path, args: &[&str]) -> Result<Self, WdError> {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "tauri:options": {"application": application, "args": args}
        }}});
        Self::start_with(driver_url, caps)
    }

    /// Starts a session with these W3C capabilities (the console's suite: Chromium's).
    pub fn start_with(driver_url: &str, caps: Value) -> Result<Self, WdError> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(transport)?;
        let mut wd = WebDriver {
            http,
            base: driver_url.trim_end_matches('/').to_owned(),
            session: String::new(),
        };
        let answer = wd.call(reqwest::Method::POST, "/session", Some(caps))?;
        wd.session = answer["sessionId"]
            .as_str()
            .ok_or_else(|| WdError {
                code: "bad answer".into(),
                message: format!("no sessionId in {answer}"),
            })?
            .to_owned();
        Ok(wd)
    }

    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WdError> {
        self.call_within(method, path, body, None)
    }

    fn call_within(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        timeout: Option<Duration>,
    ) -> Result<Value, WdError> {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let mut request = self.http.request(method, url);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().map_err(transport)?;
        let status = response.status();
        let value: Value = response.json().map_err(transport)?;
        let value = value.get("value").cloned().unwrap_or(Value::Null);
        if status.is_success() {
            Ok(value)
        } else {
            Err(WdError {
                code: value["error"]
                    .as_str()
                    .unwrap_or("unknown error")
                    .to_owned(),
                message: value["message"].as_str().unwrap_or_default().to_owned(),
            })
        }
    }

    fn get(&self, path: &str) -> Result<Value, WdError> {
        self.call(reqwest::Method::GET, path, None)
    }

    fn post(&self, path: &str, body: Value) -> Result<Value, WdError> {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    /// The first element matching a CSS selector, if there is one.
    pub fn find(&self, css: &str) -> Result<Option<Element>, WdError> {
        match self.post("/element", json!({"using": "css selector", "value": css})) {
            Ok(v) => Ok(v[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned()))),
            Err(e) if e.code == "no such element" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Clicks an element the way a pointer would.
    pub fn click(&self, element: &Element) -> Result<(), WdError> {
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .map(drop)
    }

    /// Types text into an element (`\u{E007}` is Enter).
    pub fn send_keys(&self, element: &Element, text: &str) -> Result<(), WdError> {
        self.post(
            &format!("/element/{}/value", element.0),
            json!({"text": text}),
        )
        .map(drop)
    }

    /// Runs a script in the current window and returns its result.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, WdError> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
    }

    /// A PNG of the current window. WebKitWebDriver sometimes never answers (seen on the
    /// Contacts screen and with the popup's transfer dialog open), so the wait is short: a
    /// ringing call must not time out at the simulated PBX meanwhile.
    pub fn screenshot(&self) -> Result<Vec<u8>, WdError> {
        let encoded = self.call_within(
            reqwest::Method::GET,
            "/screenshot",
            None,
            Some(Duration::from_secs(5)),
        )?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .map_err(|e| WdError {
                code: "bad screenshot".into(),
                message: e.to_string(),
            })
    }

    /// The handles of every open window.
    pub fn window_handles(&self) -> Result<Vec<String>, WdError> {
        let handles = self.get("/window/handles")?;
        Ok(handles
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The current window's handle.
    pub fn window_handle(&self) -> Result<String, WdError> {
        Ok(self.get("/window")?.as_str().unwrap_or_default().to_owned())
    }

    /// Makes another window the current one.
    pub fn switch_to(&self, handle: &str) -> Result<(), WdError> {
        self.post("/window", json!({"handle": handle})).map(drop)
    }

    /// The current window's URL.
    pub fn url(&self) -> Result<String, WdError> {
        Ok(self.get("/url")?.as_str().unwrap_or_default().to_owned())
    }

    /// Loads `url` in the current window and waits for its load event (the console's suite).
    #[allow(
        dead_code,
        reason = "tests/console-e2e drives a browser; the app's suite never navigates"
    )]
    pub fn goto(&self, url: &str) -> Result<(), WdError> {
        self.post("/url", json!({"url": url})).map(drop)
    }

    /// Sets the window's outer size (the console's suite: 1280×720 and 1024×768).
    #[allow(
        dead_code,
        reason = "tests/console-e2e drives a browser; the app's window has its own size"
    )]
    pub fn set_size(&self, width: u32, height: u32) -> Result<(), WdError> {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .map(drop)
    }

    /// Runs an asynchronous script (its last argument is the callback) and returns what it
    /// passed to the callback, waiting up to `timeout` (axe-core's run, in the console's suite).
    #[allow(
        dead_code,
        reason = "tests/console-e2e runs axe-core; the app's suite does not"
    )]
    pub fn execute_async(
        &self,
        script: &str,
        args: Vec<Value>,
        timeout: Duration,
    ) -> Result<Value, WdError> {
        self.post("/timeouts", json!({"script": timeout.as_millis() as u64}))?;
        self.call_within(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": args})),
            Some(timeout + Duration::from_secs(10)),
        )
    }

    /// Empties an input (the console's suite types into forms it has filled before).
    #[allow(
        dead_code,
        reason = "tests/console-e2e types into forms; the app's suite does not"
    )]
    pub fn clear(&self, element: &Element) -> Result<(), WdError> {
        self.post(&format!("/element/{}/clear", element.0), json!({}))
            .map(drop)
    }

    /// Ends the session, which closes the app.
    pub fn quit(&self) -> Result<(), WdError> {
        self.call(reqwest::Method::DELETE, "", None).map(drop)
    }
}

fn transport(e: reqwest::Error) -> WdError {
    WdError {
        code: "transport".into(),
        message: e.to_string(),
    }
}
