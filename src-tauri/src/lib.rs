//! `trubka-app` is the desktop face of Trubka: a thin Tauri shell over the `companion` core that
//! serves the web UI in `ui/`, passes the window's commands to the core and the core's events to
//! the window. It exists so that everything an operator relies on lives in the core, testable
//! without a display, and the shell only translates. It must never hold domain logic (dialling
//! rules, call state, history queries belong to the core and the call log), never keep an
//! `AppHandle` in a global, and never render or pass on external text as HTML.
//!
//! The flow: [`run`] builds the app with [`builder`], which manages an [`AppCore`] and registers
//! the commands of [`commands`]. The window shows at once; the core starts in the background
//! ([`Mode::Demo`] starts the simulator and relay in-process, [`Mode::Account`] opens the
//! default profile with the OS keyring) and commands wait for it. Once it is up,
//! [`events::forward`] passes each domain event to the window under [`events::DOMAIN_EVENT`].
//! A test drives the same builder on Tauri's mock runtime:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn demo(companion: Arc<companion::Companion>) {
//! let app = trubka_app::builder(tauri::Builder::default(), trubka_app::AppCore::ready(companion));
//! # let _ = app;
//! # }
//! ```

pub mod commands;
pub mod core;
pub mod downloads;
pub mod desktop;
pub mod events;
pub mod ipc;

use std::sync::Arc;

use companion::settings::{DEFAULT_PROFILE, platform_dirs};
use companion::{Companion, Demo, DemoOptions, OsKeyring, Profile};
use tauri::{Manager, RunEvent, Runtime};

pub use crate::commands::account::AccountHome;
pub use crate::core::AppCore;
use crate::ipc::IpcError;

/// Which account the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A simulated PBX, in-process, with its own profile.
    Demo,
    /// The real account of the default profile, secrets in the OS keyring.
    Account,
}

impl Mode {
    /// `--demo` asks for demo mode; without it, demo mode is still chosen while no account is
    /// set up, so that a first start shows a working app rather than an error.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut demo = false;
        for arg in args {
            match arg.as_str() {
                "--demo" => demo = true,
                other => return Err(format!("unknown argument {other:?} (the app takes --demo)")),
            }
        }
        if demo || !account_configured() {
            Ok(Mode::Demo)
        } else {
            Ok(Mode::Account)
        }
    }
}

fn account_configured() -> bool {
    Profile::open(DEFAULT_PROFILE)
        .and_then(|p| p.load_settings())
        .map(|s| s.account.client_id.is_some())
        .unwrap_or(false)
}

/// The app's builder, generic over the runtime so tests can drive it on the mock runtime:
/// the managed core and every command.
pub fn builder<R: Runtime>(builder: tauri::Builder<R>, core: AppCore) -> tauri::Builder<R> {
    builder
        .manage(core)
        .manage(downloads::Downloads::default())
        .invoke_handler(tauri::generate_handler![
            commands::calls::dial,
            commands::calls::hang_up,
            commands::calls::transfer,
            commands::calls::live_calls,
            commands::calls::link_status,
            commands::history::history,
            commands::history::today,
            commands::directory::workplaces,
            commands::history::callbacks,
            commands::history::export_history,
            commands::history::save_recording,
            commands::contacts::contacts,
            commands::contacts::add_contact,
            commands::contacts::update_contact,
            commands::contacts::delete_contact,
            commands::contacts::import_contacts,
            commands::contacts::export_contacts,
            commands::settings::settings,
            commands::settings::save_settings,
            commands::settings::set_workplace,
            commands::account::account,
            commands::account::sign_in,
            commands::account::sign_out,
            commands::account::save_account,
            commands::account::dismiss_welcome,
            commands::account::restart_app,
        ])
}

/// Starts the core for `mode`: the demo's simulator and relay, or the real account.
async fn start_core(mode: Mode) -> Result<(Arc<Companion>, Option<Demo>), IpcError> {
    match mode {
        Mode::Demo => {
            let (config, data) = platform_dirs()?;
            let demo = Demo::start(&config, &data, DemoOptions::from_env()?).await?;
            Ok((Arc::clone(&demo.companion), Some(demo)))
        }
        Mode::Account => {
            let companion = Companion::open(Profile::open(DEFAULT_PROFILE)?, Arc::new(OsKeyring))?;
            // An account that signs in on this computer (a loopback Redirect URI) may have no
            // relay yet: the app still starts, to sign in and show the history, without live
            // events.
            if let Err(e) = companion.start_live_events().await {
                if e.code() != "not_configured" {
                    return Err(e.into());
                }
                tracing::warn!(error = %e, "live events are off");
            }
            Ok((Arc::new(companion), None))
        }
    }
}

/// Runs the desktop app until its window closes.
pub fn run(mode: Mode) -> Result<(), tauri::Error> {
    let app = builder(tauri::Builder::default(), AppCore::default())
        // The sign-in opens the system browser from Rust; no window is granted the opener.
        .plugin(tauri_plugin_opener::init())
        .setup(move |app| {
            app.manage(AccountHome::platform(mode));
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let started = start_core(mode).await;
                let core = handle.state::<AppCore>();
                match started {
                    Ok((companion, demo)) => {
                        events::forward(handle.clone(), &companion);
                        if let Some(demo) = demo {
                            core.keep_demo(demo);
                        }
                        core.set_started(Ok(companion));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the core did not start");
                        core.set_started(Err(e));
                    }
                }
            });
            Ok(())
        })
        .build(tauri::generate_context!())?;
    app.run(|app, event| {
        if let RunEvent::Exit = event {
            tauri::async_runtime::block_on(app.state::<AppCore>().shutdown());
        }
    });
    Ok(())
}
