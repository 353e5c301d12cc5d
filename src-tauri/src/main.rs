//! The `trubka-app` binary: `trubka-app [--demo]`.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    start_logging();
    let mode = match trubka_app::Mode::from_args(std::env::args().skip(1)) {
        Ok(mode) => mode,
        Err(message) => {
            eprintln!("trubka-app: {message}");
            return ExitCode::from(2);
        }
    };
    match trubka_app::run(mode) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the app stopped");
            eprintln!("trubka-app: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr and to daily files in the app's data folder (a GUI program's stderr goes
/// nowhere on Windows); a panic is logged too. `RUST_LOG` chooses what, `info` by default.
fn start_logging() {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let files = companion::diagnostics::app_log_dir()
        .and_then(|dir| companion::diagnostics::log_subscriber(&dir, filter()));
    match files {
        Ok(subscriber) => {
            if tracing::subscriber::set_global_default(subscriber).is_err() {
                eprintln!("trubka-app: logging was already set up");
            }
        }
        Err(e) => {
            tracing_subscriber::fmt().with_env_filter(filter()).init();
            tracing::warn!(error = %e, "no log files: logging to stderr only");
        }
    }
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!(%info, "the app panicked");
        report(info);
    }));
}
