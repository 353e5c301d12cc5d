//! `trubka demo`: the headless demo `./dev demo` runs. Demo mode itself (the simulated PBX, the
//! relay in-process and the core signed in through the real OAuth flow) lives outside the CLI;
//! this only starts it, prints its calls and stops it.

use std::time::Duration;

use companion::CompanionError;
use demo::{Demo, DemoOptions};

use crate::args::Global;
use crate::commands::events::follow;
use crate::profile::bases;

/// Runs the demo for `seconds`, or until Ctrl+C.
pub async fn run(
    g: &Global,
    calls_per_minute: f64,
    seconds: Option<u64>,
) -> Result<(), CompanionError> {
    let (config, data) = bases(g)?;
    eprintln!("Trubka demo: a SIMULATED PBX (not MTT) with live calls. Ctrl+C to stop.");
    let demo = Demo::start(
        &config,
        &data,
        DemoOptions {
            calls_per_second: calls_per_minute / 60.0,
            ..DemoOptions::default()
        },
    )
    .await?;
    let events = demo.companion.subscribe();
    follow(events, g.json, seconds.map(Duration::from_secs)).await;
    demo.shutdown().await;
    Ok(())
}
