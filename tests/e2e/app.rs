//! The harness: one running app per test, in a home directory of its own, driven over WebDriver.
//!
//! tauri-driver passes no environment per session, so each app is launched through a small
//! script in its temporary home that sets `HOME` and the `XDG_*` directories and then `exec`s the
//! binary (same process, same PID, its output kept in `app.log`). The script's path is the
//! session's `application`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::sim::{DemoInfo, Sim};
use crate::webdriver::{Element, WebDriver};

/// What `tests/e2e/run` tells the tests.
#[derive(Debug)]
pub struct RunEnv {
    /// `E2E_APP`: the `trubka-app` binary.
    pub app: PathBuf,
    /// `E2E_DRIVER_URL`: tauri-driver.
    pub driver_url: String,
    /// `E2E_NOTIFY_LOG`: the notification daemon stand-in's log.
    pub notify_log: PathBuf,
    /// `E2E_ARTIFACTS`: where screenshots and logs go.
    pub artifacts: PathBuf,
    /// `E2E_TIMEOUT_MS`: how long a wait lasts before the test fails (10 s by default).
    pub timeout: Duration,
    /// `E2E_PIDS_FILE`: where each app's launcher adds its PID, so the runner can stop an app
    /// that a crashed test left behind.
    pub pids_file: Option<PathBuf>,
}

/// The run's environment, read once.
pub fn run_env() -> &'static RunEnv {
    static ENV: OnceLock<RunEnv> = OnceLock::new();
    ENV.get_or_init(|| {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: run the end-to-end suite through tests/e2e/run")
            })
        };
        let artifacts = PathBuf::from(var("E2E_ARTIFACTS"));
        std::fs::create_dir_all(&artifacts).unwrap();
        RunEnv {
            app: PathBuf::from(var("E2E_APP")),
            driver_url: var("E2E_DRIVER_URL"),
            notify_log: PathBuf::from(var("E2E_NOTIFY_LOG")),
            artifacts,
            timeout: Duration::from_millis(
                std::env::var("E2E_TIMEOUT_MS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(10_000),
            ),
            pids_file: std::env::var_os("E2E_PIDS_FILE").map(PathBuf::from),
        }
    })
}

/// Polls `probe` every 50 ms until it gives a value; after the run's timeout the test fails
/// with `what` and the last thing the probe saw.
pub fn wait_for<T>(what: &str, probe: impl FnMut() -> Result<T, String>) -> T {
    wait_for_within(what, run_env().timeout, probe)
}

/// [`wait_for`] with an explicit timeout.
pub fn wait_for_within<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match probe() {
            Ok(v) => return v,
            Err(seen) if Instant::now() >= deadline => {
                panic!("waited {timeout:?} for {what}; last seen: {seen}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// The interface language and colour theme an app starts with (its `settings.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub lang: &'static str,
    pub theme: &'static str,
}

pub const EN_LIGHT: Look = Look {
    lang: "en",
    theme: "light",
};

/// How an app is started.
#[derive(Debug, Clone)]
pub struct Options {
    pub look: Look,
    /// `TRUBKA_DEMO_TRAFFIC`: scripted calls per second (0: the test scripts every call).
    pub traffic: &'static str,
    /// Whether people in the simulated world act only when told to.
    pub manual: bool,
    /// Whether the first-run welcome was answered before (`welcomed` in the default profile), so
    /// that it does not cover the window.
    pub welcomed: bool,
    /// `RUST_LOG`: the measuring program asks for the shell's milestones (debug) too.
    pub log: &'static str,
    /// Whether the app is started with `--demo`. Without it, a fresh home still shows the demo
    /// (nothing is set up) until the app joins a team or signs in (team_world.rs).
    pub demo: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            look: EN_LIGHT,
            traffic: "0",
            manual: true,
            welcomed: true,
            log: "info",
            demo: true,
        }
    }
}

/// One running app in demo mode and its simulated PBX.
#[derive(Debug)]
pub struct App {
    pub scenario: String,
    pub look: Look,
    home: tempfile::TempDir,
    pub wd: WebDriver,
    pub main_handle: String,
    /// Read from `demo.json` once the demo has signed in.
    demo: OnceLock<(DemoInfo, Sim)>,
    /// When the WebDriver session was asked for, i.e. just before the process was spawned.
    pub spawned_at: Instant,
    /// The launcher script and its arguments, for [`App::relaunch`].
    launcher: PathBuf,
    args: Vec<&'static str>,
}

