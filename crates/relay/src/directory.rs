//! The team's directory, cached at the relay: read from the PBX on first use and again after a
//! `vpbxNotifications` event said it changed ([`DirectoryCache::invalidate`]).

use std::sync::{Mutex, MutexGuard};

use chrono::Utc;
use team_api::{Directory, DirectoryNumber, DirectoryTerminal, DirectoryWorkplace};

use crate::calls::CallView;
use crate::integration::Integration;

/// The cached directory.
#[derive(Debug, Default)]
pub struct DirectoryCache {
    cached: Mutex<Option<Directory>>,
    /// One read of the PBX at a time: concurrent askers wait for it instead of each reading.
    reading: tokio::sync::Mutex<()>,
}

impl DirectoryCache {
    fn lock(&self) -> MutexGuard<'_, Option<Directory>> {
        self.cached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forgets the cached copy: the next ask reads the PBX.
    pub fn invalidate(&self) {
        *self.lock() = None;
    }

    /// The directory: the cached copy, or a fresh read (which also tells `calls` the team's
    /// workplaces, terminals and numbers).
    pub async fn get(
        &self,
        integration: &Integration,
        calls: &CallView,
    ) -> Result<Directory, mtt_api::Error> {
        if let Some(directory) = self.lock().clone() {
            return Ok(directory);
        }
        let _reading = self.reading.lock().await;
        if let Some(directory) = self.lock().clone() {
            return Ok(directory);
        }
        let pbx = integration
            .pbx()
            .await
            .map_err(|err| mtt_api::Error::SignInRequired(err.to_string()))?;
        let numbers = pbx.external_numbers().await?;
        let workplaces = pbx.workplaces().await?;
        let terminals = pbx.terminals().await?;
        let directory = Directory {
            numbers: numbers
                .into_iter()
                .map(|n| DirectoryNumber {
                    number: n.number,
                    kind: n.kind,
                })
                .collect(),
            workplaces: workplaces
                .into_iter()
                .map(|w| DirectoryWorkplace {
                    workplace: w.workplace,
                    name: w.name,
                })
                .collect(),
            terminals: terminals
                .into_iter()
                .map(|t| DirectoryTerminal {
                    terminal: t.terminal,
                    workplace: t.workplace,
                })
                .collect(),
            fetched_at: Utc::now(),
        };
        let terminals: Vec<(String, String)> = directory
            .terminals
            .iter()
            .map(|t| (t.terminal.clone(), t.workplace.clone()))
            .collect();
        calls.set_directory(&directory.workplaces, &terminals, &directory.numbers);
        *self.lock() = Some(directory.clone());
        Ok(directory)
    }
}
