//! The team's server world for the console's suite: `mtt-sim serve` and `trubka-relay serve` as
//! processes on loopback, the relay configured by its own CLI (`init`, `seats add`, `admin add`)
//! with the simulator as МТТ, and the simulator's control API for calls. Every process started
//! here is stopped by its handle when the world is dropped.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The integration the simulator knows (its default client id).
pub const CLIENT_ID: &str = "ccb350cc-6218-40b0-b134-3d290f00b9e7";
/// The client secret this world registers at the simulator.
pub const CLIENT_SECRET: &str = "console-e2e-client-secret";
/// The account's main external number (the simulator's default account).
pub const MAIN_NUMBER: &str = "78005560251";
/// The simulator's first workplace (Иванова Анна in its directory).
pub const ANNA: &str = "883140582526566";
/// Another workplace (Петров Сергей): the admin's seat.
pub const SERGEY: &str = "883140777446532";
/// A third workplace (Смирнова Ольга): the supervisor's seat.
pub const OLGA: &str = "883140777551201";
/// The admin's seat and console password.
pub const ADMIN: &str = "Петров Сергей";
pub const ADMIN_PASSWORD: &str = "a console password for e2e";

/// Where a binary is: the environment variable the runner sets, else beside this test binary.
pub fn binary(variable: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(variable).filter(|v| !v.is_empty()) {
        return PathBuf::from(path);
    }
    // target/debug/deps/console_e2e-… → target/debug/<name>
    let exe = std::env::current_exe().unwrap();
    let guess = exe.parent().and_then(Path::parent).unwrap().join(name);
    assert!(
        guess.exists(),
        "{name} not found at {}; set {variable} (tests/console-e2e/run does)",
        guess.display()
    );
    guess
}

