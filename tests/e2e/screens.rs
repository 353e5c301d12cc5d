//! Screenshots of every screen of the main window and of the popup, in Russian and English, light
//! and dark, with calls on them (a finished recorded call, a missed one, one ringing now). Each
//! app starts with the language and theme in its `settings.toml`; the test checks that the window
//! follows them, and keeps the pictures in the artefacts directory for a person to look at.

use serde_json::json;

use crate::app::{App, Look, Options};
use crate::sim::is_ringing;

const LOOKS: [Look; 4] = [
    Look {
        lang: "en",
        theme: "light",
    },
    Look {
        lang: "en",
        theme: "dark",
    },
    Look {
        lang: "ru",
        theme: "light",
    },
    Look {
        lang: "ru",
        theme: "dark",
    },
];

/// The tab names of the main window, as (`id` without `tab-`, label); a hidden tab (Team,
/// outside team mode) is no screen the operator can open.
fn tabs(app: &App) -> Vec<(String, String)> {
    let tabs = app.js(
        "return [...document.querySelectorAll('[role=tab][id^=tab-]')]
           .filter(t => !t.hidden)
           .map(t => [t.id.slice(4), t.textContent.trim()])",
        vec![],
    );
    serde_json::from_value(tabs).unwrap()
}

/// The relative luminance of the page's background, 0 (black) to 1 (white).
fn background_luminance(app: &App) -> f64 {
    let rgb = app.js(
        "const c = getComputedStyle(document.body).backgroundColor;
         const bg = c === 'rgba(0, 0, 0, 0)' ? getComputedStyle(document.documentElement).backgroundColor : c;
         return (bg.match(/[\\d.]+/g) || []).slice(0, 3).map(Number)",
        vec![],
    );
    let rgb: Vec<f64> = serde_json::from_value(rgb).unwrap_or_default();
    if rgb.len() < 3 {
        return f64::NAN;
    }
    (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255.0
}

fn check_look(app: &App, look: Look, window: &str) {
    let luminance = background_luminance(app);
    match look.theme {
        "dark" => assert!(luminance < 0.3, "{window} is dark (luminance {luminance})"),
        _ => assert!(luminance > 0.7, "{window} is light (luminance {luminance})"),
    }
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn every_screen_and_the_popup_in_both_languages_and_themes() {
    // Every look is photographed even when an earlier one fails, so the artefacts always show
    // all four; the failures are reported together at the end.
    let mut failures = Vec::new();
    for look in LOOKS {
        let outcome = std::panic::catch_unwind(|| photograph(look));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{}-{}: {message}", look.lang, look.theme));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn photograph(look: Look) {
    let app = App::start_with(
        "screens",
        Options {
            look,
            welcomed: false,
            ..Options::default()
        },
    );
    // The first run offers the demo or an account; the demo is chosen.
    app.wait_js(
        "the first-run welcome",
        "const w = document.getElementById('welcome'); return w && w.open ? true : null",
        vec![],
    );
    app.shot("welcome");
    app.click("#welcome-demo");
    app.wait_js(
        "the welcome to close",
        "const w = document.getElementById('welcome'); return w && !w.open ? true : null",
        vec![],
    );
    let me = app.workplace();

    // A finished, recorded call and a missed one for the history, then one ringing now.
    let done = app.sim().post(
        "/outgoing",
        json!({"caller_id": me, "callee_id": "79219462761", "operator_answer_ms": 50,
               "callee_answer_ms": 50, "talk_ms": 200, "record": true}),
    );
    let missed = app.sim().incoming(
        "79031112233",
        Some("Васильева Мария"),
        json!({"manual": true, "caller_gives_up_ms": 300}),
    );
    for (what, key) in [
        ("finished", done["key"].as_u64().unwrap()),
        ("missed", missed.key),
    ] {
        app.sim()
            .wait_call(&format!("the {what} call to end"), key, |c| {
                c["phase"] == "ended"
            });
    }
    let ringing = app.sim().incoming(
        "79161234567",
        Some("Соколов Игорь"),
        json!({"manual": true}),
    );
    app.sim()
        .wait_call("the call to ring me", ringing.key, |c| is_ringing(c, &me));

    app.to_main();
    let tabs = tabs(&app);
    for (id, _) in &tabs {
        app.show_screen(id);
        if id == "calls" {
            app.wait_js(
                "the ringing call on the Calls screen",
                "return document.querySelector('ul.live-calls > li.live-call') ? true : null",
                vec![],
            );
        }
        if id == "history" {
            app.wait_js(
                "history rows",
                "return document.querySelectorAll('table.history tbody tr[data-leg]').length >= 2 ? true : null",
                vec![],
            );
        }
        app.shot(id);
    }
    app.show_screen("calls");

    let label = |id: &str| {
        tabs.iter()
            .find(|(t, _)| t == id)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| panic!("no #tab-{id} in {tabs:?}"))
    };
    let expected = if look.lang == "ru" {
        "Звонки"
    } else {
        "Calls"
    };
    assert_eq!(label("calls"), expected, "the language of settings.toml");
    label("history");
    check_look(&app, look, "the main window");

    app.wait_popup_with("79161234567");
    app.shot("popup");
    check_look(&app, look, "the popup");
    app.to_main();
    app.sim().hangup(&ringing.leg_id, "caller");
}
