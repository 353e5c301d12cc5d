//! History: pages of past calls, filtered and searched; the callback queue; the current filter
//! exported as CSV; a call's recording saved; and today's figures.

use std::time::Duration;

use companion::ErrorCode;
use tauri::State;

use crate::core::AppCore;
use crate::downloads::Downloads;
use crate::ipc::{
    CallWay, Callback, HistoryPage, HistoryQuery, IpcError, RoutingDecisionRow, SavedFile, Today,
};

/// How many rows a history page holds.
pub(crate) const PAGE_SIZE: usize = 50;

/// One page of history, newest first.
#[tauri::command]
pub(crate) async fn history(
    core: State<'_, AppCore>,
    query: HistoryQuery,
) -> Result<HistoryPage, IpcError> {
    let companion = core.companion().await?;
    let page = companion
        .log()
        .history(query.filter()?, query.after.map(Into::into), PAGE_SIZE)
        .await?;
    let mut view = HistoryPage::from(&page);
    // Why a parked call went where it did: one indexed read per incoming row, and none at all
    // while this app has never decided a call.
    if companion.routing_journal(1).await?.decisions.is_empty() {
        return Ok(view);
    }
    for row in view
        .rows
        .iter_mut()
        .filter(|r| r.direction == CallWay::Incoming)
    {
        row.routing = companion
            .routing_reason(&row.leg)
            .await?
            .as_ref()
            .map(RoutingDecisionRow::from);
    }
    Ok(view)
}

/// Today's calls, answered, missed and talk time, and the calls of each hour.
#[tauri::command]
pub(crate) async fn today(core: State<'_, AppCore>) -> Result<Today, IpcError> {
    let companion = core.companion().await?;
    let now = chrono::Utc::now();
    let stats = companion.log().day_stats(now).await?;
    let hours = companion.log().hour_stats(now).await?;
    Ok(Today::new(stats, &hours, companion.log().day_zone(), now))
}

/// How far back the callback queue looks for missed calls.
pub(crate) const CALLBACK_DAYS: i64 = 7;
/// The most numbers the callback queue lists.
pub(crate) const CALLBACK_LIMIT: usize = 200;

/// The numbers to call back: missed in the last [`CALLBACK_DAYS`] days and not reached since by
/// an answered call (in either direction), latest miss first. A number leaves the queue by
/// itself once such a call is logged.
#[tauri::command]
pub(crate) async fn callbacks(core: State<'_, AppCore>) -> Result<Vec<Callback>, IpcError> {
    let companion = core.companion().await?;
    let since = chrono::Utc::now() - chrono::Duration::days(CALLBACK_DAYS);
    let queue = companion.log().callbacks(since, CALLBACK_LIMIT).await?;
    Ok(queue.iter().map(Callback::from).collect())
}

/// Writes every call the query selects (not only the page on screen) as CSV into the
/// Downloads folder.
#[tauri::command]
pub(crate) async fn export_history(
    core: State<'_, AppCore>,
    downloads: State<'_, Downloads>,
    query: HistoryQuery,
) -> Result<SavedFile, IpcError> {
    let filter = query.filter()?;
    let companion = core.companion().await?;
    let stem = format!(
        "trubka-calls-{}",
        chrono::Local::now().format("%Y-%m-%d-%H%M%S")
    );
    let path = downloads.fresh_path(&stem, "csv")?;
    let rows = companion.log().export_history_csv(&path, filter).await?;
    Ok(SavedFile {
        path: path.display().to_string(),
        rows: u32::try_from(rows).unwrap_or(u32::MAX),
    })
}

/// How long a recording's download may take.
const RECORDING_TIMEOUT: Duration = Duration::from_secs(120);

/// Saves a call's recording into the Downloads folder. The address is the one the PBX sent for
/// the leg (the window cannot name another), and only `https:` or a loopback `http:` one (the
/// demo's simulator) is fetched.
#[tauri::command]
pub(crate) async fn save_recording(
    core: State<'_, AppCore>,
    downloads: State<'_, Downloads>,
    leg: String,
) -> Result<SavedFile, IpcError> {
    let companion = core.companion().await?;
    let call = companion.log().call(&leg).await?;
    let Some(url) = call.and_then(|c| c.recording_url) else {
        return Err(IpcError::new(
            ErrorCode::NotFound,
            format!("the call {leg:?} has no recording"),
        ));
    };
    let url = recording_address(&url)?;
    let body = fetch(url).await?;
    let path = downloads.fresh_path(&format!("trubka-recording-{leg}"), "mp3")?;
    let target = path.clone();
    tauri::async_runtime::spawn_blocking(move || std::fs::write(&target, &body))
        .await
        .map_err(|e| IpcError::new(ErrorCode::SaveFailed, e.to_string()))?
        .map_err(|e| {
            IpcError::new(
                ErrorCode::SaveFailed,
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
    Ok(SavedFile {
        path: path.display().to_string(),
        rows: 0,
    })
}

/// A recording's address if it is one the app may fetch: `https:`, or `http:` on the loopback
/// interface.
pub(crate) fn recording_address(text: &str) -> Result<reqwest::Url, IpcError> {
    let url = reqwest::Url::parse(text).map_err(|e| {
        IpcError::new(
            ErrorCode::Invalid,
            format!("the recording address {text:?}: {e}"),
        )
    })?;
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(IpcError::new(
            ErrorCode::Invalid,
            format!("the recording address {text:?} is neither https: nor on this computer"),
        )),
    }
}

async fn fetch(url: reqwest::Url) -> Result<Vec<u8>, IpcError> {
    let failed = |e: reqwest::Error| {
        IpcError::new(
            ErrorCode::DownloadFailed,
            format!("the recording could not be downloaded: {e}"),
        )
    };
    let client = reqwest::Client::builder()
        .timeout(RECORDING_TIMEOUT)
        .build()
        .map_err(failed)?;
    let response = client
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(failed)?;
    Ok(response.bytes().await.map_err(failed)?.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_this_computer_is_fetched() {
        for fetched in [
            "https://records.mtt.ru/leg.mp3",
            "http://127.0.0.1:8080/records/leg.mp3",
            "http://localhost/leg.mp3",
            "http://[::1]:8080/leg.mp3",
        ] {
            assert!(recording_address(fetched).is_ok(), "{fetched}");
        }
        for refused in [
            "http://records.example/answered.mp3",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "not an address",
        ] {
            let err = recording_address(refused).unwrap_err();
            assert_eq!(err.code, ErrorCode::Invalid, "{refused}");
        }
    }
}
