// The interface's words in Russian and English. The language is the one the shell resolves from
// the settings (for "System", the platform's locale: see spoken.ts), which arrives with the
// preferences; until then the window speaks the language it spoke last, remembered here. Each
// language lives in its own file.
import { en, type Strings } from "./en";
import { ru } from "./ru";
import type { Lang } from "./spoken";

export type { Strings };
export type { Lang };
export { spokenLanguage } from "./spoken";

const STORAGE_KEY = "trubka.lang";

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  return saved === "ru" ? "ru" : "en";
}

let lang: Lang = initialLang();
export let t: Strings = lang === "ru" ? ru : en;

export function currentLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  t = next === "ru" ? ru : en;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
}

document.documentElement.lang = lang;
