// Settings' retention choices and the last clean-up's words (issue #14 item 6).
import assert from "node:assert/strict";
import { test } from "node:test";
import { en } from "../src/i18n/en";
import { ru } from "../src/i18n/ru";
import { keepChoices, keepDays, keepLabel, keepValue, pruneText } from "../src/retention";

test("the periods round-trip through the select, forever included", () => {
  for (const days of keepChoices(1095)) assert.equal(keepDays(keepValue(days)), days);
  assert.equal(keepValue(null), "forever");
  assert.equal(keepDays("forever"), null);
  // The defaults are among the usual choices; an unusual one from the file is offered in order.
  assert.deepEqual(keepChoices(90), keepChoices(1095));
  assert.deepEqual(keepChoices(400), [30, 90, 180, 365, 400, 1095, 1825, null]);
});

test("periods read as years or days in both languages", () => {
  assert.equal(keepLabel(1095, en), "3 years");
  assert.equal(keepLabel(365, en), "1 year");
  assert.equal(keepLabel(90, en), "90 days");
  assert.equal(keepLabel(null, en), "Forever");
  assert.equal(keepLabel(1095, ru), "3 года");
  assert.equal(keepLabel(1825, ru), "5 лет");
  assert.equal(keepLabel(365, ru), "1 год");
  assert.equal(keepLabel(90, ru), "90 дней");
  assert.equal(keepLabel(null, ru), "Всегда");
});

test("the last clean-up says when and how many went", () => {
  const done = { atMs: 0, calls: 1, rawEvents: 5, failed: null };
  assert.equal(pruneText(done, "3 Dec, 10:00", en), "Last clean-up 3 Dec, 10:00: 1 call and 5 raw events removed.");
  assert.equal(
    pruneText(done, "3 дек., 10:00", ru),
    "Последняя очистка 3 дек., 10:00. Удалено: 1 звонок, 5 исходных событий.",
  );
  assert.equal(pruneText({ ...done, calls: 2, rawEvents: 1 }, "x", ru), "Последняя очистка x. Удалено: 2 звонка, 1 исходное событие.");
  assert.equal(pruneText(null, "", en), en.pruneNever);
  assert.match(pruneText({ ...done, failed: "the disk is full" }, "x", en), /failed: the disk is full/);
});
