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
//! [`events::forward`] passes each domain event to the window under
//! [`ipc::events::DOMAIN_EVENT`]. `contract` (tests only) checks the IPC contract end to end:
//! the bindings, the command and event names the UI uses, and the capabilities.
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
pub mod desktop;
pub mod downloads;
pub mod events;
pub mod ipc;
pub mod locale;
pub mod startup;

#[cfg(test)]
mod contract;

use std::sync::Arc;

use companion::settings::{DEFAULT_PROFILE, platform_dirs};
use companion::{Companion, ErrorCode, OsKeyring, Profile};
use demo::{Demo, DemoOptions};
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
                // A `tel:`, `callto:` or `trubka:` link, from the system or a person: followed
                // once the app runs (or handed to the one already running).
                link if desktop::links::parse(link).is_ok() => {}
                other => {
                    return Err(format!(
                        "unknown argument {other:?} (the app takes --demo and tel:, callto: or trubka: links)"
                    ));
                }
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
        .map(|s| s.account.client_id.is_some() || s.team.is_some())
        .unwrap_or(false)
}

/// The app's builder, generic over the runtime so tests can drive it on the mock runtime:
/// the managed core and every command.
pub fn builder<R: Runtime>(builder: tauri::Builder<R>, core: AppCore) -> tauri::Builder<R> {
    builder
        .manage(core)
        .manage(downloads::Downloads::default())
        .manage(desktop::popup::PopupState::default())
        .manage(desktop::links::PendingDial::default())
        .manage(desktop::links::PendingJoin::default())
        .manage(desktop::links::SignInLinks::default())
        .invoke_handler(commands::handler())
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
                // A revoked team seat still opens: the window says so and offers to leave.
                if !matches!(e.code(), ErrorCode::NotConfigured | ErrorCode::SeatRevoked) {
                    return Err(e.into());
                }
                tracing::warn!(error = %e, "live events are off");
            }
            let companion = Arc::new(companion);
            // The directory names whose a colleague's call is (a supervisor's Calls screen) and
            // fills the transfer picker and the workplace choice; the core keeps it only in
            // memory and otherwise reads it again only when the PBX says it changed. Read once
            // here, in the background: a server that is down must not hold the window up.
            let reading = Arc::clone(&companion);
            tauri::async_runtime::spawn(async move {
                if let Err(e) = reading.refresh_directory().await {
                    tracing::warn!(error = %e, "the numbers and workplaces could not be read at start");
                }
            });
            Ok((companion, None))
        }
    }
}

/// The tray and the links the system hands over (including those this very start was given). A
/// desktop without a tray or a link handler loses only those. The hidden popup is made later,
/// once the main page has painted ([`prepare_popup`]).
fn setup_desktop(app: &tauri::AppHandle) {
    use tauri_plugin_deep_link::DeepLinkExt;
    let settings = Profile::open(DEFAULT_PROFILE)
        .and_then(|p| p.load_settings())
        .unwrap_or_default();
    if let Err(e) = desktop::tray::build(app, settings.language, !settings.popups.enabled) {
        tracing::warn!(error = %e, "no tray icon: closing the window will quit");
    }
    // Installed packages register the schemes through their desktop entry; a development build
    // registers itself, so that links work from `./dev demo` too.
    #[cfg(all(debug_assertions, target_os = "linux"))]
    if let Err(e) = app.deep_link().register_all() {
        tracing::info!(error = %e, "tel:, callto: and trubka: links are not registered");
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        let confirm = link_needs_confirmation(&handle);
        for url in event.urls() {
            desktop::links::handle(&handle, url.as_str(), confirm);
        }
    });
    let args: Vec<String> = std::env::args().skip(1).collect();
    desktop::links::handle_args(app, &args, settings.links.dial_after_confirmation);
}

/// Makes the hidden popup window: on Linux in the main window's web process (see
/// `desktop::popup`). Run once the main page has painted, so the two pages do not load at once
/// on the web thread they share ([`startup`]).
fn prepare_popup(app: &tauri::AppHandle) {
    #[cfg(target_os = "linux")]
    desktop::popup::prepare_beside(app, desktop::MAIN_WINDOW);
    #[cfg(not(target_os = "linux"))]
    if let Err(e) = desktop::popup::prepare(app) {
        tracing::warn!(error = %e, "the popup window could not be prepared");
    }
}

