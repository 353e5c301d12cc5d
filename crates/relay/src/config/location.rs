//! Which store a configuration file names: a `postgres://` address, or a SQLite file.

use std::path::Path;

use super::ConfigFile;
use crate::error::RelayError;
use crate::store::{DatabaseUrl, StoreLocation};

impl ConfigFile {
    /// The Postgres database this file names, if its `database` is a `postgres://` address.
    pub fn postgres(&self) -> Result<Option<DatabaseUrl>, RelayError> {
        self.database
            .as_deref()
            .and_then(Path::to_str)
            .and_then(DatabaseUrl::recognise)
            .transpose()
    }

    /// Where the relay's state lives: the Postgres database, else the SQLite file.
    pub fn store_location(&self, base_dir: &Path) -> Result<StoreLocation, RelayError> {
        Ok(match self.postgres()? {
            Some(url) => StoreLocation::Postgres(url),
            None => StoreLocation::Sqlite(self.database_path(base_dir)),
        })
    }
}
