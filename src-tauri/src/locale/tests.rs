//! Issue #14 item 9: "System" resolved from `LANG` in the tray and the notifications while the UI
//! followed the browser's language; on Windows and macOS the two disagree. The platform's answer
//! is fed in here as Windows, macOS and a Unix environment give it.

use companion::settings::Language;

use super::speaks_russian;

fn system_says(locale: Option<&str>) -> bool {
    speaks_russian(Language::System, || locale.map(str::to_owned))
}

#[test]
fn system_follows_the_platform_whatever_lang_says() {
    // Whatever this process's LANG is (a Windows or macOS desktop has none at all), the
    // platform's answer decides.
    assert!(system_says(Some("ru-RU")), "Windows and macOS: ru-RU");
    assert!(system_says(Some("ru")), "macOS may give the bare language");
    assert!(system_says(Some("ru_RU.UTF-8")), "a Unix environment");
    assert!(system_says(Some("RU-ru")));
    assert!(!system_says(Some("en-US")));
    assert!(!system_says(Some("en_GB.UTF-8")));
    assert!(!system_says(Some("C")));
    assert!(!system_says(Some("rue-UA")), "Rusyn is not Russian");
    assert!(!system_says(Some("")));
    assert!(!system_says(None));
}

#[test]
fn a_chosen_language_never_asks_the_platform() {
    let asked = |_: ()| -> Option<String> { panic!("the platform was asked") };
    assert!(speaks_russian(Language::Ru, || asked(())));
    assert!(!speaks_russian(Language::En, || asked(())));
}
