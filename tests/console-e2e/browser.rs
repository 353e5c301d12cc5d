//! Headless Debian Chromium under `chromedriver`, and what the suite does with it: open a console
//! page, wait for what a person would wait for, type, click, run axe-core, take screenshots.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::webdriver::{Element, WebDriver};
use crate::world::{artifacts, free_port, http, wait_for};

/// How long the suite waits for one thing on a page (generous: a loaded machine).
pub const CEILING: Duration = Duration::from_secs(30);

/// The two sizes the console must be usable at.
pub const SIZES: [(u32, u32); 2] = [(1280, 720), (1024, 768)];

/// A running chromedriver and one Chromium session in it; both stop on drop.
pub struct Browser {
    pub wd: WebDriver,
    driver: Child,
    _profile: tempfile::TempDir,
    base: String,
}

impl Browser {
    /// Starts chromedriver on a free port and a fresh headless Chromium, at 1280×720.
    pub fn start(base: &str) -> Browser {
        let port = free_port();
        let chromedriver = std::env::var("CONSOLE_E2E_CHROMEDRIVER")
            .unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium =
            std::env::var("CONSOLE_E2E_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let log = std::fs::File::create(artifacts().join("chromedriver.log")).unwrap();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {chromedriver}: {e} (./dev setup installs it)"));
        let url = format!("http://127.0.0.1:{port}");
        wait_for("chromedriver to answer", CEILING, || {
            http()
                .get(format!("{url}/status"))
                .send()
                .map(drop)
                .map_err(|e| e.to_string())
        });
        let profile = tempfile::Builder::new()
            .prefix("trubka-chromium-")
            .tempdir()
            .unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,720",
                    "--lang=en-US", "--hide-scrollbars",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let wd =
            WebDriver::start_with(&url, caps).unwrap_or_else(|e| panic!("a Chromium session: {e}"));
        let browser = Browser {
            wd,
            driver,
            _profile: profile,
            base: base.to_owned(),
        };
        browser.size(1280, 720);
        browser
    }

    /// Sets the viewport (what the page sees) to `width`×`height`: the window is that much
    /// larger than its viewport, even headless, so it is measured and made up for.
    pub fn size(&self, width: u32, height: u32) {
        self.wd.set_size(width, height).unwrap();
        let inner = self.js("return [innerWidth, innerHeight]", vec![]);
        let frame = |i: usize, want: u32| {
            let got = inner[i].as_u64().unwrap_or(u64::from(want)) as u32;
            want + want.saturating_sub(got)
        };
        self.wd.set_size(frame(0, width), frame(1, height)).unwrap();
    }

    /// Loads a console page: `open("/admin/seats")`.
    pub fn open(&self, path: &str) {
        self.wd.goto(&format!("{}{path}", self.base)).unwrap();
    }

    /// Runs a script in the page.
    pub fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.wd
            .execute(script, args)
            .unwrap_or_else(|e| panic!("script {script:?}: {e}"))
    }

    /// Waits until `check` answers `Ok`, up to the ceiling; on a timeout the page is
    /// photographed (`failed-….png`) before the test fails, so the artefacts show what was there.
    pub fn wait<T>(&self, what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
        let start = std::time::Instant::now();
        loop {
            match check() {
                Ok(value) => return value,
                Err(last) if start.elapsed() > CEILING => {
                    let name: String = what
                        .chars()
                        .map(|c| if c.is_alphanumeric() { c } else { '-' })
                        .collect();
                    if let Ok(png) = self.wd.screenshot() {
                        let _ = std::fs::write(artifacts().join(format!("failed-{name}.png")), png);
                    }
                    panic!(
                        "waited {CEILING:?} for {what} at {}; last: {last}",
                        self.wd.url().unwrap_or_default()
                    )
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Waits until `script` returns something other than null or false, and returns it.
    pub fn wait_js(&self, what: &str, script: &str) -> Value {
        self.wait(what, || match self.wd.execute(script, vec![]) {
            Ok(Value::Null) | Ok(Value::Bool(false)) => Err("not yet".to_owned()),
            Ok(v) => Ok(v),
            Err(e) => Err(e.to_string()),
        })
    }

    /// Waits for an element to be on the page and returns it.
    pub fn element(&self, css: &str) -> Element {
        self.wait(&format!("{css} on the page"), || {
            self.wd
                .find(css)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no {css}"))
        })
    }

    pub fn click(&self, css: &str) {
        let element = self.element(css);
        self.wd
            .click(&element)
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Empties a field and types `text` into it.
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.wd.clear(&element).unwrap();
        self.wd.send_keys(&element, text).unwrap();
    }

    /// The text of the first element matching `css` (empty when there is none).
    pub fn text(&self, css: &str) -> String {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : ''",
            vec![json!(css)],
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Sets the console's language and theme as its switches remember them, for the next load.
    pub fn remember(&self, lang: &str, theme: &str) {
        self.js(
            "localStorage.setItem('trubka.console.lang', arguments[0]);
             localStorage.setItem('trubka.console.theme', arguments[1]);",
            vec![json!(lang), json!(theme)],
        );
    }

    /// A PNG of the page into the artefacts folder, as `<name>.png`.
    pub fn shot(&self, name: &str) -> PathBuf {
        let path = artifacts().join(format!("{name}.png"));
        let png = self
            .wd
            .screenshot()
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Runs axe-core (from the console's npm packages, injected through WebDriver, which the
    /// page's CSP does not govern) and returns its serious and critical violations, each as
    /// `id: help (selectors)`.
    pub fn axe(&self) -> Vec<String> {
        let source = std::fs::read_to_string(axe_path())
            .unwrap_or_else(|e| panic!("{}: {e} (cd console && npm ci)", axe_path().display()));
        self.js(&source, vec![]);
        let result = self
            .wd
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) }))))
                   .catch(e => done({ error: String(e) }));",
                vec![],
                Duration::from_secs(60),
            )
            .unwrap();
        assert!(result.get("error").is_none(), "axe-core failed: {result}");
        result
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| format!("{}: {} ({})", v["id"], v["help"], v["nodes"]))
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.wd.quit();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// axe-core's browser build, from console/node_modules.
fn axe_path() -> PathBuf {
    std::env::var_os("CONSOLE_E2E_AXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../console/node_modules/axe-core/axe.min.js")
        })
}
