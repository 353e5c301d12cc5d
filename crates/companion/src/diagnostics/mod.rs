//! Diagnostics for support: the app's log files and, in one zip, the logs, the settings and a
//! short summary (version, system, relay, sign-in state), never a secret.
//!
//! What could hold a secret, and what is done about it:
//! - the settings file holds none, but its Redirect URI's path is the relay's secret hook, and a
//!   CRM address may carry a key in its query: both are replaced by `[redacted]`;
//! - the profile's other files (the call log, the demo's address book with its hook address, the
//!   last clean-up's record) are not taken at all;
//! - the logs print secrets as `[redacted]`; still, every secret the core knows (client secret,
//!   tokens, relay key, hook path) is blanked out of the logs' text as they are copied;
//! - the summary says whether the operator is signed in and until when, never with what.
//!
//! Building the zip is blocking file work: the core calls it on the blocking pool.

mod log_files;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use zip::write::SimpleFileOptions;

pub use self::log_files::{
    CappedLine, CappedLog, DAILY_LOG_CAP, LOG_FILE_PREFIX, LOG_FILE_SUFFIX, MAX_LOG_FILES,
    app_log_dir, is_log_file, log_subscriber, log_subscriber_beside,
};
use crate::error::CompanionError;
use crate::settings::Settings;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// The most of one log file that goes into the zip (its end, where the trouble usually is).
const MAX_LOG_BYTES: u64 = 4 * DAILY_LOG_CAP;

/// The shortest text taken for a secret when blanking it out of the logs: shorter ones would
/// blank out ordinary words.
const MIN_SECRET_LEN: usize = 8;

/// The facts the summary states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The app's version.
    pub app_version: String,
    /// `demo` or `account`.
    pub mode: String,
    /// The profile's name.
    pub profile: String,
    /// The operating system ([`system_description`]).
    pub system: String,
    /// The relay's address, if one is set.
    pub relay_url: Option<String>,
    /// Whether there are tokens (`None`: no account is set up).
    pub signed_in: Option<bool>,
    /// When the access token expires.
    pub access_expires_at: Option<DateTime<Utc>>,
    /// When the sign-in lapses.
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// The relay link's state and why, if live events run.
    pub link: Option<String>,
    /// The call log's last clean-up, in words.
    pub last_prune: Option<String>,
    /// When the zip was made.
    pub made_at: DateTime<Utc>,
}

impl Summary {
    /// The summary as text for people.
    pub fn text(&self) -> String {
        let time = |t: Option<DateTime<Utc>>| {
            t.map_or("—".to_owned(), |t| {
                t.to_rfc3339_opts(SecondsFormat::Secs, true)
            })
        };
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".to_owned());
        let signed_in = match self.signed_in {
            None => "no account set up",
            Some(true) => "signed in",
            Some(false) => "signed out",
        };
        [
            "Trubka diagnostics".to_owned(),
            format!("made at: {}", time(Some(self.made_at))),
            format!("app version: {}", self.app_version),
            format!("system: {}", self.system),
            format!("mode: {}", self.mode),
            format!("profile: {}", self.profile),
            format!("relay: {}", or_dash(&self.relay_url)),
            format!("relay link: {}", or_dash(&self.link)),
            format!("sign-in: {signed_in}"),
            format!("access token expires: {}", time(self.access_expires_at)),
            format!("sign-in lapses: {}", time(self.refresh_expires_at)),
            format!("call log clean-up: {}", or_dash(&self.last_prune)),
            String::new(),
        ]
        .join("\n")
    }
}

/// The operating system as support wants it: its kind and processor, and on Linux the
/// distribution's name (`linux x86_64, Debian GNU/Linux 13 (trixie)`).
pub fn system_description() -> String {
    let base = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    let release = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .filter(|_| cfg!(target_os = "linux"));
    match release {
        Some(name) => format!("{base}, {name}"),
        None => base,
    }
}