/// Where screenshots and logs go: `E2E_ARTIFACTS`, else a temporary folder kept after the run.
pub fn artifacts() -> PathBuf {
    let dir = std::env::var_os("E2E_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("trubka-console-e2e-artifacts"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A free port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `check` answers `Ok`, up to `ceiling`; panics with the last answer otherwise.
pub fn wait_for<T>(
    what: &str,
    ceiling: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let start = Instant::now();
    loop {
        match check() {
            Ok(value) => return value,
            Err(last) if start.elapsed() > ceiling => {
                panic!("waited {ceiling:?} for {what}; last: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// A client of this machine's servers (no proxy).
pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A started process, its output in the artefacts folder, killed on drop.
struct Process {
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` with its standard error into `<artefacts>/<log>` and returns the process and
/// the first line it prints on standard output (the servers announce their addresses so).
fn start_announcing(mut command: Command, log: &str) -> (Process, Value) {
    let stderr = std::fs::File::create(artifacts().join(log)).unwrap();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        if let Some(Ok(line)) = lines.next() {
            let _ = tx.send(line);
        }
        // Keep reading, so the process never blocks on a full pipe.
        for _ in lines {}
    });
    let process = Process { child };
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{log}: no announcement within a minute (see the log)"));
    let value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{log}: {line:?}: {e}"));
    (process, value)
}

/// The simulator and the relay, on loopback.
pub struct World {
    pub dir: tempfile::TempDir,
    config: PathBuf,
    /// The relay's base, as the browser and the invites name it: `http://localhost:<port>`.
    pub base: String,
    pub control: String,
    relay: Option<Process>,
    sim: Option<Process>,
}

impl World {
    /// Starts the simulator, writes the relay's configuration (`trubka-relay init`), makes the
    /// admin's seat and console account from the CLI, and starts the relay.
    pub fn start() -> World {
        let dir = tempfile::Builder::new()
            .prefix("trubka-console-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let base = format!("http://localhost:{port}");
        let config = dir.path().join("relay.toml");
        let mut world = World {
            dir,
            config,
            base: base.clone(),
            control: String::new(),
            relay: None,
            sim: None,
        };
        world.relay_cli(&[
            "init",
            "--public-url",
            &base,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ]);
        let text = std::fs::read_to_string(&world.config).unwrap();
        let hook = text
            .lines()
            .find_map(|l| l.strip_prefix("hook = "))
            .map(|v| v.trim().trim_matches('"').to_owned())
            .unwrap_or_else(|| panic!("no hook in relay.toml:\n{text}"));
        let redirect = format!("{base}/{hook}");

        let sim_config = world.dir.path().join("sim.toml");
        std::fs::write(
            &sim_config,
            format!(
                "auto_approve = true\nwebhook_url = {redirect:?}\n\n[client]\nclient_id = {CLIENT_ID:?}\n\
                 client_secret = {CLIENT_SECRET:?}\nredirect_uris = [{redirect:?}]\n"
            ),
        )
        .unwrap();
        let mut sim = Command::new(binary("CONSOLE_E2E_SIM", "mtt-sim"));
        sim.args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&sim_config);
        let (sim, urls) = start_announcing(sim, "mtt-sim.log");
        world.sim = Some(sim);
        world.control = urls["control"].as_str().unwrap().to_owned();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&world.config)
            .unwrap();
        writeln!(
            file,
            "mtt_oauth_url = {:?}\nmtt_api_url = {:?}",
            urls["oauth"].as_str().unwrap(),
            urls["api"].as_str().unwrap()
        )
        .unwrap();
        // People in the simulated world act only when told to, and a call rings until ended.
        world.sim_put(
            "/timings",
            json!({
                "operator_answer_ms": null, "callee_answer_ms": null, "incoming_answer_ms": null,
                "talk_ms": null, "record_delay_ms": 200, "ring_timeout_ms": 600_000,
            }),
        );

        world.relay_cli(&[
            "seats",
            "add",
            "--name",
            ADMIN,
            "--workplace",
            SERGEY,
            "--role",
            "admin",
        ]);
        world.admin_add(ADMIN, ADMIN_PASSWORD);
        world.start_relay();
        world
    }

    fn relay_command(&self) -> Command {
        let mut command = Command::new(binary("CONSOLE_E2E_RELAY", "trubka-relay"));
        command
            .arg("--config")
            .arg(&self.config)
            .env_remove("TRUBKA_RELAY_HOOK")
            .env_remove("TRUBKA_RELAY_KEY")
            .env("RUST_LOG", "info");
        command
    }

    /// Runs `trubka-relay <args>` to its end; its standard output, or the test fails.
    pub fn relay_cli(&self, args: &[&str]) -> String {
        let out = self
            .relay_command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        checked(&format!("trubka-relay {args:?}"), out)
    }

    /// `trubka-relay admin add <seat>`, the password given on standard input as a pipe does.
    pub fn admin_add(&self, seat: &str, password: &str) {
        let mut child = self
            .relay_command()
            .args(["admin", "add", seat])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        checked("trubka-relay admin add", child.wait_with_output().unwrap());
    }

    fn start_relay(&mut self) {
        let mut serve = self.relay_command();
        serve.arg("serve");
        let (relay, _) = start_announcing(serve, "trubka-relay.log");
        self.relay = Some(relay);
        wait_for("the relay to answer", Duration::from_secs(30), || {
            http()
                .get(format!("{}/healthz", self.base))
                .send()
                .map_err(|e| e.to_string())
                .and_then(|r| {
                    if r.status().is_success() {
                        Ok(())
                    } else {
                        Err(r.status().to_string())
                    }
                })
        });
    }

    fn sim_send(&self, request: reqwest::blocking::RequestBuilder, what: &str) -> Value {
        let response = request.send().unwrap_or_else(|e| panic!("{what}: {e}"));
        let status = response.status();
        let text = response.text().unwrap_or_default();
        assert!(status.is_success(), "{what}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub fn sim_post(&self, path: &str, body: Value) -> Value {
        self.sim_send(
            http().post(format!("{}{path}", self.control)).json(&body),
            path,
        )
    }

    pub fn sim_put(&self, path: &str, body: Value) -> Value {
        self.sim_send(
            http().put(format!("{}{path}", self.control)).json(&body),
            path,
        )
    }

    /// An incoming call from `from` to the main number, ringing until told otherwise; its leg.
    pub fn incoming(&self, from: &str) -> String {
        let started = self.sim_post("/incoming", json!({"from": from, "to": MAIN_NUMBER}));
        started["leg_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no leg_id in {started}"))
            .to_owned()
    }

    /// A party (a workplace, or `caller`) answers the call of this leg.
    pub fn answer(&self, leg: &str, by: &str) {
        self.sim_post("/answer", json!({"call": leg, "by": by}));
    }

    /// A party (a workplace, or `caller`) hangs up the call of this leg.
    pub fn hangup(&self, leg: &str, by: &str) {
        self.sim_post("/hangup", json!({"call": leg, "by": by}));
    }
}

fn checked(what: &str, out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

impl Drop for World {
    fn drop(&mut self) {
        // The relay first (it holds streams to nobody but the browser), then the simulator.
        self.relay.take();
        self.sim.take();
    }
}

/// The `trubka` CLI as a seat, in a home of its own.
pub struct Cli {
    pub home: tempfile::TempDir,
}

impl Cli {
    pub fn new() -> Cli {
        Cli {
            home: tempfile::Builder::new()
                .prefix("trubka-cli-")
                .tempdir()
                .unwrap(),
        }
    }

    /// `trubka team join <link> --yes --json`: the seat it joined as.
    pub fn join(&self, link: &str) -> Value {
        let home = self.home.path();
        let out = Command::new(binary("CONSOLE_E2E_CLI", "trubka"))
            .args(["team", "join", link, "--yes", "--json"])
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        serde_json::from_str(&checked("trubka team join", out)).unwrap()
    }
}
