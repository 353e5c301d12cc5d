//! The app's log files: rolled daily in the app's data folder, a few of them kept, each day's
//! writing capped, and everything also on stderr.
//!
//! tracing-appender rotates by time and caps the number of files, not their size, so the size is
//! capped here: at most [`DAILY_LOG_CAP`] bytes a day, after which one line says so and the rest of
//! the day goes to stderr only. [`MAX_LOG_FILES`] days are kept, so the logs never take more than
//! `MAX_LOG_FILES × DAILY_LOG_CAP` (5 MiB). Lines are written straight to the file (a small append),
//! not through a background thread, so that the last lines before a crash or an exit are there.
//! Secrets never reach a log: they are newtypes that print `[redacted]`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{NaiveDate, Utc};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

use crate::error::CompanionError;
use crate::settings::platform_dirs;

/// The log files' names: `trubka.<YYYY-MM-DD>.log`.
pub const LOG_FILE_PREFIX: &str = "trubka";
/// The log files' extension.
pub const LOG_FILE_SUFFIX: &str = "log";
/// How many daily files are kept.
pub const MAX_LOG_FILES: usize = 5;
/// How much one day's file may grow to.
pub const DAILY_LOG_CAP: u64 = 1024 * 1024;

/// The app's log folder: `logs` in its data folder (`~/.local/share/trubka/logs` on Linux).
pub fn app_log_dir() -> Result<PathBuf, CompanionError> {
    Ok(platform_dirs()?.1.join("logs"))
}

/// Whether `name` is one of the log files.
pub fn is_log_file(name: &str) -> bool {
    name.starts_with(&format!("{LOG_FILE_PREFIX}."))
        && name.ends_with(&format!(".{LOG_FILE_SUFFIX}"))
}

/// The subscriber the desktop app logs through: `filter`'s events to stderr and to the daily
/// files in `dir` (created if missing). Set it with `tracing::subscriber::set_global_default`.
pub fn log_subscriber(
    dir: &Path,
    filter: EnvFilter,
) -> Result<impl tracing::Subscriber + Send + Sync + use<>, CompanionError> {
    log_subscriber_beside(dir, filter, std::io::stderr)
}

/// [`log_subscriber`] with `console` instead of stderr (tests keep their output quiet).
pub fn log_subscriber_beside<C>(
    dir: &Path,
    filter: EnvFilter,
    console: C,
) -> Result<impl tracing::Subscriber + Send + Sync + use<C>, CompanionError>
where
    C: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let files = CappedLog::open(dir, DAILY_LOG_CAP)?;
    Ok(tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer().with_writer(console))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(files),
        ))
}

/// The daily files with the day's cap.
#[derive(Debug)]
pub struct CappedLog {
    files: RollingFileAppender,
    dir: PathBuf,
    cap: u64,
    today: Mutex<Budget>,
}

#[derive(Debug)]
struct Budget {
    day: NaiveDate,
    used: u64,
    noted: bool,
}

impl CappedLog {
    /// The daily files in `dir`, each day's writing capped at `cap` bytes (counting what an
    /// earlier start wrote today).
    pub fn open(dir: &Path, cap: u64) -> Result<Self, CompanionError> {
        let failed = |detail: String| CompanionError::File {
            path: dir.to_path_buf(),
            detail,
        };
        std::fs::create_dir_all(dir).map_err(|e| failed(e.to_string()))?;
        let files = RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix(LOG_FILE_PREFIX)
            .filename_suffix(LOG_FILE_SUFFIX)
            .max_log_files(MAX_LOG_FILES)
            .build(dir)
            .map_err(|e| failed(e.to_string()))?;
        let day = Utc::now().date_naive();
        let log = CappedLog {
            files,
            dir: dir.to_path_buf(),
            cap,
            today: Mutex::new(Budget {
                day,
                used: 0,
                noted: false,
            }),
        };
        let used = log.written_on(day);
        log.budget().used = used;
        Ok(log)
    }

    /// The day's file (tracing-appender names it by the UTC date).
    fn file_of(&self, day: NaiveDate) -> PathBuf {
        self.dir.join(format!(
            "{LOG_FILE_PREFIX}.{}.{LOG_FILE_SUFFIX}",
            day.format("%Y-%m-%d")
        ))
    }

    fn written_on(&self, day: NaiveDate) -> u64 {
        std::fs::metadata(self.file_of(day)).map_or(0, |m| m.len())
    }

    fn budget(&self) -> std::sync::MutexGuard<'_, Budget> {
        self.today.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write_line(&self, line: &[u8]) -> std::io::Result<()> {
        let mut budget = self.budget();
        let today = Utc::now().date_naive();
        if budget.day != today {
            *budget = Budget {
                day: today,
                used: self.written_on(today),
                noted: false,
            };
        }
        let size = u64::try_from(line.len()).unwrap_or(u64::MAX);
        if budget.used.saturating_add(size) > self.cap {
            if !budget.noted {
                budget.noted = true;
                self.files.make_writer().write_all(
                    b"-- today's log is full: later lines today go to stderr only --\n",
                )?;
            }
            return Ok(());
        }
        budget.used += size;
        // Held while writing, so that lines from several threads never interleave their bytes
        // and the count matches the file.
        self.files.make_writer().write_all(line)
    }
}

/// One event's writer: the formatter writes each event's line in one call.
#[derive(Debug)]
pub struct CappedLine<'a>(&'a CappedLog);

impl Write for CappedLine<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_line(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CappedLog {
    type Writer = CappedLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        CappedLine(self)
    }
}
