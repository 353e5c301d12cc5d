// Which language the interface speaks. One source for the window, the popup, the tray and the
// notifications: the shell resolves the settings' choice (for "System", the platform's locale)
// and sends it with the preferences. The web view's own `navigator.language` is never asked: on
// Windows and macOS it can differ from the system's (issue #14 item 9).
import type { Preferences } from "../bindings/Preferences";

export type Lang = "ru" | "en";

/** The language the saved preferences speak: the choice, or for "system" the shell's answer;
 * null when the shell gave none. */
export function spokenLanguage(prefs: Pick<Preferences, "language" | "interfaceLanguage">): Lang | null {
  if (prefs.language === "ru" || prefs.language === "en") return prefs.language;
  return prefs.interfaceLanguage ?? null;
}
