// Anything from outside (seat names, callers, tags, contacts) is rendered as text: a name that
// looks like HTML shows as those characters and never becomes an element or runs.
import { reset, routes, settle, FakeEventSource } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import { HOSTILE, seat, session, wallboard } from "./fixtures";
import { openConsole } from "./open";

function noMarkupFrom(outside: string): void {
  assert.equal(document.querySelectorAll("#app img, #app script, dialog img").length, 0, "an element made from a name");
  assert.ok(document.body.textContent?.includes(outside), "the name is shown as its characters");
  assert.equal((window as unknown as { pwned?: number }).pwned, undefined);
}

test("the wallboard shows hostile names and numbers as text", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session() });
  await openConsole("/admin/wallboard");
  const board = wallboard();
  board.calls[0].seatName = HOSTILE;
  board.calls[0].caller = HOSTILE;
  board.operators[0].name = HOSTILE;
  board.missed[0].number = HOSTILE;
  FakeEventSource.opened[0].push("wallboard", board);
  noMarkupFrom(HOSTILE);
  assert.equal(document.querySelectorAll("#wall-operators tbody tr").length, 1);
});

test("the seats table shows a hostile seat name as text", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session() });
  routes["GET /seats"] = () => ({ status: 200, body: { seats: [seat({ name: HOSTILE, appVersion: HOSTILE })] } });
  await openConsole("/admin/seats");
  noMarkupFrom(HOSTILE);
});

test("tags and phonebook entries are text", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session() });
  routes["GET /tags"] = () => ({ status: 200, body: { tags: [HOSTILE], required: false } });
  await openConsole("/admin/tags");
  noMarkupFrom(HOSTILE);

  reset();
  routes["GET /session"] = () => ({ status: 200, body: session() });
  routes["GET /phonebook"] = () => ({
    status: 200,
    body: { contacts: [{ id: 1, name: HOSTILE, company: HOSTILE, numbers: ["79219462761"], notes: HOSTILE, version: 1, updatedAt: "2026-12-01T10:00:00Z" }] },
  });
  await openConsole("/admin/phonebook");
  noMarkupFrom(HOSTILE);
});

test("a server's error message is text too", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 401, body: { code: "unauthorized", message: "no session", field: null } });
  routes["POST /session"] = () => ({ status: 400, body: { code: "bad_request", message: HOSTILE, field: "login" } });
  await openConsole("/admin/signin");
  (document.getElementById("signin-login") as HTMLInputElement).value = "anna";
  (document.getElementById("signin-password") as HTMLInputElement).value = "x";
  (document.getElementById("signin-form") as HTMLFormElement).requestSubmit();
  await settle();
  noMarkupFrom(HOSTILE);
});