impl App {
    /// Starts the app for `scenario` in English and light, waits until the demo is signed in
    /// and the Calls screen is rendered, and sets the simulated people to act only when told.
    pub fn start(scenario: &str) -> App {
        App::start_with(scenario, Options::default())
    }

    pub fn start_with(scenario: &str, options: Options) -> App {
        let manual = options.manual;
        let app = App::launch(scenario, options);
        if manual {
            app.sim().manual_timings();
        }
        app.wait_calls_screen();
        app
    }

    /// Starts the app and returns at once: nothing waited for beyond the WebDriver session.
    pub fn launch(scenario: &str, options: Options) -> App {
        let env = run_env();
        let home = tempfile::Builder::new()
            .prefix("trubka-e2e-")
            .tempdir()
            .unwrap();
        let dirs = Dirs::under(home.path());
        dirs.create();
        let settings_dir = dirs.config.join("trubka/profiles/demo");
        std::fs::create_dir_all(&settings_dir).unwrap();
        std::fs::write(
            settings_dir.join("settings.toml"),
            format!(
                "language = \"{}\"\ntheme = \"{}\"\n",
                options.look.lang, options.look.theme
            ),
        )
        .unwrap();
        if options.welcomed {
            let default_profile = dirs.config.join("trubka/profiles/default");
            std::fs::create_dir_all(&default_profile).unwrap();
            std::fs::write(default_profile.join("settings.toml"), "welcomed = true\n").unwrap();
        }
        let launcher = write_launcher(
            home.path(),
            &env.app,
            &dirs.vars(options.traffic, options.log),
        );

        let args = if options.demo { vec!["--demo"] } else { vec![] };
        let spawned_at = Instant::now();
        let wd = WebDriver::start(&env.driver_url, &launcher, &args)
            .unwrap_or_else(|e| panic!("starting the app through tauri-driver: {e}"));
        let main_handle = wd.window_handle().unwrap();
        App {
            scenario: scenario.to_owned(),
            look: options.look,
            home,
            wd,
            main_handle,
            demo: OnceLock::new(),
            spawned_at,
            launcher,
            args,
        }
    }

    /// Ends this app's WebDriver session (and its process) and launches the app again in the
    /// same home, as a person reopens it: what it saved is what the new process starts from.
    pub fn relaunch(&mut self) {
        let _ = std::fs::copy(
            self.home.path().join("app.log"),
            run_env()
                .artifacts
                .join(format!("{}-before-relaunch-app.log", self.scenario)),
        );
        let pid = self.pid();
        if let Err(e) = self.wd.quit() {
            eprintln!("ending the WebDriver session: {e}");
        }
        if let Some(pid) = pid {
            stop_process(pid);
        }
        self.spawned_at = Instant::now();
        self.wd = WebDriver::start(&run_env().driver_url, &self.launcher, &self.args)
            .unwrap_or_else(|e| panic!("relaunching the app through tauri-driver: {e}"));
        self.main_handle = self.wd.window_handle().unwrap();
        self.demo = OnceLock::new();
    }

    fn demo(&self) -> &(DemoInfo, Sim) {
        self.demo.get_or_init(|| {
            let path = Dirs::under(self.home.path())
                .data
                .join("trubka/profiles/demo/demo.json");
            let info: DemoInfo = wait_for_within(
                "the demo to sign in and write demo.json",
                run_env().timeout * 2,
                || {
                    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
                    serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
                },
            );
            let sim = Sim::new(&info.control_url);
            (info, sim)
        })
    }

    /// Where the demo's simulated world listens (waits for the demo to sign in).
    pub fn info(&self) -> &DemoInfo {
        &self.demo().0
    }

    /// The demo's simulated PBX (waits for the demo to sign in).
    pub fn sim(&self) -> &Sim {
        &self.demo().1
    }

    /// The operator's workplace in the demo.
    pub fn workplace(&self) -> String {
        self.info()
            .workplace
            .clone()
            .expect("demo.json names my workplace")
    }

    /// The environment of this app's process, for a second instance.
    pub fn vars(&self) -> Vec<(String, String)> {
        Dirs::under(self.home.path()).vars("0", "info")
    }

