//! The global hotkey as the operator types it: `Ctrl+Alt+D`.
//!
//! A global hotkey takes its key away from every other program, so a shortcut must carry at
//! least one of Ctrl, Alt or Super (Shift alone would steal capital letters). Only keys that
//! every desktop's global-shortcut service understands are accepted: letters, digits, F1–F24
//! and a few named keys. The text is kept in one canonical spelling so the desktop shell and
//! the settings file always agree on what was chosen.

/// The modifiers in the order the canonical spelling lists them.
const MODIFIERS: [&str; 4] = ["Ctrl", "Alt", "Shift", "Super"];

/// Named keys besides letters, digits and F-keys.
const NAMED_KEYS: &[&str] = &[
    "Space",
    "Enter",
    "Tab",
    "Backspace",
    "Insert",
    "Delete",
    "Home",
    "End",
    "PageUp",
    "PageDown",
    "Up",
    "Down",
    "Left",
    "Right",
];

/// The canonical spelling of a hotkey (`ctrl + alt + d` → `Ctrl+Alt+D`), or why it is not
/// one. An empty text means no hotkey and stays empty.
pub fn canonical_hotkey(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(String::new());
    }
    let mut modifiers = [false; 4];
    let mut key: Option<String> = None;
    for part in text.split('+').map(str::trim) {
        if part.is_empty() {
            return Err(format!(
                "{text:?} has an empty part: write it as modifiers and one key joined by +, like Ctrl+Alt+D"
            ));
        }
        if let Some(i) = modifier_index(part) {
            if modifiers[i] {
                return Err(format!("{text:?} names {} twice", MODIFIERS[i]));
            }
            modifiers[i] = true;
            continue;
        }
        let canonical = canonical_key(part).ok_or_else(|| {
            format!(
                "{part:?} is not a key a hotkey can use (letters, digits, F1–F24, {})",
                NAMED_KEYS.join(", ")
            )
        })?;
        if let Some(first) = &key {
            return Err(format!(
                "{text:?} has two keys, {first} and {canonical}: a hotkey has one key after its modifiers"
            ));
        }
        key = Some(canonical);
    }
    let Some(key) = key else {
        return Err(format!(
            "{text:?} has no key: add one after the modifiers, like Ctrl+Alt+D"
        ));
    };
    // Ctrl, Alt or Super: without one the shortcut would take a plain key from every program.
    if !(modifiers[0] || modifiers[1] || modifiers[3]) {
        return Err(format!(
            "{text:?} needs Ctrl, Alt or Super, or it would take the key away from every other program"
        ));
    }
    let mut parts: Vec<&str> = MODIFIERS
        .iter()
        .zip(modifiers)
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect();
    parts.push(&key);
    Ok(parts.join("+"))
}

fn modifier_index(part: &str) -> Option<usize> {
    match part.to_ascii_lowercase().as_str() {
        "ctrl" | "control" => Some(0),
        "alt" => Some(1),
        "shift" => Some(2),
        "super" | "meta" | "win" => Some(3),
        _ => None,
    }
}

fn canonical_key(part: &str) -> Option<String> {
    let mut chars = part.chars();
    if let (Some(c), None) = (chars.next(), chars.next())
        && c.is_ascii_alphanumeric()
    {
        return Some(c.to_ascii_uppercase().to_string());
    }
    let lower = part.to_ascii_lowercase();
    if let Some(digits) = lower.strip_prefix('f')
        && let Ok(n) = digits.parse::<u8>()
        && (1..=24).contains(&n)
        && n.to_string() == digits
    {
        return Some(format!("F{n}"));
    }
    NAMED_KEYS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(part))
        .map(|k| (*k).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_hotkeys_take_one_canonical_spelling() {
        for (typed, canonical) in [
            ("Ctrl+Alt+D", "Ctrl+Alt+D"),
            ("ctrl + alt + d", "Ctrl+Alt+D"),
            ("Alt+Ctrl+d", "Ctrl+Alt+D"),
            ("Super+Shift+5", "Shift+Super+5"),
            ("control+f12", "Ctrl+F12"),
            ("Ctrl+Shift+space", "Ctrl+Shift+Space"),
            ("Meta+PageDown", "Super+PageDown"),
            ("  ", ""),
        ] {
            assert_eq!(canonical_hotkey(typed).as_deref(), Ok(canonical), "{typed}");
        }
    }

    #[test]
    fn bad_hotkeys_are_refused_with_the_reason() {
        for (typed, reason) in [
            ("D", "needs Ctrl, Alt or Super"),
            ("Shift+D", "needs Ctrl, Alt or Super"),
            ("Ctrl+Alt", "has no key"),
            ("Ctrl+D+E", "two keys"),
            ("Ctrl+Ctrl+D", "twice"),
            ("Ctrl++D", "empty part"),
            ("Ctrl+Ё", "not a key"),
            ("Ctrl+F25", "not a key"),
            ("Ctrl+F05", "not a key"),
            ("Hyper+D", "not a key"),
        ] {
            let err = canonical_hotkey(typed).unwrap_err();
            assert!(err.contains(reason), "{typed}: {err}");
        }
    }
}
