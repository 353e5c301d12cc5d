// One source for the interface's language (issue #14 item 9): the shell resolves "System" from the
// platform's locale for the tray, the notifications and the windows alike; the web view's
// navigator.language, which on Windows and macOS can disagree with it, is never read.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { spokenLanguage } from "../src/i18n/spoken";

const ui = `${__dirname}/../..`;

test("System speaks what the shell resolved; a chosen language speaks itself", () => {
  assert.equal(spokenLanguage({ language: "system", interfaceLanguage: "ru" }), "ru");
  assert.equal(spokenLanguage({ language: "system", interfaceLanguage: "en" }), "en");
  assert.equal(spokenLanguage({ language: "ru", interfaceLanguage: "en" }), "ru");
  assert.equal(spokenLanguage({ language: "en", interfaceLanguage: "ru" }), "en");
  assert.equal(spokenLanguage({ language: "system" }), null);
});

test("no source of the interface asks the web view for its language", () => {
  const code = (file: string) =>
    readFileSync(`${ui}/src/${file}`, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "");
  const found = readdirSync(`${ui}/src`, { recursive: true })
    .filter((f) => f.endsWith(".ts"))
    .filter((f) => /navigator\s*\.\s*languages?\b/.test(code(f)));
  assert.equal(found.join(", "), "", "take the language from the shell (spokenLanguage)");
});
