// The after-call wrap-up (issue #17): offered when a call of mine ends, keyboard first — the
// note has the focus, Tab goes to the tags, Enter saves, Esc dismisses — and calls that end
// while one is open wait in line. History shows a call's note and tags, as text.
import { commands } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { HistoryRow } from "../src/bindings/HistoryRow";
import type { WrapUpDraft } from "../src/bindings/WrapUpDraft";
import type { WrapUpView } from "../src/bindings/WrapUpView";
import { HistoryScreen, wrapupLine } from "../src/history";
import { followUpAt, parseTags, WrapUpPanel } from "../src/wrapup";

function panel(saved: WrapUpView[] = []): WrapUpPanel {
  const p = new WrapUpPanel((view) => saved.push(view));
  p.setKnownTags(["sale", "support"]);
  p.render();
  document.body.replaceChildren(p.root);
  return p;
}

function el<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  assert.ok(found, `#${id} on the page`);
  return found as T;
}

function key(target: HTMLElement, k: string, shiftKey = false): void {
  target.dispatchEvent(new KeyboardEvent("keydown", { key: k, shiftKey, bubbles: true, cancelable: true }));
}

/** The focusable controls of the panel in Tab order (none has a positive tabindex). */
function tabOrder(root: HTMLElement): string[] {
  return Array.from(root.querySelectorAll<HTMLElement>("textarea, input, select, button"))
    .filter((e) => e.tabIndex >= 0 && !e.hidden && !(e as HTMLButtonElement).disabled)
    .map((e) => e.id || e.className);
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

test("a wrap-up takes the keyboard: type the note, Tab to the tags, Enter saves", async () => {
  const sent: WrapUpDraft[] = [];
  commands.save_wrapup = (args) => {
    const draft = (args as { draft: WrapUpDraft }).draft;
    sent.push(draft);
    return { leg: draft.leg, note: draft.note, tags: draft.tags, followUpAtMs: draft.followUpAtMs };
  };
  const saved: WrapUpView[] = [];
  const p = panel(saved);
  p.offer({ leg: "leg-1", number: "+7 921 946-27-61", name: "Иван", answered: true, saved: null });
  assert.equal(p.open, true);
  const note = el<HTMLTextAreaElement>("wrapup-note");
  assert.equal(document.activeElement, note, "the note has the focus");
  assert.equal(el("wrapup-who").textContent, "Иван · +7 921 946-27-61");
  // After the note, Tab reaches the tags (the tag chips are out of the Tab order), then the
  // follow-up.
  const order = tabOrder(p.root);
  assert.deepEqual(order.slice(0, 3), ["wrapup-note", "wrapup-tags", "wrapup-follow-up"]);
  note.value = "wants a quote\nfor 20 seats";
  const tags = el<HTMLInputElement>("wrapup-tags");
  tags.focus();
  tags.value = "sale, VIP client, Sale";
  key(tags, "Enter");
  await settle();
  assert.deepEqual(sent, [{ leg: "leg-1", note: "wants a quote\nfor 20 seats", tags: ["sale", "VIP client"], followUpAtMs: null }]);
  assert.equal(saved.length, 1);
  assert.equal(p.open, false, "saved, the panel closes");
});

test("Shift+Enter in the note is a new line, not a save; Esc dismisses and the next call waits its turn", async () => {
  const sent: unknown[] = [];
  commands.save_wrapup = (args) => {
    sent.push(args);
    return { leg: "x", note: "", tags: [], followUpAtMs: null };
  };
  const p = panel();
  p.offer({ leg: "first", number: "+7 921 000-00-01", name: null, answered: true, saved: null });
  p.offer({ leg: "second", number: "+7 921 000-00-02", name: null, answered: true, saved: { leg: "second", note: "earlier", tags: ["support"], followUpAtMs: null } });
  assert.equal(el("wrapup-waiting").hidden, false, "one more waits");
  const note = el<HTMLTextAreaElement>("wrapup-note");
  key(note, "Enter", true);
  await settle();
  assert.equal(sent.length, 0, "Shift+Enter does not save");
  key(note, "Escape");
  assert.equal(p.leg, "second");
  assert.equal(note.value, "earlier", "what was saved for the next call is shown");
  assert.equal(el<HTMLInputElement>("wrapup-tags").value, "support");
  const chip = Array.from(el("wrapup-chips").querySelectorAll("button")).find((b) => b.textContent === "support");
  assert.equal(chip?.getAttribute("aria-pressed"), "true");
  key(note, "Escape");
  assert.equal(p.open, false);
  assert.equal(sent.length, 0, "nothing was saved");
});

test("the wrap-up leaves the keyboard where it is while the operator is typing a number", () => {
  const p = new WrapUpPanel(() => {});
  const dialer = document.createElement("input");
  document.body.replaceChildren(dialer, p.root);
  dialer.focus();
  dialer.value = "8 921";
  p.offer({ leg: "leg", number: null, name: null, answered: true, saved: null });
  assert.equal(document.activeElement, dialer);
  assert.equal(p.open, true);
  p.next();
  // An empty dialer that merely has the focus (as between calls) gives it to the note.
  dialer.value = "";
  dialer.focus();
  p.offer({ leg: "leg-2", number: null, name: null, answered: true, saved: null });
  assert.equal(document.activeElement, document.getElementById("wrapup-note"));
});

test("a refused save keeps the wrap-up open with the reason", async () => {
  commands.save_wrapup = () => {
    throw { code: "invalid", message: "the wrap-up is not valid: a tag is empty" };
  };
  const p = panel();
  p.offer({ leg: "leg", number: null, name: null, answered: true, saved: null });
  key(el("wrapup-note"), "Enter");
  await settle();
  await settle();
  assert.equal(p.open, true);
  assert.match(el("wrapup-status").textContent ?? "", /a tag is empty/);
});

test("tags are split at commas and follow-up choices fall when an operator expects", () => {
  assert.deepEqual(parseTags(" sale ,, vip  client,SALE,"), ["sale", "vip client"]);
  const now = new Date(2026, 11, 3, 16, 30).getTime();
  assert.equal(followUpAt("none", now, ""), null);
  assert.equal(followUpAt("hour", now, ""), now + 3_600_000);
  assert.equal(followUpAt("afternoon", now, ""), new Date(2026, 11, 4, 15, 0).getTime(), "15:00 has passed: tomorrow's");
  assert.equal(followUpAt("tomorrow", now, ""), new Date(2026, 11, 4, 10, 0).getTime());
  assert.equal(followUpAt("custom", now, "2026-12-05T09:15"), new Date(2026, 11, 5, 9, 15).getTime());
  assert.equal(followUpAt("custom", now, ""), null);
});

test("History shows a call's tags and note as text, and its Note button opens the wrap-up", async () => {
  const row: HistoryRow = {
    id: 1,
    leg: "leg-1",
    direction: "incoming",
    number: "+7 921 946-27-61",
    numberRaw: "79219462761",
    name: null,
    startedAtMs: Date.now(),
    durationSecs: 30,
    answered: true,
    ended: true,
    missed: false,
    calledBack: false,
    recordingUrl: null,
    routing: null,
    note: "<b>not bold</b>",
    tags: ["sale"],
    followUpAtMs: null,
  };
  const line = wrapupLine(row.note, row.tags);
  assert.ok(line);
  assert.equal(line.querySelector("b"), null, "a note is never markup");
  assert.equal(line.textContent, "sale<b>not bold</b>");
  assert.equal(wrapupLine("  ", []), null);
  commands.history = () => ({ rows: [row], next: null });
  commands.callbacks = () => [];
  commands.follow_ups = () => [];
  commands.wrapup_tags = () => ({ tags: ["sale"], required: false });
  const opened: HistoryRow[] = [];
  const screen = new HistoryScreen(() => {}, (r) => opened.push(r));
  document.body.replaceChildren(screen.root);
  screen.render();
  await screen.reload();
  const tr = document.querySelector('tr[data-leg="leg-1"]');
  assert.ok(tr);
  assert.equal(tr.querySelector(".wrapup-line .tag")?.textContent, "sale");
  (tr.querySelector("button.note-edit") as HTMLButtonElement).click();
  assert.equal(opened[0]?.leg, "leg-1");
});

test("a team that requires a tag keeps an answered call's wrap-up open until one is chosen", async () => {
  const sent: WrapUpDraft[] = [];
  commands.save_wrapup = (args) => {
    const draft = (args as { draft: WrapUpDraft }).draft;
    sent.push(draft);
    return { leg: draft.leg, note: draft.note, tags: draft.tags, followUpAtMs: null };
  };
  const p = new WrapUpPanel(() => {});
  p.setKnownTags(["sale", "support"], true);
  p.render();
  document.body.replaceChildren(p.root);
  p.offer({ leg: "answered", number: null, name: null, answered: true, saved: null });
  assert.equal(el("wrapup-dismiss").hidden, true, "no Skip");
  const note = el<HTMLTextAreaElement>("wrapup-note");
  key(note, "Escape");
  assert.equal(p.open, true, "Esc does not close it");
  el<HTMLInputElement>("wrapup-tags").value = "my own tag";
  key(note, "Enter");
  await settle();
  assert.equal(sent.length, 0, "not saved without one of the team's tags");
  assert.equal(p.open, true);
  assert.match(el("wrapup-status").textContent ?? "", /tag/);
  el<HTMLInputElement>("wrapup-tags").value = "my own tag, Support";
  key(note, "Enter");
  await settle();
  assert.equal(sent.length, 1);
  assert.equal(p.open, false);
  // A missed call's wrap-up may be skipped.
  p.offer({ leg: "missed", number: null, name: null, answered: false, saved: null });
  assert.equal(el("wrapup-dismiss").hidden, false);
  key(note, "Escape");
  assert.equal(p.open, false);
});
