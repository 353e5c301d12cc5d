//! Native notifications as the D-Bus stand-in recorded them. `python3 -m dbusmock -t
//! notification_daemon -l <log>` writes one record per method call, such as
//! `1732673412.123 Notify "Trubka" 0 "" "Incoming call" "Иван …" [] {…} -1`; strings are written
//! as they came, unescaped, so a body with a line break continues on the next line.

use crate::app::{run_env, wait_for};

/// Where the log ends now: a test reads only what came after.
pub fn mark() -> usize {
    std::fs::read_to_string(&run_env().notify_log)
        .map(|s| s.len())
        .unwrap_or(0)
}

/// Every `Notify` call of the app "Trubka" recorded after `since`.
pub fn since(since: usize) -> Vec<String> {
    let log = std::fs::read_to_string(&run_env().notify_log).unwrap_or_default();
    let tail = log.get(since..).unwrap_or_default();
    let mut records: Vec<String> = Vec::new();
    for line in tail.lines() {
        if starts_record(line) {
            records.push(line.to_owned());
        } else if let Some(last) = records.last_mut() {
            last.push('\n');
            last.push_str(line);
        }
    }
    records
        .into_iter()
        .filter(|r| r.contains(" Notify \"Trubka\" "))
        .collect()
}

/// Waits for a notification whose summary is one of `summaries` and whose text (markup decoded)
/// contains every one of `texts`.
pub fn wait(what: &str, since_mark: usize, summaries: &[&str], texts: &[&str]) -> String {
    wait_for(what, || {
        let all = since(since_mark);
        all.iter()
            .find(|r| {
                summaries.iter().any(|s| r.contains(&format!("\"{s}\"")))
                    && texts.iter().all(|t| decode_markup(r).contains(t))
            })
            .cloned()
            .ok_or_else(|| format!("notifications so far: {all:#?}"))
    })
}

/// A record starts with the time as seconds and a fraction, then the method's name.
fn starts_record(line: &str) -> bool {
    let Some((time, rest)) = line.split_once(' ') else {
        return false;
    };
    let time_ok = time.split_once('.').is_some_and(|(s, f)| {
        !s.is_empty()
            && s.bytes().all(|b| b.is_ascii_digit())
            && f.bytes().all(|b| b.is_ascii_digit())
    });
    time_ok && rest.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// The text a notification server shows for a body written in its markup (the stand-in, like
/// GNOME and KDE, announces `body-markup`), so `&lt;b&gt;` reads as `<b>`.
pub fn decode_markup(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_start_with_a_time_and_a_method() {
        assert!(starts_record("1732673412.123 Notify \"Trubka\" 0"));
        assert!(!starts_record("+7 921 946-27-61\" [] {} -1"));
        assert!(!starts_record("12 is not a time"));
    }

    #[test]
    fn markup_decodes_to_the_literal_text() {
        assert_eq!(
            decode_markup("&lt;img src=x onerror=&quot;a&apos;&quot;&gt; &amp;lt;"),
            "<img src=x onerror=\"a'\"> &lt;"
        );
    }
}