/// What goes into a diagnostics zip.
#[derive(Debug, Clone)]
pub struct DiagnosticsInput {
    /// The summary.
    pub summary: Summary,
    /// The profile's settings.
    pub settings: Settings,
    /// The app's log folder (none: the app logs only to stderr).
    pub log_dir: Option<PathBuf>,
    /// Every secret the core knows, to blank out of the logs.
    pub secrets: Vec<String>,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticsZip {
    /// The zip.
    pub path: PathBuf,
    /// The names inside it.
    pub entries: Vec<String>,
}

/// The settings as text with the secret parts of addresses replaced by [`REDACTED`].
pub fn redacted_settings(settings: &Settings) -> Result<String, CompanionError> {
    let mut settings = settings.clone();
    if let Some(uri) = settings.account.redirect_uri.as_mut() {
        *uri = without_path(uri);
    }
    if let Some(template) = settings.crm_url_template.as_mut() {
        *template = without_query_values(template);
    }
    for address in [
        &mut settings.account.relay_url,
        &mut settings.account.oauth_url,
        &mut settings.account.api_url,
    ]
    .into_iter()
    .flatten()
    {
        *address = without_password(address);
    }
    toml::to_string_pretty(&settings).map_err(|e| CompanionError::File {
        path: PathBuf::from("settings.toml"),
        detail: e.to_string(),
    })
}

/// `https://relay.example.com/hook/secret` → `https://relay.example.com/[redacted]`: the path of
/// a Redirect URI at the relay is the secret hook.
fn without_path(address: &str) -> String {
    match url::Url::parse(address) {
        Ok(url) if url.path() != "/" || url.query().is_some() => {
            let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{}://{}{port}/{REDACTED}",
                url.scheme(),
                url.host_str().unwrap_or_default()
            )
        }
        Ok(url) => url.to_string(),
        Err(_) => REDACTED.to_owned(),
    }
}

/// An address without the user and password it may carry (`https://user:pw@host/`), which
/// would be a secret; anything that does not read as an address is kept as is.
pub fn without_password(address: &str) -> String {
    match url::Url::parse(address) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => address.to_owned(),
    }
}

/// A CRM address with every query value other than `{number}` replaced (a key may be there).
fn without_query_values(template: &str) -> String {
    let Some((base, query)) = template.split_once('?') else {
        return template.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if value.contains("{number}") => format!("{name}={value}"),
            Some((name, _)) => format!("{name}={REDACTED}"),
            None => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", pairs.join("&"))
}

/// `text` with every known secret replaced by [`REDACTED`].
pub fn scrub(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .fold(text.to_owned(), |text, secret| {
            text.replace(secret.as_str(), REDACTED)
        })
}

/// The log files in `dir`, oldest first.
fn log_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| e.file_name().to_str().is_some_and(is_log_file))
        .map(|e| e.path())
        .collect();
    // The names carry the date, so their order is time's.
    files.sort();
    files
}

/// The end of a log file, at most [`MAX_LOG_BYTES`], as text.
fn read_log_tail(path: &Path) -> std::io::Result<String> {
    use std::io::Seek;
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > MAX_LOG_BYTES {
        file.seek(std::io::SeekFrom::Start(size - MAX_LOG_BYTES))?;
    }
    let mut bytes = Vec::new();
    file.take(MAX_LOG_BYTES).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Writes the zip at `target`, which must not exist yet (an existing file is never replaced,
/// even one that appeared since the name was chosen). A half-written zip is removed.
pub fn write_zip(
    target: &Path,
    input: &DiagnosticsInput,
) -> Result<DiagnosticsZip, CompanionError> {
    let failed = |detail: String| CompanionError::File {
        path: target.to_path_buf(),
        detail,
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target)
        .map_err(|e| failed(e.to_string()))?;
    let written = fill_zip(file, input).map_err(|e| failed(e.to_string()));
    if written.is_err() {
        let _ = std::fs::remove_file(target);
    }
    Ok(DiagnosticsZip {
        path: target.to_path_buf(),
        entries: written?,
    })
}

fn fill_zip(file: std::fs::File, input: &DiagnosticsInput) -> Result<Vec<String>, String> {
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut zip = zip::ZipWriter::new(file);
    let mut entries = Vec::new();
    let mut add = |zip: &mut zip::ZipWriter<std::fs::File>, name: String, text: &str| {
        zip.start_file(name.as_str(), options)
            .map_err(|e| e.to_string())?;
        zip.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
        entries.push(name);
        Ok::<(), String>(())
    };
    add(&mut zip, "summary.txt".into(), &input.summary.text())?;
    let settings = redacted_settings(&input.settings).map_err(|e| e.to_string())?;
    add(&mut zip, "settings.toml".into(), &settings)?;
    for path in input.log_dir.as_deref().map(log_files).unwrap_or_default() {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        // A file rotated away meanwhile is simply not there.
        let Ok(text) = read_log_tail(&path) else {
            continue;
        };
        add(
            &mut zip,
            format!("logs/{name}"),
            &scrub(&text, &input.secrets),
        )?;
    }
    let file = zip.finish().map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())?;
    Ok(entries)
}

#[cfg(test)]
mod tests;
