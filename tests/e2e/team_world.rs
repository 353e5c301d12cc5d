//! A team's world for end-to-end tests of team mode (issue #15): a simulated PBX (`mtt-sim`) and
//! a relay in team mode, both in this test process on loopback, the relay's integration
//! connected to the simulator the way an admin does it (`team connect`: authorize, the relay's
//! own Redirect URI, its own code exchange), seats with roles and workplaces, one-time invite
//! links, the `trubka` CLI as another seat in a home of its own, and the real app joined by a
//! `trubka://join` link and relaunched in team mode (not the demo).
//!
//! Nothing here is a demo: the app reaches the PBX only through the relay's seat API, and the
//! simulator's logs (its calls, each with the makeCall that placed it, and its terminateCall and
//! transferCall requests) say what the PBX received.
//!
//! ```text
//! let world = TeamWorld::start();
//! let anna = world.add_seat("Иванова Анна", ANNA, Role::Operator);
//! let app = world.joined_app("my_scenario", &anna);   // confirmed in the window, relaunched
//! world.stop_relay(); world.start_relay();            // the team server goes away and back
//! ```

#![allow(
    dead_code,
    reason = "a harness for every team-mode scenario: not each uses every seat, name or helper"
)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use team_api::Role;

use crate::app::{App, Options, alive, digits, run_env, wait_for, wait_for_within};
use crate::restart::apps_under;
use crate::sim::Sim;

/// The simulator's first workplace (Иванова Анна in its directory).
pub const ANNA: &str = "883140582526566";
/// Her name in the simulator's directory.
pub const ANNA_NAME: &str = "Иванова Анна";
/// Another workplace (Петров Сергей).
pub const SERGEY: &str = "883140777446532";
/// A third one (Смирнова Ольга).
pub const OLGA: &str = "883140777551201";

/// The integration the simulator knows (its default client).
const CLIENT_ID: &str = "ccb350cc-6218-40b0-b134-3d290f00b9e7";

/// A seat of the team, as the relay's admin made it.
#[derive(Debug, Clone)]
pub struct Seat {
    pub id: i64,
    pub name: String,
    pub workplace: String,
    pub role: Role,
}

/// The simulator and the team's relay, on loopback, and what the test asks of them.
pub struct TeamWorld {
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    sim_handle: Option<mtt_sim::SimHandle>,
    /// The simulator's control API (calls, people, request logs).
    pub sim: Sim,
    relay: Option<relay::RelayHandle>,
    /// The relay's port: kept over a stop and start, as the team's address is.
    port: u16,
    hook: String,
    oauth_url: String,
    api_url: String,
}

impl std::fmt::Debug for TeamWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamWorld")
            .field("server", &self.server())
            .field("relay_running", &self.relay.is_some())
            .finish_non_exhaustive()
    }
}

impl TeamWorld {
    /// Starts the simulator (its people act only when told to) and the relay, and connects the
    /// relay's integration to the simulator: the relay is a team server from here on.
    pub fn start() -> TeamWorld {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::Builder::new()
            .prefix("trubka-team-")
            .tempdir()
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let hook = relay::HookPath::generate();
        let redirect_uri = format!("http://127.0.0.1:{port}/{}", hook.expose_secret());
        let mut config = mtt_sim::SimConfig {
            auto_approve: true,
            ..Default::default()
        };
        config.client.redirect_uris = vec![redirect_uri.clone()];
        config.webhook_url = Some(redirect_uri);
        let client_secret = config.client.client_secret.expose().to_owned();
        let sim_handle = runtime.block_on(mtt_sim::Sim::start(config)).unwrap();
        let sim = Sim::new(sim_handle.control_url());
        sim.manual_timings();
        let mut world = TeamWorld {
            oauth_url: sim_handle.oauth_url().to_owned(),
            api_url: sim_handle.api_url().to_owned(),
            runtime,
            dir,
            sim_handle: Some(sim_handle),
            sim,
            relay: None,
            port,
            hook: hook.expose_secret().to_owned(),
        };
        world.start_relay();
        world.connect(&client_secret);
        world
    }

