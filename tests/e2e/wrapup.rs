//! Issue #17: after a call of mine ends the wrap-up appears in the main window; a note and a
//! tag are saved with the keyboard alone (type, Tab, type, Enter); History shows them and finds
//! the call by its note; the export carries them; and the next call from that number shows them
//! in its popup. One call at a time on my workplace.

use serde_json::json;

use crate::app::{App, Look, Options, digits};
use crate::sim::is_ringing;

const CALLER: &str = "79165557788";
const CALLER_NAME: &str = "Кузнецова Ольга";
const NOTE: &str = "Wants a quote for 20 seats";
const TAG: &str = "e2e-sale";

/// WebDriver's keys: Tab and Enter.
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// An answered call from the caller that the caller ends.
fn answered_call(app: &App, me: &str) {
    let call = app
        .sim()
        .incoming(CALLER, Some(CALLER_NAME), json!({"manual": true}));
    app.sim()
        .wait_call("the call to ring me", call.key, |c| is_ringing(c, me));
    app.sim().answer(&call.leg_id, me);
    app.sim()
        .wait_call("the call connected", call.key, |c| c["phase"] == "talking");
    app.sim().hangup(&call.leg_id, "caller");
    app.sim()
        .wait_call("the call ended", call.key, |c| c["phase"] == "ended");
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn a_wrapup_saved_with_the_keyboard_shows_in_history_the_export_and_the_next_popup() {
    let app = App::start("wrapup");
    let me = app.workplace();
    answered_call(&app, &me);
    app.wait_popup_gone("the popup to close when the call ends");

    // The wrap-up appears in the main window for the call, and the note has the keyboard.
    app.to_main();
    let who = app.wait_js(
        "the wrap-up for the call",
        "const w = document.getElementById('wrapup');
         return w && !w.hidden ? document.getElementById('wrapup-who').textContent : null",
        vec![],
    );
    assert!(
        digits(who.as_str().unwrap_or_default()).contains(&CALLER[1..]),
        "{who}"
    );
    assert_eq!(
        app.js(
            "return document.activeElement && document.activeElement.id",
            vec![]
        ),
        json!("wrapup-note"),
        "the note has the focus"
    );
    app.shot("wrapup");

    // Type the note, Tab to the tags, type a tag, Enter saves.
    app.type_into("#wrapup-note", &format!("{NOTE}{TAB}"));
    assert_eq!(
        app.js(
            "return document.activeElement && document.activeElement.id",
            vec![]
        ),
        json!("wrapup-tags"),
        "Tab goes from the note to the tags"
    );
    app.type_into("#wrapup-tags", &format!("{TAG}{ENTER}"));
    app.wait_js(
        "the wrap-up to close, saved",
        "return document.getElementById('wrapup').hidden ? true : null",
        vec![],
    );

    // History shows the note and the tag on the call's row.
    app.show_screen("history");
    let line = app.wait_js(
        "the call's note and tag in History",
        "const l = document.querySelector('table.history tbody tr .wrapup-line');
         return l && l.textContent.includes(arguments[0]) ? l.textContent : null",
        vec![json!(NOTE)],
    );
    assert!(line.as_str().unwrap_or_default().contains(TAG), "{line}");
    app.shot("history-wrapup");

    // The search finds the call by a word of its note.
    app.type_into("#history-search", "quote for");
    app.wait_js(
        "the search by the note",
        "const rows = [...document.querySelectorAll('table.history tbody tr[data-leg]:not(.player-row)')];
         return rows.length === 1 && rows[0].textContent.includes(arguments[0]) ? true : null",
        vec![json!(NOTE)],
    );

    // The export carries the note and the tag.
    app.click("#history-export");
    let said = app.wait_js(
        "where the export went",
        "const s = document.getElementById('history-status');
         return s && s.textContent.includes('.csv') ? s.textContent : null",
        vec![],
    );
    let said = said.as_str().unwrap_or_default().to_owned();
    let path = said
        .split_once(" saved to ")
        .map(|(_, p)| std::path::PathBuf::from(p.trim()))
        .unwrap_or_else(|| panic!("no path in {said:?}"));
    let csv = std::fs::read_to_string(&path).unwrap();
    let header = csv.lines().next().unwrap_or_default();
    assert!(header.contains(",note,tags,"), "{header}");
    let row = csv
        .lines()
        .find(|l| l.contains(NOTE))
        .unwrap_or_else(|| panic!("the note in the export: {csv}"));
    assert!(row.contains(TAG), "{row}");

    // The next call from the number shows the last note and tag in its popup.
    let next = app
        .sim()
        .incoming(CALLER, Some(CALLER_NAME), json!({"manual": true}));
    app.wait_popup_with(CALLER);
    let last = app.wait_js(
        "the last note in the popup",
        "const n = document.getElementById('popup-last-note');
         return n && !n.hidden && n.textContent.includes(arguments[0]) ? n.textContent : null",
        vec![json!(NOTE)],
    );
    assert!(last.as_str().unwrap_or_default().contains(TAG), "{last}");
    app.shot("popup-last-note");
    app.to_main();
    app.sim().hangup(&next.leg_id, "caller");
    app.sim()
        .wait_call("the second call ended", next.key, |c| c["phase"] == "ended");
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn the_wrapup_reads_in_russian_and_in_the_dark() {
    let app = App::start_with(
        "wrapup-ru",
        Options {
            look: Look {
                lang: "ru",
                theme: "dark",
            },
            ..Options::default()
        },
    );
    let me = app.workplace();
    answered_call(&app, &me);
    app.wait_popup_gone("the popup to close when the call ends");
    app.to_main();
    let title = app.wait_js(
        "the wrap-up for the call",
        "const w = document.getElementById('wrapup');
         return w && !w.hidden ? document.getElementById('wrapup-title').textContent : null",
        vec![],
    );
    assert_eq!(title, json!("Итоги звонка"));
    app.js(
        "const s = document.getElementById('wrapup-follow-up'); s.value = 'custom';
         s.dispatchEvent(new Event('change'));",
        vec![],
    );
    app.shot("wrapup");
    // Esc skips it: nothing is saved.
    app.type_into("#wrapup-note", "\u{E00C}");
    app.wait_js(
        "the wrap-up to close",
        "return document.getElementById('wrapup').hidden ? true : null",
        vec![],
    );
    // Settings: when it is offered (answered calls by default) and the tags to choose from.
    app.show_screen("settings");
    let offer = app.wait_js(
        "the wrap-up settings",
        "const s = document.getElementById('pref-wrapup-offer');
         return s && s.value ? s.value : null",
        vec![],
    );
    assert_eq!(offer, json!("answered"));
    app.js(
        "document.getElementById('pref-wrapup-tags').scrollIntoView()",
        vec![],
    );
    app.type_into("#pref-wrapup-tags", "продажа, поддержка");
    app.click("#settings-save");
    app.wait_js(
        "the tags saved",
        "const s = document.getElementById('settings-status');
         return s && s.textContent && !s.classList.contains('error') ? s.textContent : null",
        vec![],
    );
    app.shot("settings-wrapup");
}
