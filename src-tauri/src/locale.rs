//! The language the interface speaks, from one source for the tray, the notifications and the
//! web UI: the setting, or for "System" the platform's own answer as `sys-locale` reads it (the
//! user's display languages on Windows, the preferred languages on macOS, `LANGUAGE`, `LC_ALL`,
//! `LC_MESSAGES` and `LANG` elsewhere). The web view's `navigator.language` is not asked: on
//! Windows and macOS it can differ from the system's, and then the tray said one language and
//! the window another. The UI takes the answer from here (`Preferences.interfaceLanguage`,
//! `PopupView.language`).

use companion::settings::Language;

/// Whether the interface speaks Russian under `choice`, asking the platform for "System".
pub fn is_russian(choice: Language) -> bool {
    speaks_russian(choice, sys_locale::get_locale)
}

/// The seam under [`is_russian`]: `platform` gives the platform's locale (`ru-RU` on Windows and
/// macOS, `ru_RU.UTF-8` from a Unix environment, or nothing), and is asked only for "System".
/// Anything but Russian, or no answer, is English.
pub fn speaks_russian(choice: Language, platform: impl FnOnce() -> Option<String>) -> bool {
    match choice {
        Language::Ru => true,
        Language::En => false,
        Language::System => platform().is_some_and(|tag| names_russian(&tag)),
    }
}

/// Whether a locale names Russian: BCP 47 (`ru-RU`, `ru`) as Windows and macOS give it, or
/// POSIX (`ru_RU.UTF-8`, `ru_RU@euro`) as a Unix environment does.
fn names_russian(tag: &str) -> bool {
    tag.split(['-', '_', '.', '@'])
        .next()
        .is_some_and(|language| language.eq_ignore_ascii_case("ru"))
}

#[cfg(test)]
mod tests;
