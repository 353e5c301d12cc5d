//! Settings' About (issue #14 item 21): the app's version, what it does, and, plainly, what the
//! PBX's Open API has no methods for, so nobody hunts the app for them. In both languages.

use crate::app::{App, Look, Options};

/// The About section's text once it shows the version.
fn about_text(app: &App) -> String {
    app.show_screen("settings");
    let text = app.wait_js(
        "Settings' About with the app's version",
        "const a = document.getElementById('settings-about');
         return a && a.textContent.includes(arguments[0]) ? a.textContent : null",
        vec![serde_json::json!(env!("CARGO_PKG_VERSION"))],
    );
    text.as_str().unwrap_or_default().to_owned()
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn about_names_the_version_and_what_the_open_api_cannot_do() {
    let app = App::start("about");
    let text = about_text(&app);
    for phrase in [
        "Listening in",
        "whispering",
        "Attended transfer",
        "Voicemail",
        "Do-not-disturb on the PBX",
        "no methods",
    ] {
        assert!(text.contains(phrase), "About says {phrase:?}: {text}");
    }
    app.js(
        "document.getElementById('settings-about').scrollIntoView()",
        vec![],
    );
    app.shot("settings-about");
    drop(app);

    let app = App::start_with(
        "about",
        Options {
            look: Look {
                lang: "ru",
                theme: "dark",
            },
            ..Options::default()
        },
    );
    let text = about_text(&app);
    for phrase in [
        "Прослушивание",
        "суфлирование",
        "автоответчик",
        "Не беспокоить",
    ] {
        assert!(text.contains(phrase), "About says {phrase:?}: {text}");
    }
    app.js(
        "document.getElementById('settings-about').scrollIntoView()",
        vec![],
    );
    app.shot("settings-about");
}
