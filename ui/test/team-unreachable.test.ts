// Issue #15 item 12: when the team server does not answer, an action fails with
// `relay_unreachable` and the dialer, the popup (which words its failures the same way) and the
// link indicator say "the team server is unreachable — dial from your phone", once and plainly.
import { commands } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import { CallsScreen } from "../src/calls";
import { en } from "../src/i18n/en";
import { ru } from "../src/i18n/ru";
import { describe } from "../src/ipc";
import { LinkIndicator } from "../src/link-indicator";

/** What the shell sends when the server did not answer (the core's own sentence as the message). */
const UNREACHABLE = {
  code: "relay_unreachable",
  message: "the team server is unreachable — dial from your phone (it could not be connected to)",
};

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

test("the failure says the team server is unreachable — dial from your phone, once", () => {
  assert.equal(describe(UNREACHABLE), en.errors.relay_unreachable);
  assert.equal((describe(UNREACHABLE).match(/unreachable/g) ?? []).length, 1);
  // Both languages have it.
  assert.match(en.errors.relay_unreachable, /team server is unreachable — dial from your phone/);
  assert.match(ru.errors.relay_unreachable, /Сервер команды недоступен — звоните с телефона/);
});

test("the dialer says it when the dial fails that way, and nothing is dialled again", async () => {
  let dials = 0;
  commands.dial = () => {
    dials += 1;
    throw UNREACHABLE;
  };
  commands.live_calls = () => [];
  const calls = new CallsScreen();
  document.body.replaceChildren(calls.root);
  calls.render();
  const input = document.getElementById("dialer") as HTMLInputElement;
  input.value = "8 921 946-27-61";
  (document.querySelector("form.dialer") as HTMLFormElement).dispatchEvent(
    new Event("submit", { cancelable: true, bubbles: true }),
  );
  await settle();
  const status = document.getElementById("dial-status");
  assert.equal(status?.textContent, en.errors.relay_unreachable);
  assert.ok(status?.classList.contains("error"), "it reads as a failure");
  assert.equal(dials, 1, "the dial was sent once");
  delete commands.dial;
});

test("the link indicator shows it when an action finds the team server unreachable", async () => {
  const indicator = new LinkIndicator(() => true);
  document.body.replaceChildren(indicator.root);
  indicator.set("connected");
  assert.equal(indicator.root.textContent, en.linkTeamConnected);
  commands.hang_up = () => {
    throw UNREACHABLE;
  };
  const { api } = await import("../src/ipc");
  await api.hangUp("leg-1").catch(() => undefined);
  await settle();
  assert.equal(indicator.root.textContent, en.linkTeamUnreachable);
  assert.ok(indicator.root.classList.contains("unreachable"), indicator.root.className);
  // The link's next report (it came back) is the indicator's word again.
  indicator.set("connected");
  assert.equal(indicator.root.textContent, en.linkTeamConnected);
  // A link that is down says the same in team mode.
  indicator.set("reconnecting");
  assert.equal(indicator.root.textContent, en.linkTeamUnreachable);
  delete commands.hang_up;
});

test("an action the team server answers again puts the link's own word back", async () => {
  const indicator = new LinkIndicator(() => true);
  document.body.replaceChildren(indicator.root);
  indicator.set("connected");
  const { api } = await import("../src/ipc");
  commands.dial = () => {
    throw UNREACHABLE;
  };
  await api.dial("89219462761").catch(() => undefined);
  assert.equal(indicator.root.textContent, en.linkTeamUnreachable);
  // The server answers again (the link never noticed it was gone): the indicator says so.
  commands.dial = () => ({ number: "+7 921 946-27-61", leg: "leg-2" });
  await api.dial("89219462761");
  assert.equal(indicator.root.textContent, en.linkTeamConnected);
  assert.ok(indicator.root.classList.contains("connected"), indicator.root.className);
  delete commands.dial;
});