    /// Starts a second instance of the app with `link`, in this app's environment, and waits
    /// for it to exit (up to 15 s): its status and what it wrote to stderr.
    pub fn second_instance(&self, link: &str) -> (std::process::ExitStatus, String) {
        let mut second = Command::new(&run_env().app)
            .arg(link)
            .envs(self.vars())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait_for_within(
            "the second instance to exit",
            Duration::from_secs(15),
            || {
                second
                    .try_wait()
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| "still running".to_owned())
            },
        );
        let mut stderr = String::new();
        if let Some(mut pipe) = second.stderr.take() {
            use std::io::Read as _;
            let _ = pipe.read_to_string(&mut stderr);
        }
        (status, stderr)
    }

    /// The app's home directory (its `HOME`).
    pub fn home_dir(&self) -> &Path {
        self.home.path()
    }

    /// The app's process id, as its launcher wrote it.
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.home.path().join("app.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// Waits until the main window shows the Calls screen with its list rendered.
    pub fn wait_calls_screen(&self) {
        self.wait_js(
            "the Calls screen",
            "return document.readyState === 'complete' && document.querySelector('form.dialer #dialer')
                && document.querySelector('ul.live-calls > li') ? true : null",
            vec![],
        );
    }

    /// Runs a script in the current window.
    pub fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.wd
            .execute(script, args)
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until a script in the current window returns something other than null.
    pub fn wait_js(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        wait_for(what, || match self.wd.execute(script, args.clone()) {
            Ok(Value::Null) => Err("null".into()),
            Ok(v) => Ok(v),
            Err(e) => Err(e.to_string()),
        })
    }

    /// Waits for an element of the current window.
    pub fn element(&self, css: &str) -> Element {
        wait_for(css, || match self.wd.find(css) {
            Ok(Some(e)) => Ok(e),
            Ok(None) => Err("not there".into()),
            Err(e) => Err(e.to_string()),
        })
    }

    pub fn click(&self, css: &str) {
        let element = self.element(css);
        self.wd
            .click(&element)
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.wd
            .send_keys(&element, text)
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// The text of the first element matching `css`, or None.
    pub fn text(&self, css: &str) -> Option<String> {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null",
            vec![json!(css)],
        )
        .as_str()
        .map(str::to_owned)
    }

    pub fn to_main(&self) {
        self.wd.switch_to(&self.main_handle).unwrap();
    }

    /// Opens a screen of the main window by its tab (`calls`, `history`, …).
    pub fn show_screen(&self, name: &str) {
        self.to_main();
        self.click(&format!("#tab-{name}"));
        self.wait_js(
            &format!("the {name} screen"),
            "const p = document.getElementById('screen-' + arguments[0]); return p && !p.hidden ? true : null",
            vec![json!(name)],
        );
    }

    /// The handle of the popup window (its page is `popup.html`), if it is open; the current
    /// window is the main one afterwards.
    pub fn popup_handle(&self) -> Option<String> {
        let handles = self.wd.window_handles().ok()?;
        let mut found = None;
        for handle in handles.iter().filter(|h| **h != self.main_handle) {
            if self.wd.switch_to(handle).is_ok()
                && self.wd.url().is_ok_and(|u| u.ends_with("popup.html"))
            {
                found = Some(handle.clone());
                break;
            }
        }
        self.to_main();
        found
    }

    /// Waits until the popup shows `number` (a fragment of `#popup-number`'s text) and makes it
    /// the current window.
    pub fn wait_popup_with(&self, number: &str) -> String {
        wait_for(&format!("the popup for {number}"), || {
            let handle = self.popup_handle().ok_or("no popup window")?;
            self.wd.switch_to(&handle).map_err(|e| e.to_string())?;
            let shown = self
                .wd
                .execute(
                    "const n = document.getElementById('popup-number');
                     return { number: n ? n.textContent : null, visible: document.visibilityState };",
                    vec![],
                )
                .map_err(|e| e.to_string())?;
            let text = shown["number"].as_str().unwrap_or_default();
            if digits(text).contains(&digits(number)) && shown["visible"] == "visible" {
                Ok(handle)
            } else {
                self.to_main();
                Err(shown.to_string())
            }
        })
    }

    /// Waits until the popup has gone: its window closed, or hidden.
    pub fn wait_popup_gone(&self, what: &str) {
        wait_for(what, || {
            let Some(handle) = self.popup_handle() else {
                return Ok(());
            };
            self.wd.switch_to(&handle).map_err(|e| e.to_string())?;
            let state = self.wd.execute("return document.visibilityState", vec![]);
            self.to_main();
            match state {
                Ok(v) if v == "hidden" => Ok(()),
                Ok(v) => Err(format!("the popup is still {v}")),
                // The window went away between the two calls.
                Err(_) => Ok(()),
            }
        });
    }

    /// Saves the current window (WebDriver) as `<screen>-<lang>-<theme>.png` and the whole
    /// display (`import -window root`, so the popup and its position show too) as
    /// `<screen>-<lang>-<theme>-screen.png`.
    pub fn shot(&self, screen: &str) {
        let name = format!("{screen}-{}-{}", self.look.lang, self.look.theme);
        save_shots(&self.wd, &name);
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let env = run_env();
        if std::thread::panicking() {
            save_shots(&self.wd, &format!("FAILED-{}", self.scenario));
        }
        let _ = std::fs::copy(
            self.home.path().join("app.log"),
            env.artifacts.join(format!("{}-app.log", self.scenario)),
        );
        let pid = self.pid();
        if let Err(e) = self.wd.quit() {
            eprintln!("ending the WebDriver session: {e}");
        }
        // The next test's app must not find this one still registered as the single instance.
        if let Some(pid) = pid {
            stop_process(pid);
        }
    }
}

