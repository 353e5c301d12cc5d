//! The account's numbers, workplaces and terminals as the core keeps them, and my workplace.

use std::sync::{Arc, Mutex, RwLock};

use mtt_api::{Pbx, SipId};

use super::Companion;
use crate::directory::Directory;
use crate::error::CompanionError;
use crate::live::{LiveCalls, Me};
use crate::settings::Settings;

impl Companion {
    /// Re-reads the numbers, workplaces and terminals from the PBX.
    pub async fn refresh_directory(&self) -> Result<Directory, CompanionError> {
        let result = self.directory_reloader()?.reload().await;
        if let Err(CompanionError::Mtt(e)) = &result {
            self.notice(e);
        }
        result
    }

    /// What re-reading the directory needs, for a task that outlives this call.
    pub(super) fn directory_reloader(&self) -> Result<DirectoryReloader, CompanionError> {
        Ok(DirectoryReloader {
            pbx: self.account()?.pbx.clone(),
            settings: Arc::clone(&self.settings),
            directory: Arc::clone(&self.directory),
            me: Arc::clone(&self.me),
            live: Arc::clone(&self.live),
        })
    }

    /// Chooses my workplace (it must be one of the account's) and saves the choice.
    pub fn set_workplace(&self, workplace: &str) -> Result<(), CompanionError> {
        let id = SipId::parse(workplace)?;
        let directory = self.directory();
        if !directory.workplaces.is_empty()
            && !directory
                .workplaces
                .iter()
                .any(|w| w.workplace == id.as_str())
        {
            return Err(CompanionError::InvalidInput(format!(
                "{workplace} is not one of this account's workplaces"
            )));
        }
        let mut settings = self.settings();
        settings.workplace = Some(id.as_str().to_owned());
        self.profile.save_settings(&settings)?;
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        let me = directory.me(Some(id.as_str()));
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_me(&me);
        *self.me.write().unwrap_or_else(|p| p.into_inner()) = me;
        Ok(())
    }
}

/// What re-reading the directory needs, detached from the `Companion` so a task can own it.
#[derive(Debug, Clone)]
pub(super) struct DirectoryReloader {
    pbx: Pbx,
    settings: Arc<RwLock<Settings>>,
    directory: Arc<RwLock<Directory>>,
    me: Arc<RwLock<Me>>,
    live: Arc<Mutex<LiveCalls>>,
}

impl DirectoryReloader {
    pub(super) async fn reload(&self) -> Result<Directory, CompanionError> {
        let directory = Directory {
            numbers: self.pbx.external_numbers().await?,
            workplaces: self.pbx.workplaces().await?,
            terminals: self.pbx.terminals().await?,
        };
        let workplace = self
            .settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .workplace
            .clone();
        let me = directory.me(workplace.as_deref());
        *self.directory.write().unwrap_or_else(|p| p.into_inner()) = directory.clone();
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_me(&me);
        *self.me.write().unwrap_or_else(|p| p.into_inner()) = me;
        Ok(directory)
    }
}
