//! Every page in both languages, both themes and both sizes, into the artefacts folder as
//! `<page>-<lang>-<theme>-<width>x<height>.png`, each checked with axe-core (no serious or
//! critical violation) in each language and theme.

use crate::browser::{Browser, SIZES};

/// The console's pages (an admin sees them all) and what shows each has loaded.
const PAGES: &[(&str, &str)] = &[
    ("wallboard", "#wall-live.connected"),
    ("integration", "#int-facts dt"),
    ("seats", "#seats-table tbody tr"),
    ("routing", "#routing-rules li"),
    ("parking", "#parking-table tbody tr"),
    ("tags", "#tags-list li"),
    ("phonebook", "#phonebook-table tbody tr"),
    ("audit", "#audit-table tbody tr"),
    ("health", "#health-tiles .tile"),
];

const LANGS: [&str; 2] = ["en", "ru"];
const THEMES: [&str; 2] = ["light", "dark"];

/// Waits for `ready`, then for the page's fonts and a settled layout.
fn settle(browser: &Browser, ready: &str) {
    browser.element(ready);
    browser.wait_js(
        "the page's fonts",
        "return document.fonts.status === 'loaded' ? true : null",
    );
}

fn check(browser: &Browser, page: &str, lang: &str, theme: &str) {
    let violations = browser.axe();
    assert!(
        violations.is_empty(),
        "axe-core on {page} ({lang}, {theme}): serious or critical violations:\n{}",
        violations.join("\n")
    );
}

/// The sign-in page (signed out), in every variant.
pub fn sign_in_page(browser: &Browser) {
    for lang in LANGS {
        for theme in THEMES {
            for (i, (w, h)) in SIZES.into_iter().enumerate() {
                browser.size(w, h);
                browser.remember(lang, theme);
                browser.open("/admin/signin");
                settle(browser, "#signin-form");
                browser.shot(&format!("signin-{lang}-{theme}-{w}x{h}"));
                if i == 0 {
                    check(browser, "signin", lang, theme);
                }
            }
        }
    }
    browser.size(SIZES[0].0, SIZES[0].1);
}

/// The wallboard with a call on it, in every variant, and its full-screen mode.
pub fn live_wallboard(browser: &Browser) {
    for lang in LANGS {
        for theme in THEMES {
            for (w, h) in SIZES {
                browser.size(w, h);
                browser.remember(lang, theme);
                browser.open("/admin/wallboard");
                settle(browser, "#wall-calls tbody tr.call-talking");
                browser.shot(&format!("wallboard-live-{lang}-{theme}-{w}x{h}"));
            }
        }
    }
    browser.size(SIZES[0].0, SIZES[0].1);
    browser.remember("en", "dark");
    browser.open("/admin/wallboard");
    settle(browser, "#wall-calls tbody tr.call-talking");
    browser.click("#wall-full");
    browser.wait_js(
        "the full-screen wallboard",
        "return document.body.classList.contains('wall') && getComputedStyle(document.querySelector('nav.side')).display === 'none' ? true : null",
    );
    browser.shot("wallboard-fullscreen-en-dark-1280x720");
    check(browser, "wallboard (full screen)", "en", "dark");
    browser.click("#wall-leave");
    browser.wait_js(
        "the wallboard back in the frame",
        "return document.body.classList.contains('wall') ? null : true",
    );
    browser.remember("en", "light");
}

/// Every page, signed in as an admin, in every variant.
pub fn every_page(browser: &Browser) {
    for (page, ready) in PAGES {
        for lang in LANGS {
            for theme in THEMES {
                for (i, (w, h)) in SIZES.into_iter().enumerate() {
                    browser.size(w, h);
                    browser.remember(lang, theme);
                    browser.open(&format!("/admin/{page}"));
                    settle(browser, ready);
                    browser.shot(&format!("{page}-{lang}-{theme}-{w}x{h}"));
                    if i == 0 {
                        check(browser, page, lang, theme);
                    }
                }
            }
        }
    }
    browser.size(SIZES[0].0, SIZES[0].1);
    browser.remember("en", "light");
}
