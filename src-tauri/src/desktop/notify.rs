//! Native notifications for incoming and missed calls, each switchable in the settings.
//!
//! A caller's name is text from outside: notification servers that understand markup would
//! read `<b>` or `<img …>` in it, so the body is escaped for them, and the name is isolated
//! (U+2068 … U+2069) so that a right-to-left override inside it cannot reorder the number. Before
//! that, every bidi control is taken out of the name and the number ([`without_bidi_controls`]):
//! a U+2069 inside a name would otherwise close our isolate early and let a U+202E after it
//! reverse the number.

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
/// while the app was away (see [`super::raise`]). A follow-up the operator asked for is always
/// notified when due.
pub fn on_event(companion: &Companion, event: &DomainEvent) {
    if let DomainEvent::FollowUpDue { follow_up } = event {
        send(follow_up_note(
            super::is_russian(companion.settings().language),
            follow_up,
        ));
        return;
    }
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

/// The notification of a follow-up that fell due: who to call back, and the note.
fn follow_up_note(russian: bool, follow_up: &call_log::FollowUp) -> Note {
    let mut text = body(
        follow_up.contact_name.clone(),
        follow_up.number.as_deref().map(readable),
    );
    let note = without_bidi_controls(&follow_up.note);
    let note = note.split_whitespace().collect::<Vec<_>>().join(" ");
    if !note.is_empty() {
        text.push_str(": \u{2068}");
        text.push_str(&note);
        text.push('\u{2069}');
    }
    Note {
        summary: if russian {
            "Перезвонить"
        } else {
            "Call back"
        },
        icon: "call-start",
        body: text,
    }
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

/// The body: the name (isolated) and the number as a person reads it, both without bidi
/// controls (a name of nothing else is no name).
fn body(name: Option<String>, number: Option<String>) -> String {
    let clean = |text: Option<String>| {
        text.map(|t| without_bidi_controls(&t))
            .filter(|t| !t.trim().is_empty())
    };
    match (clean(name), clean(number)) {
        (Some(name), Some(number)) => format!("\u{2068}{name}\u{2069} {number}"),
        (Some(name), None) => format!("\u{2068}{name}\u{2069}"),
        (None, Some(number)) => number,
        (None, None) => "—".to_owned(),
    }
}

/// `text` without the characters that steer bidirectional text: the embeddings and overrides
/// (U+202A–U+202E), the isolates (U+2066–U+2069) and the marks (U+200E, U+200F, U+061C). Text
/// from outside (the PBX, the phonebook, the relay) has no business steering how our own text
/// around it is ordered; its letters keep their own direction without them.
pub fn without_bidi_controls(text: &str) -> String {
    text.chars().filter(|c| !is_bidi_control(*c)).collect()
}

fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
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
    fn a_due_follow_up_names_who_to_call_back_and_the_note_on_one_line() {
        let follow_up = call_log::FollowUp {
            leg: "leg".into(),
            number: Some("79219462761".into()),
            key: Some("79219462761".into()),
            contact_name: Some("Иван".into()),
            due_at: chrono::Utc::now(),
            note: "send\nthe \u{202E}price".into(),
            tags: vec![],
            notified: false,
        };
        let note = follow_up_note(false, &follow_up);
        assert_eq!(note.summary, "Call back");
        assert_eq!(
            note.body,
            "\u{2068}Иван\u{2069} +7 921 946-27-61: \u{2068}send the price\u{2069}"
        );
    }

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

    /// Issue #14 item 7: a name holding U+2069 closed our isolate early, so the U+202E after it
    /// reversed the number that follows.
    #[test]
    fn a_name_cannot_close_its_isolate_or_reverse_the_number() {
        let text = body(
            Some("Evil\u{2069}\u{202E}\u{2066}Corp\u{200F}".to_owned()),
            Some("+7 921\u{202E} 946-27-61".to_owned()),
        );
        assert_eq!(text, "\u{2068}EvilCorp\u{2069} +7 921 946-27-61");
        let only_name = body(Some("\u{202B}\u{061C}Ann\u{202C}".to_owned()), None);
        assert_eq!(only_name, "\u{2068}Ann\u{2069}");
        // A name of nothing but controls is no name.
        assert_eq!(
            body(
                Some("\u{202E}\u{2069}".to_owned()),
                Some("+7 921 946-27-61".to_owned())
            ),
            "+7 921 946-27-61"
        );
    }
}
