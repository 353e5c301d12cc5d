//! Native notifications for incoming and missed calls, each switchable in the settings.
//!
//! A caller's name is text from outside: notification servers that understand markup would
//! read `<b>` or `<img …>` in it, so the body is escaped for them, and the name is isolated
//! (U+2068 … U+2069) so that a right-to-left override inside it cannot reorder the number.

use companion::{Companion, DomainEvent};

use crate::ipc::{PopupView, readable};

/// The application name the notification server shows and groups by.
pub const APP_NAME: &str = "Trubka";

/// Notifies about a call that just popped up (do-not-disturb, which turns popups off, silences
/// these too), when incoming-call notifications are on.
pub fn incoming(companion: &Companion, view: &PopupView) {
    let settings = companion.settings();
    if !settings.notifications.incoming {
        return;
    }
    let russian = super::is_russian(settings.language);
    send(Note {
        summary: if russian {
            "Входящий звонок"
        } else {
            "Incoming call"
        },
        icon: "call-start",
        body: body(view.name.clone(), view.number.clone()),
    });
}

/// Notifies about my missed calls, when missed-call notifications are on; not about one missed
/// while the app was away (see [`super::raise`]).
pub fn on_event(companion: &Companion, event: &DomainEvent) {
    let Some(call) = super::raise::raised(event).missed else {
        return;
    };
    let settings = companion.settings();
    if !settings.notifications.missed || !call.mine {
        return;
    }
    let russian = super::is_russian(settings.language);
    let name = call.remote_name.clone().filter(|n| !n.trim().is_empty());
    send(Note {
        summary: if russian {
            "Пропущенный звонок"
        } else {
            "Missed call"
        },
        icon: "call-missed",
        body: body(name, call.remote_number.as_deref().map(readable)),
    });
}

fn send(note: Note) {
    // The D-Bus round trip blocks; it must not hold up the events behind it.
    tauri::async_runtime::spawn_blocking(move || note.send());
}

/// One notification to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The title.
    pub summary: &'static str,
    /// The icon's freedesktop name.
    pub icon: &'static str,
    /// The caller, as plain text.
    pub body: String,
}

impl Note {
    fn send(self) {
        let markup = notify_rust::get_capabilities()
            .map(|caps| caps.iter().any(|c| c == "body-markup"))
            .unwrap_or(false);
        let body = if markup {
            escape_markup(&self.body)
        } else {
            self.body
        };
        if let Err(e) = notify_rust::Notification::new()
            .appname(APP_NAME)
            .summary(self.summary)
            .body(&body)
            .icon(self.icon)
            .show()
        {
            tracing::warn!(error = %e, "the notification was not shown");
        }
    }
}

/// The body: the name (isolated) and the number as a person reads it.
fn body(name: Option<String>, number: Option<String>) -> String {
    match (name, number) {
        (Some(name), Some(number)) => format!("\u{2068}{name}\u{2069} {number}"),
        (Some(name), None) => format!("\u{2068}{name}\u{2069}"),
        (None, Some(number)) => number,
        (None, None) => "—".to_owned(),
    }
}

/// Escapes the characters the notification markup gives meaning to.
fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_name_is_escaped_and_the_name_cannot_reorder_the_number() {
        let text = format!(
            "\u{2068}{}\u{2069} +7 921 946-27-61",
            "<img src=x onerror=\"document.title='owned'\">"
        );
        let escaped = escape_markup(&text);
        assert!(
            !escaped.contains('<') && !escaped.contains('>'),
            "{escaped}"
        );
        assert!(
            escaped
                .contains("&lt;img src=x onerror=&quot;document.title=&apos;owned&apos;&quot;&gt;")
        );
        assert!(escaped.starts_with('\u{2068}'));
    }
}