    /// The team server's base URL (what an invite names).
    pub fn server(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the relay (again, after [`TeamWorld::stop_relay`]): same address, database and
    /// at-rest key, so the seats, their credentials and the integration are as they were.
    pub fn start_relay(&mut self) {
        assert!(self.relay.is_none(), "the relay runs already");
        let mut config = relay::RelayConfig::new(
            relay::HookPath::parse(&self.hook).unwrap(),
            self.dir.path().join("relay.sqlite3"),
        );
        config.listen = ([127, 0, 0, 1], self.port).into();
        config.mtt_oauth_url = self.oauth_url.clone();
        config.mtt_api_url = self.api_url.clone();
        config.heartbeat = Duration::from_secs(1);
        config.retry = Duration::from_millis(500);
        relay::sealing::ensure_key_file(&config.key_file).unwrap();
        let handle = self
            .runtime
            .block_on(relay::Relay::start(config))
            .unwrap_or_else(|e| panic!("starting the relay on port {}: {e}", self.port));
        self.relay = Some(handle);
    }

    /// Stops the relay: its port refuses connections until [`TeamWorld::start_relay`].
    pub fn stop_relay(&mut self) {
        if let Some(handle) = self.relay.take() {
            self.runtime.block_on(handle.shutdown()).unwrap();
        }
    }

    /// The running relay (its state: the team store, metrics, configuration), for what the
    /// harness has no method for yet.
    pub fn relay(&self) -> &relay::RelayHandle {
        self.relay.as_ref().expect("the relay is stopped")
    }

    /// Runs `future` on the world's runtime (the relay's and the simulator's), e.g. a team store
    /// call: `world.block_on(world.relay().state().team.revoke_seat(…))`.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The simulator's handle (its state, webhook target, clock).
    pub fn sim_handle(&self) -> &mtt_sim::SimHandle {
        self.sim_handle
            .as_ref()
            .expect("the simulator runs while the world does")
    }

    /// `trubka-relay team connect` and the admin's sign-in in the browser (the simulator
    /// approves at once and lands on the relay's Redirect URI, where the relay exchanges the
    /// code itself).
    fn connect(&self, client_secret: &str) {
        let relay = self.relay();
        let state = relay.state();
        let sealer = relay::sealing::Sealer::from_file(&state.config.key_file).unwrap();
        let address = self
            .runtime
            .block_on(relay::integration::begin_connect(
                &state.team,
                &sealer,
                &state.config,
                relay.redirect_uri().expose_secret(),
                relay::integration::ClientCredentials {
                    client_id: CLIENT_ID.into(),
                    client_secret: mtt_api::ClientSecret::new(client_secret.to_owned()),
                },
            ))
            .unwrap();
        let landing = http().get(&address).send().unwrap();
        assert_eq!(landing.status(), 200, "the relay's landing after sign-in");
        wait_for("the relay's integration to be connected", || {
            let ready: Value = http()
                .get(format!("{}/readyz", self.server()))
                .send()
                .and_then(|r| r.json())
                .map_err(|e| e.to_string())?;
            if ready["integration"] == "connected" {
                Ok(())
            } else {
                Err(ready.to_string())
            }
        });
    }

    /// `trubka-relay seats add`.
    pub fn add_seat(&self, name: &str, workplace: &str, role: Role) -> Seat {
        let profile = self
            .runtime
            .block_on(
                self.relay()
                    .state()
                    .team
                    .add_seat(relay::store::team::NewSeat {
                        name: name.into(),
                        workplace: workplace.into(),
                        role,
                    }),
            )
            .unwrap()
            .profile;
        Seat {
            id: profile.id,
            name: profile.name,
            workplace: profile.workplace,
            role: profile.role,
        }
    }

    /// `trubka-relay seats invite`: a one-time `trubka://join?server=…&code=…` link, good for
    /// an hour.
    pub fn invite(&self, seat: &Seat) -> String {
        let code = relay::seats::InviteCode::generate().unwrap();
        self.runtime
            .block_on(self.relay().state().team.add_invite(
                relay::store::team::SeatRef::Id(seat.id),
                code.hash(),
                chrono::Utc::now() + chrono::TimeDelta::hours(1),
            ))
            .unwrap();
        team_api::JoinLink::new(&self.server(), &code.expose_secret())
            .unwrap()
            .to_string()
    }

    /// The calls the PBX placed on a makeCall (each names the request's `make_call_id`,
    /// `from` — the caller's workplace — and `to`), ended ones included.
    pub fn dials(&self) -> Vec<Value> {
        self.sim
            .calls(true)
            .into_iter()
            .filter(|c| c["make_call_id"].is_string())
            .collect()
    }

    /// Waits until the PBX has placed a makeCall to `number` (digits as the PBX dials them).
    pub fn wait_dial_to(&self, number: &str) -> Value {
        wait_for(&format!("makeCall to {number} at the simulator"), || {
            self.dials()
                .into_iter()
                .find(|c| c["to"] == number)
                .ok_or_else(|| format!("calls placed: {:?}", self.dials()))
        })
    }

    /// The terminateCall or transferCall requests the PBX received.
    pub fn requests(&self, method: &str) -> Vec<Value> {
        self.sim
            .get(&format!("/requests?method={method}"))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Launches the real app (a fresh home; not `--demo`), hands it `seat`'s invite link as the
    /// system would (a second launch, through the single-instance hand-over), confirms the
    /// server's host in the window, waits for the join and the app's restart, and relaunches it
    /// under the driver: it then runs in team mode, on the Calls screen.
    pub fn joined_app(&self, scenario: &str, seat: &Seat) -> App {
        self.joined_app_with(scenario, seat, Options::default())
    }

    /// [`TeamWorld::joined_app`] with other options (a language and theme, say); never the
    /// demo.
    pub fn joined_app_with(&self, scenario: &str, seat: &Seat, options: Options) -> App {
        let mut app = App::launch(
            scenario,
            Options {
                demo: false,
                ..options
            },
        );
        // Nothing is set up yet, so the app shows its demo until it joins.
        app.wait_calls_screen();
        let link = self.invite(seat);
        let (status, stderr) = app.second_instance(&link);
        assert!(
            status.success(),
            "the second instance failed: {status}\n{stderr}"
        );
        app.to_main();
        let title = app.wait_js(
            "the join confirmation, open",
            "const d = document.getElementById('team-confirm');
             const t = document.getElementById('team-confirm-title');
             return d && d.open && t ? t.textContent : null",
            vec![],
        );
        assert!(
            title.as_str().unwrap().contains("127.0.0.1"),
            "the confirmation names the server's host: {title}"
        );
        app.shot(&format!("{scenario}-join-confirm"));
        let old = app.pid().expect("the launcher wrote the app's pid");
        // Yes, as a person clicks it. The app joins and restarts at once, so the click's own
        // answer may never come.
        let yes = app.element("#team-confirm-yes");
        let _ = app.wd.click(&yes);
        let settings = app
            .home_dir()
            .join(".config/trubka/profiles/default/settings.toml");
        let text = wait_for_within(
            "the default profile to join the team",
            Duration::from_secs(30),
            || {
                let text = std::fs::read_to_string(&settings).map_err(|e| e.to_string())?;
                if text.contains("[team") {
                    Ok(text)
                } else {
                    Err(text)
                }
            },
        );
        assert!(text.contains(&seat.workplace), "{text}");
        wait_for_within("the old process to exit", Duration::from_secs(20), || {
            if alive(old) {
                Err("still running".to_owned())
            } else {
                Ok(())
            }
        });
        // The app restarted itself outside the driver's reach: that process is stopped and the
        // app is launched again under the driver, in the same home, as a person would reopen it.
        stop_restarted(app.home_dir(), old);
        app.relaunch();
        app.wait_calls_screen();
        // The header settles once the app knows it is a team's seat: the Team tab and the
        // availability switch appear and move the tabs after them. A click aimed before that
        // lands on the neighbour (Contacts was asked for, History opened).
        app.wait_js(
            "the header in team mode (the Team tab and the availability switch)",
            "const t = document.getElementById('tab-team');
             const a = document.getElementById('my-availability');
             return t && !t.hidden && a && !a.closest('[hidden]') ? true : null",
            vec![],
        );
        app
    }
}

impl Drop for TeamWorld {
    fn drop(&mut self) {
        if let Some(relay) = self.relay.take() {
            let _ = self.runtime.block_on(relay.shutdown());
        }
        if let Some(sim) = self.sim_handle.take() {
            self.runtime.block_on(sim.shutdown());
        }
    }
}

/// Stops the processes of the app that restarted itself in `home` (other than `old`).
fn stop_restarted(home: &Path, old: u32) {
    let mut found = Vec::new();
    for _ in 0..100 {
        found = apps_under(home, old);
        if !found.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for pid in found {
        let _ = Command::new("kill").arg(pid.to_string()).status();
        wait_for_within("the restarted app to stop", Duration::from_secs(10), || {
            if alive(pid) {
                Err("still running".to_owned())
            } else {
                Ok(())
            }
        });
    }
}

/// A client of this machine's servers (no proxy).
fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The `trubka` CLI as a seat of the team, in a home of its own and its own profile (the
/// session's keyring is shared with the app, whose seat is the `default` profile's).
#[derive(Debug)]
pub struct Cli {
    home: tempfile::TempDir,
    profile: String,
    /// `trubka events --json`, once followed: the process and the lines it printed.
    events: Option<(Child, Arc<Mutex<Vec<String>>>)>,
}

impl Cli {
    pub fn new(profile: &str) -> Cli {
        let home = tempfile::Builder::new()
            .prefix("trubka-cli-")
            .tempdir()
            .unwrap();
        Cli {
            home,
            profile: profile.to_owned(),
            events: None,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(cli_binary());
        let home = self.home.path();
        command
            .arg("--profile")
            .arg(&self.profile)
            .args(args)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null());
        command
    }

    /// Runs a command to its end; its standard output, or the test fails with what it said.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "trubka {args:?}: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// `trubka team join <link> --yes --json`: the seat it joined as.
    pub fn join(&self, link: &str) -> Value {
        serde_json::from_str(&self.run(&["team", "join", link, "--yes", "--json"])).unwrap()
    }

    /// Starts `trubka events --json` in the background.
    pub fn follow_events(&mut self) {
        let mut child = self
            .command(&["events", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(self.home.path().join("events.stderr")).unwrap(),
            ))
            .spawn()
            .unwrap();
        if let Some(pids) = &run_env().pids_file {
            let mut list = std::fs::read_to_string(pids).unwrap_or_default();
            list.push_str(&format!("{}\n", child.id()));
            std::fs::write(pids, list).unwrap();
        }
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        self.events = Some((child, lines));
    }

    /// The events `trubka events --json` printed so far.
    pub fn events(&self) -> Vec<Value> {
        let (_, lines) = self.events.as_ref().expect("follow_events first");
        lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Waits until an event satisfies `pred`, and returns it.
    pub fn wait_event(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        wait_for_within(what, Duration::from_secs(20), || {
            let events = self.events();
            events.iter().find(|e| pred(e)).cloned().ok_or_else(|| {
                let stderr = std::fs::read_to_string(self.home.path().join("events.stderr"))
                    .unwrap_or_default();
                format!(
                    "{} events: {:?}; stderr: {stderr}",
                    events.len(),
                    events.last()
                )
            })
        })
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        if let Some((mut child, lines)) = self.events.take() {
            let _ = child.kill();
            let _ = child.wait();
            let text = lines.lock().map(|l| l.join("\n")).unwrap_or_default();
            let _ = std::fs::write(
                run_env()
                    .artifacts
                    .join(format!("cli-{}-events.jsonl", self.profile)),
                text,
            );
        }
    }
}

/// The `trubka` binary: `E2E_CLI` (tests/e2e/run sets it).
fn cli_binary() -> PathBuf {
    std::env::var_os("E2E_CLI")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .expect("E2E_CLI is not set: run the end-to-end suite through tests/e2e/run")
}

/// For an event of `trubka events --json` about a colleague's call to `number` (its digits as
/// the PBX dials them), the call's `whose`, `mine` and the event's `kind`.
pub fn whose_call_to(event: &Value, number: &str) -> Option<Value> {
    let call = &event["call"];
    let remote = digits(call["remoteNumber"].as_str().unwrap_or_default());
    (remote == number && !call["whose"].is_null())
        .then(|| json!({"whose": call["whose"], "mine": call["mine"], "kind": event["kind"]}))
}
