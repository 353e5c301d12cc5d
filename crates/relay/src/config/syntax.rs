//! The configuration file's syntax errors, told without quoting the file.

/// Where a TOML error is and what it is, without the quoted line the parser's own message
/// carries: the file holds secrets (the hook, a database password) that must not reach a log.
pub(super) fn syntax_message(text: &str, err: &toml::de::Error) -> String {
    match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
            format!("line {line}, column {column}: {}", err.message())
        }
        None => err.message().to_owned(),
    }
}
