// Both languages have every phrase (the compiler checks the keys; this checks no phrase is empty,
// nested tables included, and that each phrase-maker writes something), and the language is the
// remembered one, else the browser's.
import "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import { en } from "../src/i18n/en";
import { pickLang } from "../src/i18n";
import { ru } from "../src/i18n/ru";

function phrases(table: Record<string, unknown>, prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(table)) {
    if (value && typeof value === "object") for (const [k, v] of phrases(value as Record<string, unknown>, `${prefix}${key}.`)) out.set(k, v);
    else out.set(`${prefix}${key}`, value);
  }
  return out;
}

test("Russian and English have the same phrases, nested tables included", () => {
  const a = [...phrases(en).keys()].sort();
  const b = [...phrases(ru).keys()].sort();
  assert.deepEqual(b, a);
});

test("no phrase is empty in either language", () => {
  for (const [lang, table] of [["en", en], ["ru", ru]] as const) {
    for (const [key, value] of phrases(table)) {
      const text = typeof value === "function" ? (value as (...args: unknown[]) => string)(3, "x", "y") : value;
      assert.ok(typeof text === "string" && text.trim().length > 0, `${lang}.${key} is empty`);
    }
  }
});

test("Russian phrases are Russian: none is left as its English", () => {
  const same = [...phrases(en)].filter(([key, value]) => typeof value === "string" && phrases(ru).get(key) === value).map(([key]) => key);
  // Names that are the same in both (МТТ's field names, the formats).
  const allowed = new Set(["intClientId", "intRedirectUri", "phoneImportCsv", "phoneImportVcard", "none"]);
  assert.deepEqual(same.filter((k) => !allowed.has(k)), []);
});

test("the language: the remembered choice, else any Russian in the browser's list, else English", () => {
  assert.equal(pickLang("en", ["ru-RU"]), "en");
  assert.equal(pickLang("ru", ["en-US"]), "ru");
  assert.equal(pickLang(null, ["en-US", "ru"]), "ru");
  assert.equal(pickLang(null, ["de-DE"]), "en");
  assert.equal(pickLang("fr", []), "en");
});
