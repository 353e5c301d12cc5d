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
    tag: Option<String>,
    limit: usize,
) -> Result<(), CompanionError> {
    let c = open(g)?;
    let filter = call_log::HistoryFilter {
        missed_only: missed,
        search,
        tag,
        ..call_log::HistoryFilter::default()
    };
    let page = c.log().history(filter, None, limit).await?;
    let value: Vec<_> = page.calls.iter().map(output::CallRow::from).collect();
    say(g.json, &value, || {
        value
            .iter()
            .map(|r| {
                format!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    r.started_at.format("%Y-%m-%d %H:%M"),
                    r.direction.as_deref().unwrap_or_default().to_lowercase(),
                    r.peer_number.as_deref().unwrap_or("?"),
                    if r.missed { "missed" } else { "" },
                    r.tags
                        .iter()
                        .map(|t| format!("#{t}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    // One line per call: a note's line breaks are shown as spaces.
                    r.note.split_whitespace().collect::<Vec<_>>().join(" ")
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

/// `trubka note <leg> <text>`: sets a call's wrap-up note.
pub async fn note(g: &Global, leg: &str, text: &str) -> Result<(), CompanionError> {
    let c = open(g)?;
    let edit = call_log::WrapUpEdit {
        note: Some(text.to_owned()),
        ..call_log::WrapUpEdit::default()
    };
    saved(g, &c.save_wrapup(leg, edit).await?);
    Ok(())
}

/// `trubka tag <leg> <tag>…`: sets a call's wrap-up tags.
pub async fn tag(g: &Global, leg: &str, tags: Vec<String>) -> Result<(), CompanionError> {
    let c = open(g)?;
    let edit = call_log::WrapUpEdit {
        tags: Some(tags),
        ..call_log::WrapUpEdit::default()
    };
    saved(g, &c.save_wrapup(leg, edit).await?);
    Ok(())
}

fn saved(g: &Global, wrapup: &call_log::WrapUp) {
    let value = output::WrapUp::from(wrapup);
    say(g.json, &value, || {
        let tags: Vec<_> = value.tags.iter().map(|t| format!("#{t}")).collect();
        format!("{}\t{}\t{}", value.leg, tags.join(" "), value.note)
    });
}
