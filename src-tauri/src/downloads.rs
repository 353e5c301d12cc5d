//! Where the app saves what the operator asks to keep (a history or phonebook export, a call
//! recording): the user's Downloads folder, under a fresh name so nothing is overwritten. The
//! window never names a path itself; it only learns where the file went. A recording is fetched
//! and placed by the core (`companion::recording_download`), which picks its name in this folder
//! by the same rule and moves it in without ever replacing a file.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use companion::ErrorCode;

use crate::ipc::IpcError;

/// Tauri's managed state: the folder files are saved into.
#[derive(Debug, Default)]
pub struct Downloads {
    /// A folder chosen instead of the user's Downloads (tests).
    chosen: Mutex<Option<PathBuf>>,
}

impl Downloads {
    /// Saves into `dir` from now on instead of the user's Downloads folder.
    pub fn save_into(&self, dir: impl Into<PathBuf>) {
        *self.chosen.lock().unwrap_or_else(|p| p.into_inner()) = Some(dir.into());
    }

    /// The folder, created when missing: the chosen one, else the desktop's Downloads folder,
    /// else `~/Downloads`.
    pub fn dir(&self) -> Result<PathBuf, IpcError> {
        let chosen = self
            .chosen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let dir = match chosen {
            Some(dir) => dir,
            None => {
                let user = directories::UserDirs::new().ok_or_else(|| {
                    IpcError::new(
                        ErrorCode::SaveFailed,
                        "there is no home folder to save into",
                    )
                })?;
                user.download_dir()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| user.home_dir().join("Downloads"))
            }
        };
        std::fs::create_dir_all(&dir).map_err(|e| {
            IpcError::new(
                ErrorCode::SaveFailed,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
        Ok(dir)
    }

    /// A path in the folder for a new file named from `stem` and `extension` that does not
    /// exist yet (`stem.csv`, else `stem-2.csv`, …).
    pub fn fresh_path(&self, stem: &str, extension: &str) -> Result<PathBuf, IpcError> {
        let dir = self.dir()?;
        let stem = companion::recording_download::safe_stem(stem);
        (1..1000)
            .map(|n| {
                let name = if n == 1 {
                    format!("{stem}.{extension}")
                } else {
                    format!("{stem}-{n}.{extension}")
                };
                dir.join(name)
            })
            .find(|p| !p.exists())
            .ok_or_else(|| {
                IpcError::new(
                    ErrorCode::SaveFailed,
                    format!(
                        "{} already holds too many files named {stem}",
                        dir.display()
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_file_of_the_same_name_gets_a_fresh_one() {
        let dir = tempfile::tempdir().unwrap();
        let downloads = Downloads::default();
        downloads.save_into(dir.path().join("Downloads"));
        let first = downloads.fresh_path("calls", "csv").unwrap();
        assert_eq!(first.file_name().unwrap(), "calls.csv");
        std::fs::write(&first, "x").unwrap();
        let second = downloads.fresh_path("calls", "csv").unwrap();
        assert_eq!(second.file_name().unwrap(), "calls-2.csv");
    }
}
