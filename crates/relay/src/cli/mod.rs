//! The command line's team commands: `team` (the integration), `seats`, `admin` (the admin
//! console's accounts), `audit`, `contacts`
//! (the team phonebook), `routing` and `tags` (the wrap-ups' tags).

pub mod admin;
pub mod audit;
pub mod contacts;
pub mod routing;
pub mod seats;
pub mod tags;
pub mod team;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use relay::RelayError;
use relay::config::ConfigFile;
use relay::store::NoSink;
use relay::store::RelayStore;
use relay::store::team::SharedTeamStore;

/// The configuration file's settings (with the database flag over them) and its folder.
pub(crate) fn settings(
    config_path: &Path,
    database: Option<PathBuf>,
) -> Result<(ConfigFile, PathBuf), RelayError> {
    let file = crate::load_optional(config_path)?.overridden_by(ConfigFile {
        database,
        ..ConfigFile::default()
    });
    Ok((file, crate::config_dir(config_path)))
}

/// The store the configuration names (the SQLite file, or the Postgres database), for a
/// command: it stores no events, so nothing listens to its commits.
pub(crate) async fn store_of(
    file: &ConfigFile,
    base: &Path,
) -> Result<Arc<dyn RelayStore>, RelayError> {
    file.store_location(base)?.open(Arc::new(NoSink)).await
}

/// The team part of that store.
pub(crate) async fn team_store(
    file: &ConfigFile,
    base: &Path,
) -> Result<SharedTeamStore, RelayError> {
    Ok(store_of(file, base).await?)
}
