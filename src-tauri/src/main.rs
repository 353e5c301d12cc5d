//! The `trubka-app` binary: `trubka-app [--demo]`.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
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
            eprintln!("trubka-app: {e}");
            ExitCode::FAILURE
        }
    }
}
