// Forms: the relay's refusal lands next to the field its `field` names (marked invalid, focused),
// a refusal naming no field is said above the buttons, and every change carries the session's
// CSRF token while reads do not need it.
import { reset, routes, sent, settle } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import { seat, session } from "./fixtures";
import { openConsole } from "./open";

function type(id: string, value: string): void {
  const el = document.getElementById(id) as HTMLInputElement;
  assert.ok(el, `#${id}`);
  el.value = value;
}

function errorOf(id: string): string {
  const el = document.getElementById(`${id}-error`);
  assert.ok(el, `the error slot of #${id}`);
  return el.hidden ? "" : el.textContent ?? "";
}

test("adding a seat: the relay's error shows next to the field it names", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session() });
  routes["GET /seats"] = () => ({ status: 200, body: { seats: [seat()] } });
  routes["POST /seats"] = () => ({ status: 400, body: { code: "bad_request", message: "workplace 12 is not in the PBX's directory", field: "workplace" } });
  await openConsole("/admin/seats");
  (document.getElementById("seat-add") as HTMLButtonElement).click();
  await settle();
  type("seat-name", "Смирнова Ольга");
  type("seat-workplace", "12");
  (document.getElementById("seat-form") as HTMLFormElement).requestSubmit();
  await settle();
  assert.equal(errorOf("seat-workplace"), "workplace 12 is not in the PBX's directory");
  assert.equal(errorOf("seat-name"), "");
  assert.equal(document.getElementById("seat-workplace")?.getAttribute("aria-invalid"), "true");
  assert.equal(document.activeElement?.id, "seat-workplace");
  const post = sent.find((r) => r.method === "POST" && r.path === "/seats");
  assert.ok(post, "the form was sent");
  assert.deepEqual(post.body, { name: "Смирнова Ольга", workplace: "12", role: "operator" });
  assert.equal(post.headers["X-CSRF-Token"], "csrf-token-1");
});

test("an empty required field is named before anything is sent", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session() });
  routes["GET /seats"] = () => ({ status: 200, body: { seats: [] } });
  await openConsole("/admin/seats");
  (document.getElementById("seat-add") as HTMLButtonElement).click();
  await settle();
  (document.getElementById("seat-form") as HTMLFormElement).requestSubmit();
  await settle();
  assert.notEqual(errorOf("seat-name"), "");
  assert.notEqual(errorOf("seat-workplace"), "");
  assert.equal(sent.filter((r) => r.method === "POST").length, 0);
});

test("a dotted field path finds its field (routing's hours)", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session() });
  const routing = {
    settings: {
      rules: [{ kind: "manager", enabled: true }, { kind: "last_operator", enabled: true, days: 30 }],
      when_busy: "next_rule",
      hours: { mon: "09:00-18:00", tue: "09:00-18:00", wed: "09:00-18:00", thu: "09:00-18:00", fri: "09:00-18:00", sat: "", sun: "", holidays: [] },
      deadline_ms: 4000,
      parking_applied_at: null,
    },
    parked: [],
    timeZone: "Europe/Moscow",
  };
  routes["GET /routing"] = () => ({ status: 200, body: routing });
  routes["GET /routing/journal"] = () => ({ status: 200, body: { decisions: [] } });
  routes["PUT /routing"] = () => ({ status: 400, body: { code: "bad_request", message: "tue: 9-18 is not HH:MM-HH:MM", field: "settings.hours.tue" } });
  await openConsole("/admin/routing");
  const tue = document.querySelector<HTMLInputElement>("input[name='hours.tue']");
  assert.ok(tue);
  tue.value = "9-18";
  (document.getElementById("routing-form") as HTMLFormElement).requestSubmit();
  await settle();
  assert.equal(errorOf(tue.id), "tue: 9-18 is not HH:MM-HH:MM");
  const putReq = sent.find((r) => r.method === "PUT" && r.path === "/routing");
  assert.ok(putReq);
  assert.equal((putReq.body as typeof routing).settings.hours.tue, "9-18");
  assert.equal(putReq.headers["X-CSRF-Token"], "csrf-token-1");
});

test("a wrong password is said above the button, and the sign-in is not a lost session", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 401, body: { code: "unauthorized", message: "no session", field: null } });
  routes["POST /session"] = () => ({ status: 401, body: { code: "unauthorized", message: "the name or password is wrong", field: null } });
  await openConsole("/admin/signin");
  type("signin-login", "anna");
  type("signin-password", "wrong password");
  (document.getElementById("signin-form") as HTMLFormElement).requestSubmit();
  await settle();
  const status = document.querySelector("#signin-form .form-status");
  assert.equal(status?.getAttribute("role"), "alert");
  assert.match(status?.textContent ?? "", /name or password is wrong|Неверное имя/);
  assert.ok(document.getElementById("signin-form"), "still on the sign-in page");
});

test("reads carry no CSRF header; sign out sends it", async () => {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session() });
  routes["GET /seats"] = () => ({ status: 200, body: { seats: [] } });
  routes["DELETE /session"] = () => ({ status: 204 });
  await openConsole("/admin/seats");
  assert.ok(sent.filter((r) => r.method === "GET").every((r) => !("X-CSRF-Token" in r.headers)));
  (document.getElementById("sign-out") as HTMLButtonElement).click();
  await settle();
  const out = sent.find((r) => r.method === "DELETE" && r.path === "/session");
  assert.equal(out?.headers["X-CSRF-Token"], "csrf-token-1");
  assert.ok(document.getElementById("signin-form"), "back at the sign-in page");
});

test("every field of every page has a label (or an accessible name) that points at it", async () => {
  const pages = ["wallboard", "integration", "seats", "routing", "parking", "tags", "phonebook", "audit", "health"];
  for (const page of pages) {
    reset();
    routes["GET /session"] = () => ({ status: 200, body: session() });
    routes["GET /seats"] = () => ({ status: 200, body: { seats: [seat()] } });
    routes["GET /parking"] = () => ({ status: 200, body: { numbers: [{ number: "78005560251", parked: true }] } });
    routes["GET /tags"] = () => ({ status: 200, body: { tags: ["sale"], required: false } });
    routes["GET /phonebook"] = () => ({ status: 200, body: { contacts: [] } });
    routes["GET /audit"] = () => ({ status: 200, body: { entries: [], more: false } });
    await openConsole(`/admin/${page}`);
    if (page === "seats") {
      (document.getElementById("seat-add") as HTMLButtonElement).click();
      await settle();
    }
    for (const control of document.querySelectorAll("input, select, textarea")) {
      const id = control.id;
      const named = control.getAttribute("aria-label") || control.getAttribute("aria-labelledby") || (id && document.querySelector(`label[for="${id}"]`));
      assert.ok(named, `${page}: the ${control.tagName.toLowerCase()} #${id} (${control.getAttribute("name")}) has no label`);
    }
    document.querySelectorAll("dialog").forEach((d) => d.remove());
  }
});
