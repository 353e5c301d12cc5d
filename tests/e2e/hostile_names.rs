//! Scenario 5: caller names come from outside. One that is HTML and one with a right-to-left
//! override must read as the literal text in the popup, the history and the notifications, and
//! nothing in them may run (the document's title stays the app's).

use serde_json::json;

use crate::app::App;
use crate::notifications;
use crate::sim::is_ringing;

const HTML_NAME: &str = "<img src=x onerror=\"document.title='owned'\">";
/// U+202E turns the rest of the line around when shown raw: "Иван gnp.exe" would read "Иван exe.png".
const BIDI_NAME: &str = "Иван \u{202E}gnp.exe";

/// A name as the popup and the notifications show it: without its bidi controls (issue #14
/// item 7), which is all that differs from the literal text here.
fn without_bidi_controls(name: &str) -> String {
    name.replace('\u{202E}', "")
}

fn titles(app: &App) -> Vec<String> {
    let mut titles = Vec::new();
    for handle in app.wd.window_handles().unwrap() {
        app.wd.switch_to(&handle).unwrap();
        titles.push(
            app.js("return document.title", vec![])
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    app.to_main();
    titles
}

fn images(app: &App) -> u64 {
    app.js("return document.querySelectorAll('img').length", vec![])
        .as_u64()
        .unwrap_or(0)
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn html_and_bidi_names_stay_literal_text_everywhere() {
    let app = App::start("hostile_names");
    let me = app.workplace();
    let title = app.js("return document.title", vec![]);
    let images_before = images(&app);

    for (from, name) in [("79035550101", HTML_NAME), ("79035550102", BIDI_NAME)] {
        let mark = notifications::mark();
        let call = app
            .sim()
            .incoming(from, Some(name), json!({"manual": true}));
        app.sim()
            .wait_call("the call to ring me", call.key, |c| is_ringing(c, &me));

        app.wait_popup_with(from);
        let plain = without_bidi_controls(name);
        assert_eq!(
            app.text("#popup-name").as_deref(),
            Some(plain.as_str()),
            "popup name"
        );
        assert_eq!(
            images(&app),
            0,
            "no element was made from the name in the popup"
        );
        app.shot(if name == HTML_NAME {
            "popup-html-name"
        } else {
            "popup-bidi-name"
        });
        app.to_main();

        let notification = notifications::wait(
            "the incoming call's notification",
            mark,
            &["Incoming call", "Входящий звонок"],
            &[plain.as_str()],
        );
        assert!(
            !notification.contains("<img"),
            "the stand-in announces body-markup, so a raw tag would be read as markup: {notification}"
        );

        app.sim().hangup(&call.leg_id, "caller");
        app.sim()
            .wait_call("the call to end", call.key, |c| c["phase"] == "ended");
        app.wait_popup_gone("the popup to close");

        app.show_screen("history");
        let shown = app.wait_js(
            "the history row",
            "const r = document.querySelector(`table.history tbody tr[data-leg=\"${arguments[0]}\"] .name`);
             return r ? r.textContent : null",
            vec![json!(call.leg_id)],
        );
        assert_eq!(shown.as_str(), Some(name), "history name");
        app.show_screen("calls");
    }
    app.show_screen("history");
    app.shot("history-hostile-names");
    assert_eq!(
        images(&app),
        images_before,
        "no element was made from a name in the main window"
    );
    // An onerror that ran would have changed a title; give it a moment to have done so.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let after = titles(&app);
    assert!(
        after.iter().all(|t| t != "owned"),
        "a name ran as script: titles {after:?}"
    );
    assert_eq!(app.js("return document.title", vec![]), title);
}