/// Whether a process runs (it exists and is not a zombie waiting for its parent).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or_default()
            .trim_start()
            .starts_with('Z')
    })
}

/// Waits up to 5 s for a process to exit, then ends it by its id.
fn stop_process(pid: u32) {
    let alive = || alive(pid);
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for signal in ["-TERM", "-KILL"] {
        if !alive() {
            return;
        }
        eprintln!("the app (pid {pid}) outlived its session: kill {signal}");
        let _ = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn save_shots(wd: &WebDriver, name: &str) {
    let env = run_env();
    match wd.screenshot() {
        Ok(png) => std::fs::write(env.artifacts.join(format!("{name}.png")), png).unwrap(),
        Err(e) => eprintln!("no window screenshot {name}: {e}"),
    }
    let screen = env.artifacts.join(format!("{name}-screen.png"));
    match Command::new("import")
        .args(["-window", "root"])
        .arg(&screen)
        .status()
    {
        Ok(s) if s.success() => {}
        other => eprintln!("no screen shot {name}: {other:?}"),
    }
}

/// The per-app home: `HOME`, the `XDG_*` directories and a private runtime directory.
struct Dirs {
    home: PathBuf,
    config: PathBuf,
    data: PathBuf,
    cache: PathBuf,
    runtime: PathBuf,
}

impl Dirs {
    fn under(home: &Path) -> Dirs {
        Dirs {
            home: home.to_path_buf(),
            config: home.join(".config"),
            data: home.join(".local/share"),
            cache: home.join(".cache"),
            runtime: home.join("run"),
        }
    }

    fn create(&self) {
        for dir in [&self.config, &self.data, &self.cache, &self.runtime] {
            std::fs::create_dir_all(dir).unwrap();
        }
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&self.runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }

    fn vars(&self, traffic: &str, log: &str) -> Vec<(String, String)> {
        let path = |p: &PathBuf| p.to_string_lossy().into_owned();
        vec![
            ("HOME".into(), path(&self.home)),
            ("XDG_CONFIG_HOME".into(), path(&self.config)),
            ("XDG_DATA_HOME".into(), path(&self.data)),
            ("XDG_CACHE_HOME".into(), path(&self.cache)),
            ("XDG_RUNTIME_DIR".into(), path(&self.runtime)),
            ("TRUBKA_DEMO_TRAFFIC".into(), traffic.into()),
            // A neutral system language, so only settings.toml decides the interface's.
            ("LANGUAGE".into(), "en".into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("RUST_LOG".into(), log.into()),
            // Under Xvfb WebKitGTK's DMA-BUF renderer paints the first frame and then nothing:
            // the DOM changes, the window (and every screenshot) keeps showing the start.
            ("WEBKIT_DISABLE_DMABUF_RENDERER".into(), "1".into()),
        ]
    }
}

/// Writes the launcher script: the app's environment, then `exec` of the binary.
fn write_launcher(home: &Path, app: &Path, vars: &[(String, String)]) -> PathBuf {
    let mut script = String::from("#!/bin/sh\n");
    for (k, v) in vars {
        script.push_str(&format!("export {k}={}\n", shell_quote(v)));
    }
    let home_q = shell_quote(&home.to_string_lossy());
    script.push_str(&format!("echo $$ > {home_q}/app.pid\n"));
    if let Some(pids) = &run_env().pids_file {
        script.push_str(&format!(
            "echo $$ >> {}\n",
            shell_quote(&pids.to_string_lossy())
        ));
    }
    script.push_str(&format!(
        "exec {} \"$@\" >> {home_q}/app.log 2>&1\n",
        shell_quote(&app.to_string_lossy())
    ));
    let path = home.join("launch");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The digits of a text, so numbers compare whatever their formatting.
pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}
