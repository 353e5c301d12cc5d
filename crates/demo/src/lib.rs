//! `demo` is Trubka's demo mode: the whole product with a simulated PBX, so a new user can try
//! every feature without an MTT account, and so that `./dev demo`, the end-to-end tests and the
//! screenshots have a world to show. It exists as a crate of its own so that the core (`companion`)
//! never links the simulator, the relay's server or their web stack: the shipped core stays what
//! runs against MTT, and only the two faces (the app and the CLI) pull the demo in. It must never be
//! a second core: it only starts the simulated world and drives the real `companion` through its
//! public API exactly as a person would (the real OAuth flow, the real relay link), never a
//! shortcut around them, and it must never touch a real account's profile or keep the simulated
//! account's secrets anywhere but in memory.
//!
//! It starts the simulator and a relay in-process on loopback, points the simulator's webhooks at
//! the relay's hook as MTT would, and signs in through the real OAuth flow: the "browser" follows
//! the simulator's authorize redirect to the relay, and the core collects the code from the
//! relay's hand-off exactly as it does for a real account. The demo profile is separate from real
//! ones, and its secrets are kept in memory only, since the simulated account has no value.
//! A fresh demo profile gets a sample phonebook (`phonebook`), and while the demo's traffic runs
//! some of those contacts phone in (`regulars`), so every screen has something to show.

mod phonebook;
mod regulars;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use companion::settings::DEMO_PROFILE;
use companion::{
    Companion, CompanionError, MemoryVault, Profile, ProfileSecrets, RelayKey, SecretVault,
};
use mtt_sim::{BusyWorkplace, Sim, SimConfig, SimHandle};
use relay::{ClientKey, HookPath, Relay, RelayConfig, RelayHandle};
use url::Url;

/// The name of the file in the demo profile's data directory that says where the demo runs.
pub const DEMO_INFO_FILE: &str = "demo.json";

/// Where a running demo's simulator and relay listen. The hook address is as secret as a real
/// Redirect URI would be, but the demo's world is on loopback and lives only as long as the run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoInfo {
    /// The simulator's control API (script calls with `mtt-sim control --url <this>`).
    pub control_url: String,
    /// The simulator's Open API.
    pub api_url: String,
    /// The simulator's OAuth server.
    pub oauth_url: String,
    /// The relay.
    pub relay_url: String,
    /// The relay's webhook address, where the simulator sends call notifications.
    pub hook_url: String,
    /// The operator's workplace in the demo.
    pub workplace: Option<String>,
}

/// How the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// New simulated calls per second (0 for none: script calls yourself).
    pub calls_per_second: f64,
    /// Factor on the simulated people's delays (1.0 is real time).
    pub time_scale: f64,
    /// Token lifetimes of the simulated OAuth server (MTT's by default; tests shorten them).
    pub tokens: Option<mtt_sim::config::TokenConfig>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            calls_per_second: 1.0 / 12.0,
            time_scale: 1.0,
            tokens: None,
        }
    }
}

impl DemoOptions {
    /// The defaults, with the rate of scripted calls taken from `TRUBKA_DEMO_TRAFFIC` (calls per
    /// second; `0` for none, so tests script every call themselves) when it is set.
    pub fn from_env() -> Result<Self, CompanionError> {
        let mut options = DemoOptions::default();
        if let Ok(raw) = std::env::var("TRUBKA_DEMO_TRAFFIC") {
            options.calls_per_second = raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| r.is_finite() && *r >= 0.0)
                .ok_or_else(|| {
                    CompanionError::InvalidInput(format!(
                        "TRUBKA_DEMO_TRAFFIC={raw:?} must be a number of calls per second, 0 or more"
                    ))
                })?;
        }
        Ok(options)
    }
}

/// A running demo: the core plus the simulated world it talks to.
#[derive(Debug)]
pub struct Demo {
    /// The core, signed in to the simulated account.
    pub companion: Arc<Companion>,
    /// The simulator (its control API scripts calls).
    pub sim: SimHandle,
    /// The in-process relay.
    pub relay: RelayHandle,
    /// The sample phonebook's contacts who phone in while the traffic runs.
    regulars: Option<regulars::Regulars>,
}