/// Whether a D-Bus session bus can be reached: its address is given, or the usual socket exists.
fn session_bus_available() -> bool {
    if cfg!(not(target_os = "linux")) {
        return true;
    }
    if let Some(address) = std::env::var_os("DBUS_SESSION_BUS_ADDRESS") {
        return !address.is_empty();
    }
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(|dir| std::path::Path::new(&dir).join("bus").exists())
        .unwrap_or(false)
}

/// Whether a link dials once the operator confirms (else it only fills the dialer).
fn link_needs_confirmation<R: Runtime>(app: &tauri::AppHandle<R>) -> bool {
    let core = app.state::<AppCore>();
    match core.started() {
        Some(companion) => companion.settings().links.dial_after_confirmation,
        None => companion::Settings::default().links.dial_after_confirmation,
    }
}

/// Runs the desktop app until its window closes.
pub fn run(mode: Mode) -> Result<(), tauri::Error> {
    // The single-instance plugin comes first: a second start hands its arguments (a `tel:`
    // link, say) to this one and exits before anything else is set up.
    let mut app = tauri::Builder::default();
    // The plugin finds the running instance over the D-Bus session bus (and fails hard without
    // one); a session without a bus runs without it rather than not at all.
    if session_bus_available() {
        app = app.plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            desktop::show_main(app);
            desktop::links::handle_args(app, &args, link_needs_confirmation(app));
        }));
    } else {
        tracing::warn!("no D-Bus session bus: a second start will open a second window");
    }
    let app = app
        .plugin(tauri_plugin_deep_link::init())
        // The sign-in and the CRM open the system browser from Rust; no window is granted the
        // opener.
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_global_shortcut::Builder::new().build())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_denylist(&[desktop::popup::POPUP])
                .build(),
        );
    let launched = std::time::Instant::now();
    let app = builder(app, AppCore::default())
        .on_page_load(|webview, payload| {
            // A start-up milestone for tests/e2e/measure.rs.
            tracing::debug!(window = %webview.label(), event = ?payload.event(), url = %payload.url(), "page load");
        })
        .on_window_event(|window, event| {
            // Closing the main window keeps the app in the tray; Quit is in the tray's menu.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event
                && window.label() == desktop::MAIN_WINDOW
                && window
                    .app_handle()
                    .tray_by_id(desktop::tray::TRAY)
                    .is_some()
            {
                api.prevent_close();
                if let Err(e) = window.hide() {
                    tracing::warn!(error = %e, "the main window could not be hidden");
                }
            }
        })
        .setup(move |app| {
            tracing::debug!(after_ms = launched.elapsed().as_millis(), "the main window is made");
            app.manage(AccountHome::platform(mode));
            let handle = app.handle().clone();
            setup_desktop(&handle);
            tracing::debug!(after_ms = launched.elapsed().as_millis(), "the desktop is set up");
            tauri::async_runtime::spawn(async move {
                // The window's first paint first (see `startup`): then the popup and the core.
                startup::core_wanted(&handle.state::<AppCore>()).await;
                tracing::debug!(after_ms = launched.elapsed().as_millis(), "the window asked for the core");
                prepare_popup(&handle);
                let started = start_core(mode).await;
                tracing::info!(after_ms = launched.elapsed().as_millis(), ok = started.is_ok(), "the core started");
                let core = handle.state::<AppCore>();
                match started {
                    Ok((companion, demo)) => {
                        events::forward(handle.clone(), &companion);
                        desktop::follow(handle.clone(), Arc::clone(&companion));
                        desktop::core_started(&handle, &companion);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_taken_as_arguments_and_anything_else_is_refused() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            Mode::from_args(args(&["--demo", "tel:+7-921-946-27-61"])),
            Ok(Mode::Demo)
        );
        let refused = Mode::from_args(args(&["--demo", "--verbose"])).unwrap_err();
        assert!(refused.contains("--verbose"), "{refused}");
        assert!(Mode::from_args(args(&["--demo", "https://example.com"])).is_err());
    }
}
