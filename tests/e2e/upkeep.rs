//! Settings' call-log retention and diagnostics in the real window (issue #14 items 6 and 15):
//! the periods show their defaults, the last clean-up is reported, the app logs into files in
//! its data folder, and Save diagnostics puts a zip in Downloads and says where.

use crate::app::{App, Look, Options, wait_for};

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn settings_keep_the_call_log_for_a_while_and_save_diagnostics_into_downloads() {
    let app = App::start("upkeep");
    app.show_screen("settings");
    let periods = app.wait_js(
        "the retention periods with their defaults",
        "const c = document.getElementById('pref-keep-calls');
         const r = document.getElementById('pref-keep-raw-events');
         const p = document.getElementById('settings-last-prune');
         return c && c.value && r && r.value && p && p.textContent
             ? [c.value, r.value, c.selectedOptions[0].textContent, p.textContent] : null",
        vec![],
    );
    assert_eq!(periods[0], "1095", "{periods}");
    assert_eq!(periods[1], "90", "{periods}");
    assert_eq!(periods[2], "3 years", "{periods}");
    app.js(
        "document.getElementById('pref-keep-calls').scrollIntoView({block: 'center'})",
        vec![],
    );
    app.shot("settings-retention");

    // The app logs into its data folder as well as to stderr.
    let logs = app.home_dir().join(".local/share/trubka/logs");
    wait_for("a log file in the data folder", || {
        let found = std::fs::read_dir(&logs)
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .any(|e| {
                e.file_name().to_string_lossy().starts_with("trubka.")
                    && e.metadata().is_ok_and(|m| m.len() > 0)
            });
        found.then_some(()).ok_or_else(|| "none yet".to_owned())
    });

    app.js(
        "document.getElementById('settings-diagnostics').scrollIntoView()",
        vec![],
    );
    app.click("#save-diagnostics");
    let said = app.wait_js(
        "where the diagnostics went",
        "const s = document.getElementById('diagnostics-status');
         return s && s.textContent.includes('.zip') ? s.textContent : null",
        vec![],
    );
    let said = said.as_str().unwrap_or_default().to_owned();
    let path = said
        .split_once(" saved to ")
        .map(|(_, p)| std::path::PathBuf::from(p.trim()))
        .unwrap_or_else(|| panic!("no path in {said:?}"));
    assert!(path.starts_with(app.home_dir()), "{said}");
    assert!(path.to_string_lossy().contains("Downloads"), "{said}");
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"PK"), "a zip at {}", path.display());
    app.shot("settings-upkeep");
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn the_retention_periods_read_in_russian() {
    let app = App::start_with(
        "upkeep-ru",
        Options {
            look: Look {
                lang: "ru",
                theme: "dark",
            },
            ..Options::default()
        },
    );
    app.show_screen("settings");
    let words = app.wait_js(
        "the retention periods in Russian",
        "const c = document.getElementById('pref-keep-calls');
         const r = document.getElementById('pref-keep-raw-events');
         return c && c.selectedOptions.length && r && r.selectedOptions.length
             ? [c.selectedOptions[0].textContent, r.selectedOptions[0].textContent,
                Array.from(c.options).map((o) => o.textContent).join('|')] : null",
        vec![],
    );
    assert_eq!(words[0], "3 года", "{words}");
    assert_eq!(words[1], "90 дней", "{words}");
    assert_eq!(
        words[2], "30 дней|90 дней|180 дней|1 год|3 года|5 лет|Всегда",
        "{words}"
    );
    app.js(
        "document.getElementById('pref-keep-calls').scrollIntoView({block: 'center'})",
        vec![],
    );
    app.shot("settings-retention");
    app.js(
        "document.getElementById('settings-diagnostics').scrollIntoView({block: 'center'})",
        vec![],
    );
    app.shot("settings-diagnostics");
}
