// The console's language: the one chosen with the switch (remembered in localStorage), else the
// browser's (Russian for any `ru…`, English otherwise).
import { en, type Strings } from "./en";
import { ru } from "./ru";

export type { Strings };
export type Lang = "ru" | "en";

export const LANG_KEY = "trubka.console.lang";

/** The language for a remembered choice and the browser's languages. */
export function pickLang(saved: string | null, browser: readonly string[]): Lang {
  if (saved === "ru" || saved === "en") return saved;
  return browser.some((l) => l.toLowerCase().startsWith("ru")) ? "ru" : "en";
}

function browserLanguages(): readonly string[] {
  const nav = typeof navigator === "undefined" ? undefined : navigator;
  if (!nav) return [];
  return nav.languages?.length ? nav.languages : [nav.language ?? ""];
}

let lang: Lang = pickLang(localStorage.getItem(LANG_KEY), browserLanguages());
export let t: Strings = lang === "ru" ? ru : en;

export function currentLang(): Lang {
  return lang;
}

/** Switches the language and remembers it; the caller redraws. */
export function setLang(next: Lang): void {
  lang = next;
  t = next === "ru" ? ru : en;
  localStorage.setItem(LANG_KEY, next);
  document.documentElement.lang = next;
}

document.documentElement.lang = lang;
