//! The core as the shell holds it: started once, in the background, while the window already
//! shows. Commands wait for it; a core that failed to start answers every command with the
//! reason, so the window can say why instead of hanging.

use std::sync::{Arc, Mutex};

use companion::{Companion, ErrorCode};
use demo::Demo;
use tokio::sync::watch;

use crate::ipc::{IpcError, LinkState};

/// How the core came up, or why it did not.
type Started = Option<Result<Arc<Companion>, IpcError>>;

/// Tauri's managed state: the companion core once it is up.
#[derive(Debug)]
pub struct AppCore {
    started: watch::Sender<Started>,
    /// The running demo (simulator and relay), kept so they live as long as the app.
    demo: Mutex<Option<Demo>>,
    /// The link's last report: the core announces it once, often before the window listens.
    link: Mutex<Option<LinkState>>,
    /// Whether a command has asked for the core yet: the app starts it then (see `startup`).
    asked: watch::Sender<bool>,
}

impl Default for AppCore {
    fn default() -> Self {
        AppCore {
            started: watch::Sender::new(None),
            demo: Mutex::new(None),
            link: Mutex::new(None),
            asked: watch::Sender::new(false),
        }
    }
}

impl AppCore {
    /// A core that is already running (tests, or a caller that started it itself).
    pub fn ready(companion: Arc<Companion>) -> Self {
        let core = AppCore::default();
        core.started.send_replace(Some(Ok(companion)));
        core
    }

    /// Records how starting went; commands waiting for the core go on.
    pub fn set_started(&self, started: Result<Arc<Companion>, IpcError>) {
        self.started.send_replace(Some(started));
    }

    /// Keeps a running demo alive until [`AppCore::shutdown`].
    pub fn keep_demo(&self, demo: Demo) {
        *self.demo.lock().unwrap_or_else(|p| p.into_inner()) = Some(demo);
    }

    /// Remembers the link's latest report.
    pub fn set_link(&self, link: LinkState) {
        *self.link.lock().unwrap_or_else(|p| p.into_inner()) = Some(link);
    }

    /// The link's latest report, if there has been one.
    pub fn link(&self) -> Option<LinkState> {
        self.link.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The core if it is up, without waiting.
    pub fn started(&self) -> Option<Arc<Companion>> {
        match &*self.started.borrow() {
            Some(Ok(companion)) => Some(Arc::clone(companion)),
            _ => None,
        }
    }

    /// Waits until some command asks for the core ([`AppCore::companion`]).
    pub async fn asked(&self) {
        let mut rx = self.asked.subscribe();
        // The sender lives as long as `self`, so this only ends by being asked.
        let _ = rx.wait_for(|asked| *asked).await;
    }

    /// The core, waiting for it to start when it has not yet.
    pub async fn companion(&self) -> Result<Arc<Companion>, IpcError> {
        self.asked
            .send_if_modified(|asked| !std::mem::replace(asked, true));
        let mut rx = self.started.subscribe();
        let started = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| IpcError::new(ErrorCode::Starting, "the app is shutting down"))?;
        match &*started {
            Some(result) => result.clone(),
            None => Err(IpcError::new(
                ErrorCode::Starting,
                "the app has not started yet",
            )),
        }
    }

    /// Stops the core and, in demo mode, the simulator and relay.
    pub async fn shutdown(&self) {
        let demo = self.demo.lock().unwrap_or_else(|p| p.into_inner()).take();
        match demo {
            Some(demo) => demo.shutdown().await,
            None => {
                let running = self.started.borrow().clone();
                if let Some(Ok(companion)) = running {
                    companion.shutdown().await;
                }
            }
        }
        tracing::info!("the core has shut down");
    }
}
