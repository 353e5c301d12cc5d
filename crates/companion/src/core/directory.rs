//! The account's numbers, workplaces and terminals as the core keeps them, and my workplace.

use std::sync::{Arc, Mutex, RwLock};

use mtt_api::{ExternalNumber, Pbx, SipId, Terminal, Workplace};

use super::Companion;
use crate::directory::Directory;
use crate::error::CompanionError;
use crate::live::{LiveCalls, Me};
use crate::settings::Settings;
use crate::team::TeamClient;

impl Companion {
    /// Re-reads the numbers, workplaces and terminals from the PBX (in team mode, from the
    /// team's server).
    pub async fn refresh_directory(&self) -> Result<Directory, CompanionError> {
        let result = self.directory_reloader().await?.reload().await;
        if let Err(CompanionError::Mtt(e)) = &result {
            self.notice(e);
        }
        self.team_checked(result).await
    }

    /// What re-reading the directory needs, for a task that outlives this call.
    pub(super) async fn directory_reloader(&self) -> Result<DirectoryReloader, CompanionError> {
        let source = match self.team_client().await? {
            Some(team) => DirectorySource::Team(team),
            None => DirectorySource::Pbx(self.account()?.pbx.clone()),
        };
        Ok(DirectoryReloader {
            source,
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

/// Where the directory is read: the PBX (personal mode) or the team's server, which keeps it.
#[derive(Debug, Clone)]
enum DirectorySource {
    Pbx(Pbx),
    Team(TeamClient),
}

/// The team server's directory in the core's shape.
fn from_team(team: team_api::Directory) -> Directory {
    Directory {
        numbers: team
            .numbers
            .into_iter()
            .map(|n| ExternalNumber {
                number: n.number,
                kind: n.kind,
            })
            .collect(),
        workplaces: team
            .workplaces
            .into_iter()
            .map(|w| Workplace {
                workplace: w.workplace,
                name: w.name,
            })
            .collect(),
        terminals: team
            .terminals
            .into_iter()
            .map(|t| Terminal {
                terminal: t.terminal,
                workplace: t.workplace,
            })
            .collect(),
    }
}

/// What re-reading the directory needs, detached from the `Companion` so a task can own it.
#[derive(Debug, Clone)]
pub(super) struct DirectoryReloader {
    source: DirectorySource,
    settings: Arc<RwLock<Settings>>,
    directory: Arc<RwLock<Directory>>,
    me: Arc<RwLock<Me>>,
    live: Arc<Mutex<LiveCalls>>,
}

impl DirectoryReloader {
    pub(super) async fn reload(&self) -> Result<Directory, CompanionError> {
        let directory = match &self.source {
            DirectorySource::Pbx(pbx) => Directory {
                numbers: pbx.external_numbers().await?,
                workplaces: pbx.workplaces().await?,
                terminals: pbx.terminals().await?,
            },
            DirectorySource::Team(team) => from_team(team.directory().await?),
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
