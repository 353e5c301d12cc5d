//! The order of start-up: the main window's first paint first, everything else after it.
//!
//! A cold start is over for the operator when the Calls screen is drawn. Until then the app's
//! two CPU-hungry neighbours — the core coming up (in demo mode the simulator, the relay, SQLite
//! and a whole OAuth sign-in) and the popup's page loading in the main window's own web process —
//! only compete with that page for the machine's cores and the web thread they share
//! (BENCHMARKS.md). So both wait until the window first asks for the core, which its page does
//! once it has painted (`ui/src/main.ts`), with a ceiling so that a window that never asks (it
//! failed to load, or stays hidden) does not keep the core from starting. A call that needs the
//! popup sooner still gets one (`desktop::popup::show` makes it).

use std::time::Duration;

use crate::core::AppCore;

/// How long the core waits for the window to ask before it starts anyway.
pub const CEILING: Duration = Duration::from_secs(3);

/// Waits until a command asks for the core, at most [`CEILING`].
pub async fn core_wanted(core: &AppCore) {
    if tokio::time::timeout(CEILING, core.asked()).await.is_err() {
        tracing::info!("the window has not asked for the core yet; starting it anyway");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_command_that_asks_for_the_core_lets_it_start() {
        let core = AppCore::default();
        let wanted = core_wanted(&core);
        // A command asks, and waits for a core that does not come: that is the next step's job.
        let asking = tokio::time::timeout(Duration::from_millis(50), core.companion());
        assert!(asking.await.is_err(), "no core is started by asking alone");
        tokio::time::timeout(Duration::from_secs(1), wanted)
            .await
            .expect("the start-up went on when the command asked, before the ceiling");
    }
}