impl Demo {
    /// Starts the demo with its profile under the given base directories.
    pub async fn start(
        config_base: &Path,
        data_base: &Path,
        options: DemoOptions,
    ) -> Result<Self, CompanionError> {
        let profile = Profile::under(DEMO_PROFILE, config_base, data_base)?;
        std::fs::create_dir_all(profile.data_dir()).map_err(|e| CompanionError::Settings {
            path: profile.data_dir().to_path_buf(),
            detail: e.to_string(),
        })?;
        let demo_error =
            |what: &str, e: &dyn std::fmt::Display| CompanionError::Demo(format!("{what}: {e}"));

        let relay = Relay::start(RelayConfig::new(
            HookPath::generate(),
            profile.data_dir().join("relay.sqlite3"),
        ))
        .await
        .map_err(|e| demo_error("the demo relay did not start", &e))?;
        // The relay's store outlives a run (the demo's history resumes from it), so the key of
        // the previous run is replaced by this run's.
        let key = ClientKey::generate();
        let store = &relay.state().store;
        if let Err(e) = store.revoke_client_key("demo".into()).await {
            tracing::debug!(error = %e, "no earlier demo key to revoke");
        }
        store
            .add_client_key("demo".into(), key.hash())
            .await
            .map_err(|e| demo_error("the demo relay refused a key", &e))?;
        let redirect_uri = relay.redirect_uri().expose_secret().to_owned();

        // A new seed each run, so the demo's callers differ from one run to the next.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        let mut sim_config = SimConfig {
            auto_approve: true,
            seed,
            // One call per workplace, as in an office: a call for a workplace on a call rings
            // the next of the cabinet's routing (or is missed), so presence means something.
            busy_workplace: BusyWorkplace::NextInRouting,
            ..SimConfig::default()
        };
        sim_config.client.redirect_uris = vec![redirect_uri.clone()];
        if let Some(tokens) = options.tokens.clone() {
            sim_config.tokens = tokens;
        }
        if options.calls_per_second > 0.0 {
            sim_config.traffic = Some(mtt_sim::config::TrafficConfig {
                calls_per_second: options.calls_per_second,
                time_scale: options.time_scale,
            });
        }
        let client_id = sim_config.client.client_id.clone();
        let client_secret = mtt_api::ClientSecret::new(sim_config.client.client_secret.expose());
        let my_workplace = sim_config
            .account
            .workplaces
            .first()
            .map(|w| w.workplace.clone());
        // Personal managers are chosen among the operators the PBX rings first.
        let managers: Vec<String> = match sim_config.account.routing.first() {
            Some(group) if !group.is_empty() => group.clone(),
            _ => sim_config
                .account
                .workplaces
                .iter()
                .map(|w| w.workplace.clone())
                .collect(),
        };
        let account_numbers: Vec<String> = sim_config
            .account
            .numbers
            .iter()
            .map(|n| n.number.clone())
            .collect();
        let sim = Sim::start(sim_config)
            .await
            .map_err(|e| demo_error("the simulator did not start", &e))?;

        let mut settings = profile.load_settings().unwrap_or_default();
        settings.account.client_id = Some(client_id);
        settings.account.redirect_uri = Some(redirect_uri);
        settings.account.relay_url = Some(format!("http://{}", relay.local_addr()));
        settings.account.oauth_url = Some(sim.oauth_url().to_owned());
        settings.account.api_url = Some(sim.api_url().to_owned());
        if settings.workplace.is_none() {
            settings.workplace = my_workplace;
        }
        profile.save_settings(&settings)?;

        let vault: Arc<dyn SecretVault> = Arc::new(MemoryVault::default());
        let secrets = ProfileSecrets::new(Arc::clone(&vault), profile.name());
        secrets.set_client_secret(&client_secret)?;
        secrets.set_relay_key(&RelayKey::new(key.expose_secret()))?;
        let companion = Arc::new(Companion::open(profile, vault)?);

        companion.start_live_events().await?;
        companion.sign_in(follow_like_a_browser).await?;
        companion.refresh_directory().await?;
        let added = phonebook::seed(&companion, &managers).await?;
        if added > 0 {
            tracing::info!(added, "the demo's sample phonebook was added");
        }
        let regulars = regulars::start(regulars::Plan {
            control_url: sim.control_url().to_owned(),
            callers: phonebook::callers(),
            numbers: account_numbers,
            calls_per_second: options.calls_per_second,
            time_scale: options.time_scale,
            seed,
        });
        let demo = Demo {
            companion,
            sim,
            relay,
            regulars,
        };
        demo.write_info()?;
        Ok(demo)
    }

    /// Where the running demo's simulated world can be reached.
    pub fn info(&self) -> DemoInfo {
        DemoInfo {
            control_url: self.sim.control_url().to_owned(),
            api_url: self.sim.api_url().to_owned(),
            oauth_url: self.sim.oauth_url().to_owned(),
            relay_url: format!("http://{}", self.relay.local_addr()),
            hook_url: format!("{}/events", self.relay.redirect_uri().expose_secret()),
            workplace: self.companion.settings().workplace,
        }
    }

    /// The file [`DemoInfo`] is written to, so that `mtt-sim control` and the end-to-end tests
    /// can script calls into a demo they did not start.
    pub fn info_path(&self) -> std::path::PathBuf {
        self.companion.profile().data_dir().join(DEMO_INFO_FILE)
    }

    fn write_info(&self) -> Result<(), CompanionError> {
        let path = self.info_path();
        let fail = |detail: String| CompanionError::Settings {
            path: path.clone(),
            detail,
        };
        let text = serde_json::to_string_pretty(&self.info()).map_err(|e| fail(e.to_string()))?;
        // Written whole and renamed into place, so a reader never sees half of it.
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, text).map_err(|e| fail(e.to_string()))?;
        std::fs::rename(&temporary, &path).map_err(|e| fail(e.to_string()))
    }

    /// Stops everything.
    pub async fn shutdown(self) {
        drop(self.regulars);
        self.companion.shutdown().await;
        self.sim.shutdown().await;
        if let Err(e) = self.relay.shutdown().await {
            tracing::warn!(error = %e, "stopping the demo relay");
        }
    }
}

/// Plays the browser: opens the authorize address (the simulator approves at once and redirects
/// to the Redirect URI, the relay's hook) and follows that one redirect, so the relay receives the
/// code as it would from a real browser.
fn follow_like_a_browser(url: &Url) {
    let url = url.clone();
    tokio::spawn(async move {
        // Everything it visits is on loopback: a proxy from the system must not be asked.
        let client = match reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::limited(3))
            .timeout(Duration::from_secs(10))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "the demo browser could not start");
                return;
            }
        };
        if let Err(e) = client.get(url).send().await {
            tracing::error!(error = %e, "the demo browser could not complete the sign-in");
        }
    });
}
