// The interface never depends on a system font having a symbol (issue #14 item 20: the player's
// Pause showed a missing-glyph box under Xvfb, whose fonts have no `⏸`). Icons are SVG shipped
// with the app (src/widgets/icons.ts); text keeps to letters, digits and common punctuation.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

/** The UI's folder: the compiled test runs from `.test-build/test/`. */
const ui = `${__dirname}/../..`;

/** Signs every font with Latin and Cyrillic letters has, though Unicode files some as symbols. */
const TYPOGRAPHIC = new Set(["№"]);

test("no source of the interface writes a pictograph or a symbol character", () => {
  const files = [
    "index.html",
    "popup.html",
    ...readdirSync(`${ui}/src`, { recursive: true })
      .filter((f) => /\.(ts|css)$/.test(f) && !f.startsWith("bindings"))
      .map((f) => `src/${f}`),
  ];
  assert.ok(files.length > 10, `found the sources: ${files.join(", ")}`);
  const found: string[] = [];
  for (const file of files) {
    readFileSync(`${ui}/${file}`, "utf8")
      .split("\n")
      .forEach((line, i) => {
        for (const ch of line.match(/[\p{So}\p{Extended_Pictographic}]/gu) ?? []) {
          if (!TYPOGRAPHIC.has(ch)) found.push(`${file}:${i + 1}: ${ch} (U+${ch.codePointAt(0)?.toString(16).toUpperCase()})`);
        }
      });
  }
  assert.equal(found.join("\n"), "", "draw these as SVG icons (src/widgets/icons.ts) or CSS instead");
});
