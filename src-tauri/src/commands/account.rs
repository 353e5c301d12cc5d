//! The account: sign-in state, signing in and out, and the first-run welcome that connects a
//! real МТТ Бизнес account to the default profile.
//!
//! A real account always lives in the default profile, whatever the app runs on now: in demo
//! mode the running core is the demo's, and the welcome writes the default profile's settings
//! and secrets, then restarts the app, which then picks account mode. [`AccountHome`] says where
//! that profile is and which keyring holds its secrets; tests point it at a temporary
//! directory and a keyring in memory.

use std::sync::Arc;

use companion::account::AccountSetup;
use companion::settings::DEFAULT_PROFILE;
use companion::{ErrorCode, OsKeyring, Profile, ProfileSecrets, SecretVault};
use tauri::{AppHandle, Manager, Runtime, State};

use crate::Mode;
use crate::core::AppCore;
use crate::ipc::{AccountForm, AccountState, AppMode, IpcError};

/// Warn when the sign-in lapses within this long (the core announces the same threshold).
const RENEW_WARNING: chrono::Duration = chrono::Duration::hours(12);

/// Where a real account is kept: the default profile and its keyring.
#[derive(Debug)]
pub struct AccountHome {
    mode: Mode,
    profile: Result<Profile, IpcError>,
    vault: Arc<dyn SecretVault>,
}

impl AccountHome {
    /// The default profile under the platform's directories, secrets in the OS keyring.
    pub fn platform(mode: Mode) -> Self {
        AccountHome {
            mode,
            profile: Profile::open(DEFAULT_PROFILE).map_err(IpcError::from),
            vault: Arc::new(OsKeyring),
        }
    }

    /// An explicit profile and keyring (tests, portable installs).
    pub fn new(mode: Mode, profile: Profile, vault: Arc<dyn SecretVault>) -> Self {
        AccountHome {
            mode,
            profile: Ok(profile),
            vault,
        }
    }

    pub(crate) fn profile(&self) -> Result<&Profile, IpcError> {
        self.profile.as_ref().map_err(Clone::clone)
    }

    /// Which account the app runs on.
    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// The keyring of the default profile.
    pub(crate) fn vault(&self) -> Arc<dyn SecretVault> {
        Arc::clone(&self.vault)
    }

    /// Whether to offer the welcome: demo mode, no real account, and never answered.
    fn offers_welcome(&self) -> bool {
        self.mode == Mode::Demo
            && self
                .profile()
                .ok()
                .and_then(|p| p.load_settings().ok())
                .is_some_and(|s| s.account.client_id.is_none() && s.team.is_none() && !s.welcomed)
    }
}

fn ms(t: chrono::DateTime<chrono::Utc>) -> f64 {
    t.timestamp_millis() as f64
}

/// The account's state now; a core that did not start is reported in `trouble`, not as an
/// error, so the screen can still offer to set the account up.
async fn state(core: &AppCore, home: &AccountHome) -> AccountState {
    let mut state = AccountState {
        mode: match home.mode {
            Mode::Demo => AppMode::Demo,
            Mode::Account => AppMode::Account,
        },
        client_id: None,
        redirect_uri: None,
        relay_url: None,
        signed_in: false,
        access_expires_at_ms: None,
        refresh_expires_at_ms: None,
        renew_soon: false,
        workplace: None,
        welcome: home.offers_welcome(),
        trouble: None,
    };
    let companion = match core.companion().await {
        Ok(c) => c,
        Err(e) => {
            state.trouble = Some(e.message);
            return state;
        }
    };
    let settings = companion.settings();
    state.client_id = settings.account.client_id;
    state.redirect_uri = settings.account.redirect_uri;
    state.relay_url = settings.account.relay_url;
    state.workplace = settings.workplace;
    if let Some(session) = companion.session_status().await {
        state.signed_in = session.signed_in;
        state.access_expires_at_ms = session.access_expires_at.map(ms);
        state.refresh_expires_at_ms = session.refresh_expires_at.map(ms);
        state.renew_soon = session
            .refresh_expires_at
            .is_some_and(|t| t - chrono::Utc::now() < RENEW_WARNING);
    }
    state
}

/// The account and sign-in state.
#[tauri::command]
pub(crate) async fn account(
    core: State<'_, AppCore>,
    home: State<'_, AccountHome>,
) -> Result<AccountState, IpcError> {
    Ok(state(&core, &home).await)
}

/// Signs in: the system browser opens MTT's sign-in page, and the answer comes back through
/// the relay or the loopback Redirect URI. Then the account's workplaces are read, so the
/// operator can choose theirs.
#[tauri::command]
pub(crate) async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    core: State<'_, AppCore>,
    home: State<'_, AccountHome>,
) -> Result<AccountState, IpcError> {
    if home.mode == Mode::Demo {
        return Err(IpcError::new(
            ErrorCode::Demo,
            "the demo is signed in to its simulated PBX; connect your МТТ Бизнес account to sign in to it",
        ));
    }
    let companion = core.companion().await?;
    companion
        .sign_in(|url| {
            // The opener is used from Rust only; the window is never granted it.
            let opened = match app.try_state::<tauri_plugin_opener::Opener<R>>() {
                Some(opener) => opener
                    .open_url(url.as_str(), None::<&str>)
                    .map_err(|e| e.to_string()),
                None => Err("the opener plugin is not running".into()),
            };
            if let Err(e) = opened {
                tracing::error!(error = %e, "the browser did not open for the sign-in");
            }
        })
        .await?;
    if let Err(e) = companion.refresh_directory().await {
        tracing::warn!(error = %e, "the workplaces could not be read after the sign-in");
    }
    Ok(state(&core, &home).await)
}

/// Signs out: the tokens leave the keyring.
#[tauri::command]
pub(crate) async fn sign_out(
    core: State<'_, AppCore>,
    home: State<'_, AccountHome>,
) -> Result<AccountState, IpcError> {
    if home.mode == Mode::Demo {
        return Err(IpcError::new(
            ErrorCode::Demo,
            "the demo's simulated sign-in cannot be signed out",
        ));
    }
    core.companion().await?.sign_out().await?;
    Ok(state(&core, &home).await)
}

/// Stores a real account in the default profile: its public details in the settings, the
/// client secret and relay key in the OS keyring. Each field is checked; the first wrong one
/// is refused with code `invalid` and its name. The app must then restart (`restart_app`).
#[tauri::command]
pub(crate) async fn save_account(
    home: State<'_, AccountHome>,
    form: AccountForm,
) -> Result<(), IpcError> {
    let profile = home.profile()?;
    let setup = AccountSetup::from(form);
    setup.check()?;
    let secrets = ProfileSecrets::new(Arc::clone(&home.vault), profile.name());
    setup.save(profile, &secrets)?;
    Ok(())
}

/// Answers the welcome with "try the demo": it is not offered again.
#[tauri::command]
pub(crate) async fn dismiss_welcome(home: State<'_, AccountHome>) -> Result<(), IpcError> {
    let profile = home.profile()?;
    let mut settings = profile.load_settings()?;
    if !settings.welcomed {
        settings.welcomed = true;
        profile.save_settings(&settings)?;
    }
    Ok(())
}

/// Restarts the app, which then picks account mode if an account was saved.
#[tauri::command]
pub(crate) fn restart_app<R: Runtime>(app: AppHandle<R>) {
    // Not `restart()`: on the main thread, where this command runs, it skips the exit events, so
    // the core would not shut down (the call log, the demo's servers), the window positions would
    // not be saved, and the single-instance name would still be held when the new process asks.
    app.request_restart();
}
