// The interface's words in Russian and English. The language follows the system until the
// operator picks one; the choice is remembered. Each language lives in its own file.
import { en, type Strings } from "./en";
import { ru } from "./ru";

export type { Strings };

export type Lang = "ru" | "en";
const STORAGE_KEY = "trubka.lang";

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === "ru" || saved === "en") return saved;
  return navigator.language.toLowerCase().startsWith("ru") ? "ru" : "en";
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
