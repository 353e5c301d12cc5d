// The Calls screen's live list follows each call event by patching the call's row, so the
// keyboard stays where the operator put it (issue #14 item 13: every event rebuilt the whole
// list, and focus on Hang up or Transfer was lost while a call rang).
import "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LiveCall } from "../src/bindings/LiveCall";
import { CallsScreen } from "../src/calls";

const started = Date.now() - 60_000;

function call(leg: string, change: Partial<LiveCall> = {}): LiveCall {
  return {
    leg,
    direction: "incoming",
    phase: "ringing",
    number: `+7 921 946-27-${leg.length > 1 ? leg.slice(-2) : "0" + leg}`,
    numberRaw: null,
    name: null,
    mine: false,
    whoseName: null,
    whoseWorkplace: null,
    startedAtMs: started,
    connectedAtMs: null,
    durationSecs: null,
    ...change,
  };
}

function screen(): CallsScreen {
  const calls = new CallsScreen();
  document.body.replaceChildren(calls.root);
  return calls;
}

function row(leg: string): HTMLElement {
  const li = document.querySelector(`ul.live-calls > li[data-leg="${leg}"]`);
  assert.ok(li, `a row for ${leg}`);
  return li as HTMLElement;
}

function button(leg: string, which: "hang-up" | "transfer"): HTMLButtonElement {
  const found = row(leg).querySelector(which === "hang-up" ? "button.danger" : ".actions button:not(.danger)");
  assert.ok(found, `${which} in the row of ${leg}`);
  return found as HTMLButtonElement;
}

/** Where the keyboard is, in words (comparing DOM nodes with `equal` prints them whole). */
function where(el: Element | null): string {
  if (!el) return "nowhere";
  const leg = el.closest("li[data-leg]")?.getAttribute("data-leg");
  return `${el.tagName.toLowerCase()}${el.className ? "." + el.className : ""}${leg ? ` in the row of ${leg}` : ""}${el.isConnected ? "" : " (gone from the page)"}`;
}

function assertFocus(expected: Element, message: string): void {
  const active = document.activeElement;
  assert.ok(active === expected, `${message}: the focus is on ${where(active)}, not on ${where(expected)}`);
}

function assertSame(actual: Element, expected: Element, message: string): void {
  assert.ok(actual === expected, `${message}: ${where(actual)} is another element than ${where(expected)}`);
}

function legs(): string[] {
  return [...document.querySelectorAll("ul.live-calls > li")].map((li) => li.getAttribute("data-leg") ?? "empty");
}

test("Hang up keeps the focus while its call and others change", () => {
  const calls = screen();
  calls.update(call("1"), false, false);
  calls.update(call("2", { startedAtMs: started + 1000 }), false, false);
  const hangUp = button("1", "hang-up");
  hangUp.focus();
  assertFocus(hangUp, "focus");

  // The same call rings my workplace now, then is answered.
  calls.update(call("1", { mine: true }), false, false);
  assertFocus(hangUp, "focus after an event for the focused call");
  assert.ok(hangUp.isConnected, "the focused button is still the one on screen");
  assertSame(button("1", "hang-up"), hangUp, "the button");
  assert.match(row("1").className, /\bmine\b/);

  calls.update(call("1", { mine: true, phase: "connected", connectedAtMs: Date.now() }), false, false);
  assertFocus(hangUp, "focus");
  assert.match(row("1").textContent ?? "", /Connected|Разговор/);

  // Another call changes, a new one starts, one ends late and goes.
  calls.update(call("2", { startedAtMs: started + 1000, name: "ООО Ромашка" }), false, false);
  calls.update(call("3", { startedAtMs: started + 2000 }), false, false);
  calls.update(call("2", { startedAtMs: started + 1000, phase: "ended", durationSecs: 3 }), true, true);
  assertFocus(hangUp, "focus after events for other calls");
  assert.ok(hangUp.isConnected);
  assert.deepEqual(legs(), ["1", "3"], "mine first, then the newest; the late ended call is gone");
  assert.match(row("3").textContent ?? "", /\+7 921 946-27-03/);
});

test("Transfer keeps the focus, and a selected number stays selected, while calls come and go", () => {
  const calls = screen();
  calls.update(call("11"), false, false);
  const transfer = button("11", "transfer");
  transfer.focus();
  const number = row("11").querySelector(".number");
  assert.ok(number);
  const selection = document.getSelection();
  assert.ok(selection);
  selection.selectAllChildren(number);
  assert.equal(selection.toString(), "+7 921 946-27-11");

  for (let i = 12; i < 20; i++) calls.update(call(String(i), { startedAtMs: started + i * 1000 }), false, false);
  calls.update(call("11", { phase: "connected", connectedAtMs: Date.now() }), false, false);
  calls.update(call("12", { phase: "ended", durationSecs: 1 }), true, true);

  assertFocus(transfer, "the same Transfer button has the focus");
  assertSame(button("11", "transfer"), transfer, "the button");
  assert.equal(selection.toString(), "+7 921 946-27-11", "the selected number is still selected");
  assert.equal(legs().length, 8);
  assert.equal(legs()[0], "19", "the newest first");
});

test("the list says there are no calls once the last one goes, and rows come back after", () => {
  const calls = screen();
  calls.update(call("21"), false, false);
  calls.update(call("21", { phase: "ended", durationSecs: 0 }), true, true);
  assert.deepEqual(legs(), ["empty"]);
  calls.update(call("22"), false, false);
  assert.deepEqual(legs(), ["22"]);
  const phase = row("22").querySelector(".phase");
  calls.update(call("22", { phase: "connected", connectedAtMs: Date.now() }), false, false);
  assert.ok(row("22").querySelector(".phase") === phase, "the row is patched, not rebuilt");
  assert.match(phase?.className ?? "", /phase-connected/);
});

test("a colleague's call says whose it is, with the workplace; my own does not, and only mine rings my phone", () => {
  const calls = screen();
  calls.update(
    call("31", { direction: "outgoing", phase: "pickUp", whoseName: "Петров Сергей", whoseWorkplace: "883140777446532" }),
    false,
    false,
  );
  calls.update(call("32", { mine: true, startedAtMs: started + 1000 }), false, false);
  const whose = row("31").querySelector(".whose") as HTMLElement | null;
  assert.ok(whose && !whose.hidden, "a whose line on a colleague's call");
  assert.equal(whose.textContent, "Петров Сергей (883140777446532)");
  assert.doesNotMatch(row("31").textContent ?? "", /Your phone is ringing|Ваш телефон звонит/);
  assert.doesNotMatch(row("31").className, /\bmine\b/);
  const own = row("32").querySelector(".whose") as HTMLElement | null;
  assert.ok(own?.hidden, "no whose line on my own call");

  // A workplace the directory gives no name is still named by its SIP ID; the row is patched.
  calls.update(
    call("31", { direction: "outgoing", phase: "calling", whoseName: null, whoseWorkplace: "883140777716581" }),
    false,
    false,
  );
  assert.ok(row("31").querySelector(".whose") === whose, "the row is patched, not rebuilt");
  assert.match(whose.textContent ?? "", /883140777716581/);
});
