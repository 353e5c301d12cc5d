// A recording that arrives while the History list is being read again still gets its button:
// the list read before the recording was stored must not wipe the link the event brought (the
// end-to-end suite saw a recorded call with no Recording button, once, on a loaded machine).
import { commands } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { HistoryRow } from "../src/bindings/HistoryRow";
import { HistoryScreen } from "../src/history";

function row(leg: string, recordingUrl: string | null): HistoryRow {
  return {
    id: 1,
    leg,
    direction: "outgoing",
    number: "+7 921 946-27-61",
    numberRaw: "79219462761",
    name: null,
    startedAtMs: Date.now(),
    durationSecs: 1,
    answered: true,
    ended: true,
    missed: false,
    calledBack: false,
    recordingUrl,
    routing: null,
    note: "",
    tags: [],
    followUpAtMs: null,
  };
}

test("a recording that arrives during a reload keeps its button when the reload lands", async () => {
  commands.callbacks = () => [];
  commands.follow_ups = () => [];
  commands.wrapup_tags = () => ({ tags: [], required: false });
  // The list is read before the recording is stored, and answers after the event came.
  let answer: (page: unknown) => void = () => {};
  commands.history = () => new Promise((resolve) => (answer = resolve));
  const screen = new HistoryScreen(() => {}, () => {});
  document.body.replaceChildren(screen.root);
  screen.render();
  const reloading = screen.reload();
  screen.recorded("leg-r", "http://127.0.0.1:9/records/leg-r.mp3");
  answer({ rows: [row("leg-r", null)], next: null });
  await reloading;
  assert.ok(
    document.querySelector('tr[data-leg="leg-r"] button.recording-toggle'),
    "the Recording button is there",
  );
});
