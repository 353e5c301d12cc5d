// The Today card is about my day: in team mode a supervisor's Calls screen lists every
// colleague's call too, and the card said "2 calls in progress" for one call of mine (the
// figures themselves come from the core, which counts mine in team mode). Personal mode keeps
// counting every call in progress.
import { commands } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LiveCall } from "../src/bindings/LiveCall";
import { CallsScreen } from "../src/calls";
import { en } from "../src/i18n/en";

function call(leg: string, mine: boolean): LiveCall {
  return {
    leg,
    direction: "incoming",
    phase: "connected",
    number: "+7 921 946-27-61",
    numberRaw: null,
    name: null,
    mine,
    whoseName: mine ? null : "Петров Сергей",
    whoseWorkplace: mine ? null : "883140777446532",
    startedAtMs: Date.now() - 60_000,
    connectedAtMs: Date.now() - 30_000,
    durationSecs: null,
  };
}

test("in team mode the Today card counts my calls in progress, not the colleagues'", async () => {
  commands.today = () => ({ calls: 1, answered: 1, missed: 0, talkSecs: 30, hours: [], zone: "Europe/Moscow", zoneOffsetMinutes: 180 });
  commands.live_calls = () => [call("mine", true), call("theirs", false)];
  for (const [team, expected] of [
    [true, en.todayLive(1)],
    [false, en.todayLive(2)],
  ] as const) {
    const calls = new CallsScreen(() => team);
    document.body.replaceChildren(calls.root);
    await calls.load();
    assert.equal(document.getElementById("today-live")?.textContent, expected, `team: ${team}`);
  }
  delete commands.today;
  delete commands.live_calls;
});
