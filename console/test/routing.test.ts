// Client-side routing: pages by pathname, the navigation a role sees, the pages a supervisor may
// not open, and a 401 from anywhere back to the sign-in page (and on to the page asked for).
import { reset, routes, settle, FakeEventSource } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import { pageFor } from "../src/app";
import { PAGES } from "../src/pages";
import { seat, session, wallboard } from "./fixtures";
import { openConsole } from "./open";

function navIds(): string[] {
  return [...document.querySelectorAll("nav.side a")].map((a) => a.id);
}

test("a path names its page; /admin and unknown paths name none", () => {
  assert.equal(pageFor("/admin/seats", PAGES)?.path, "seats");
  assert.equal(pageFor("/admin/seats/", PAGES)?.path, "seats");
  assert.equal(pageFor("/admin", PAGES), null);
  assert.equal(pageFor("/admin/nothing", PAGES), null);
});

test("an admin sees every page; the link of the page open is marked current", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session("admin") });
  routes["GET /audit"] = () => ({ status: 200, body: { entries: [], more: false } });
  routes["GET /seats"] = () => ({ status: 200, body: { seats: [] } });
  await openConsole("/admin/audit");
  assert.deepEqual(navIds(), PAGES.map((p) => `nav-${p.path}`));
  assert.equal(document.querySelector("nav.side a[aria-current=page]")?.id, "nav-audit");
  assert.equal(document.getElementById("page-title")?.textContent, document.getElementById("nav-audit")?.textContent);
});

test("a supervisor sees the wallboard, seats and audit only, and an admin page leads to the wallboard", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session("supervisor") });
  routes["GET /seats"] = () => ({ status: 200, body: { seats: [seat()] } });
  await openConsole("/admin/integration");
  assert.deepEqual(navIds(), ["nav-wallboard", "nav-seats", "nav-audit"]);
  assert.equal(location.pathname, "/admin/wallboard");
  assert.equal(FakeEventSource.opened.length, 1, "the wallboard's stream");
  (document.getElementById("nav-seats") as HTMLAnchorElement).click();
  await settle();
  assert.equal(location.pathname, "/admin/seats");
  assert.equal(FakeEventSource.opened[0].readyState, 2, "leaving the wallboard closes its stream");
  assert.ok(document.getElementById("seats-read-only"), "seats are read-only for a supervisor");
  assert.equal(document.getElementById("seat-add"), null);
  assert.equal(document.querySelectorAll("#seats-table button").length, 0);
});

test("a 401 from any call goes back to sign-in, and signing in returns to the page asked for", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session("admin") });
  routes["GET /tags"] = () => ({ status: 401, body: { code: "unauthorized", message: "expired", field: null } });
  await openConsole("/admin/tags");
  assert.equal(location.pathname, "/admin/signin");
  assert.ok(document.getElementById("signin-form"));
  assert.match(document.querySelector("#signin-form .form-status")?.textContent ?? "", /session has ended|Сеанс завершён/);

  routes["POST /session"] = () => ({ status: 200, body: session("admin") });
  routes["GET /tags"] = () => ({ status: 200, body: { tags: ["sale"], required: true } });
  (document.getElementById("signin-login") as HTMLInputElement).value = "anna";
  (document.getElementById("signin-password") as HTMLInputElement).value = "a good long password";
  (document.getElementById("signin-form") as HTMLFormElement).requestSubmit();
  await settle();
  assert.equal(location.pathname, "/admin/tags");
  assert.equal((document.getElementById("tags-required") as HTMLInputElement).checked, true);
});

test("without a session every page is the sign-in page", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 401, body: { code: "unauthorized", message: "no session", field: null } });
  await openConsole("/admin/seats");
  assert.equal(location.pathname, "/admin/signin");
  assert.equal(document.querySelector("nav.side"), null);
  // A first visit has had no session to lose: no "your session has ended".
  assert.equal(document.querySelector("#signin-form .form-status")?.textContent ?? "", "");
});

test("the wallboard's durations tick and its stream is opened again after it closes", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session("admin") });
  await openConsole("/admin/wallboard");
  const stream = FakeEventSource.opened[0];
  assert.equal(stream.url, "/admin/api/wallboard/stream");
  stream.push("wallboard", wallboard());
  const duration = document.querySelector<HTMLElement>("#wall-calls tbody tr[data-leg='leg-1'] .ticking");
  assert.ok(duration);
  assert.match(duration.textContent ?? "", /^1:0\d$/);
  assert.equal(document.getElementById("tile-calls")?.querySelector("dd")?.textContent, "1");
  stream.push("wallboard", wallboard({ calls: [] }));
  assert.equal(document.querySelectorAll("#wall-calls tbody tr[data-leg]").length, 0, "an ended call leaves");
  stream.fail();
  assert.match(document.getElementById("wall-live")?.textContent ?? "", /Reconnecting|Переподключение/);
  await new Promise((r) => setTimeout(r, 1200));
  await settle();
  assert.equal(FakeEventSource.opened.length, 2, "a new stream after the first closed");
});

test("the wallboard's full-screen mode hides the frame, and Esc or the button leaves it", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session("supervisor") });
  await openConsole("/admin/wallboard");
  FakeEventSource.opened[0].push("wallboard", wallboard());
  (document.getElementById("wall-full") as HTMLButtonElement).click();
  assert.ok(document.body.classList.contains("wall"), "full screen");
  assert.equal(document.activeElement?.id, "wall-leave", "the way out has the keyboard");
  document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
  assert.ok(!document.body.classList.contains("wall"), "Esc leaves");
  assert.equal(document.activeElement?.id, "wall-full");
  (document.getElementById("wall-full") as HTMLButtonElement).click();
  (document.getElementById("wall-leave") as HTMLButtonElement).click();
  assert.ok(!document.body.classList.contains("wall"), "the button leaves");
  (document.getElementById("wall-full") as HTMLButtonElement).click();
  (document.getElementById("nav-seats") as HTMLAnchorElement | null)?.click();
  await settle();
});
