//! Which profile a command works on, and opening its core with the global options applied.

use std::path::PathBuf;
use std::sync::Arc;

use companion::settings::platform_dirs;
use companion::{Companion, CompanionError, OsKeyring, Profile};

use crate::args::Global;

/// The profile the global options name.
pub fn profile(global: &Global) -> Result<Profile, CompanionError> {
    let (config, data) = bases(global)?;
    Profile::under(&global.profile, &config, &data)
}

/// Where settings and data live: the platform's directories unless the options say otherwise.
pub fn bases(global: &Global) -> Result<(PathBuf, PathBuf), CompanionError> {
    let (config, data) = match (&global.config_dir, &global.data_dir) {
        (Some(c), Some(d)) => (c.clone(), d.clone()),
        (c, d) => {
            let (pc, pd) = platform_dirs()?;
            (c.clone().unwrap_or(pc), d.clone().unwrap_or(pd))
        }
    };
    Ok((config, data))
}

/// Opens the profile's core, with the global address overrides applied to its settings.
pub fn open(global: &Global) -> Result<Companion, CompanionError> {
    let profile = profile(global)?;
    let mut settings = profile.load_settings()?;
    let before = settings.clone();
    if let Some(u) = &global.oauth_url {
        settings.account.oauth_url = Some(u.clone());
    }
    if let Some(u) = &global.api_url {
        settings.account.api_url = Some(u.clone());
    }
    if let Some(u) = &global.relay_url {
        settings.account.relay_url = Some(u.clone());
    }
    if settings != before {
        profile.save_settings(&settings)?;
    }
    Companion::open(profile, Arc::new(OsKeyring))
}
