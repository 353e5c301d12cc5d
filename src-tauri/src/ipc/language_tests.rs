//! The language the shell resolved crosses with the preferences (issue #14 item 9): the UI takes
//! it instead of the web view's `navigator.language`.

use companion::settings::Language;

use super::{InterfaceLanguage, Preferences};

#[test]
fn the_preferences_carry_the_resolved_language_and_saving_ignores_it() {
    let settings = companion::Settings {
        language: Language::Ru,
        ..Default::default()
    };
    let sent = serde_json::to_value(Preferences::from(&settings)).unwrap();
    assert_eq!(sent["interfaceLanguage"], "ru");
    assert_eq!(
        Preferences::from(&settings).interface_language,
        Some(InterfaceLanguage::Ru)
    );
    // What the Settings screen saves may carry it back, or not: either way it decides nothing.
    let mut back = sent.clone();
    back["interfaceLanguage"] = "en".into();
    let saved: Preferences = serde_json::from_value(back.clone()).unwrap();
    assert_eq!(saved.interface_language, None);
    back.as_object_mut().unwrap().remove("interfaceLanguage");
    let saved: Preferences = serde_json::from_value(back).unwrap();
    let mut applied = companion::Settings::default();
    saved.apply_to(&mut applied);
    assert_eq!(applied.language, Language::Ru);
}
