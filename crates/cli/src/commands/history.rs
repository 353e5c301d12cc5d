//! The call history and the callback queue.

use companion::CompanionError;

use crate::args::Global;
use crate::output::{self, say};
use crate::profile::open;

/// How far back the callback queue looks.
const CALLBACK_DAYS: i64 = 7;
/// The most numbers the callback queue lists.
const CALLBACK_LIMIT: usize = 100;

/// `trubka history`.
pub async fn history(
    g: &Global,
    missed: bool,
    search: Option<String>,
    limit: usize,
) -> Result<(), CompanionError> {
    let c = open(g)?;
    let filter = call_log::HistoryFilter {
        missed_only: missed,
        search,
        ..call_log::HistoryFilter::default()
    };
    let page = c.log().history(filter, None, limit).await?;
    let value: Vec<_> = page.calls.iter().map(output::CallRow::from).collect();
    say(g.json, &value, || {
        value
            .iter()
            .map(|r| {
                format!(
                    "{}\t{}\t{}\t{}",
                    r.started_at.format("%Y-%m-%d %H:%M"),
                    r.direction.as_deref().unwrap_or_default().to_lowercase(),
                    r.peer_number.as_deref().unwrap_or("?"),
                    if r.missed { "missed" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

/// `trubka callbacks`: missed calls of the last week not yet called back.
pub async fn callbacks(g: &Global) -> Result<(), CompanionError> {
    let c = open(g)?;
    let since = chrono::Utc::now() - chrono::Duration::days(CALLBACK_DAYS);
    let entries = c.log().callbacks(since, CALLBACK_LIMIT).await?;
    let value: Vec<_> = entries.iter().map(output::Callback::from).collect();
    say(g.json, &value, || format!("{} to call back", value.len()));
    Ok(())
}
