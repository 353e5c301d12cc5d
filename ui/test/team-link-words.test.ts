// In team mode the events come from the team's server, not from the PBX: the header's link
// indicator and Settings' box about the link speak of the team server (they said "PBX events:
// live"), in both languages; personal mode keeps its words. Found by the team e2e world.
import { commands } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import { setLang, t } from "../src/i18n";
import { en } from "../src/i18n/en";
import { ru } from "../src/i18n/ru";
import { LinkIndicator } from "../src/link-indicator";
import { SettingsScreen } from "../src/settings";

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

test("the link indicator speaks of the team server in team mode and of the PBX otherwise", () => {
  for (const lang of ["en", "ru"] as const) {
    setLang(lang);
    const team = new LinkIndicator(() => true);
    team.set("connected");
    assert.equal(team.root.textContent, t.linkTeamConnected);
    assert.doesNotMatch(team.root.textContent ?? "", /PBX|АТС/);
    team.set("refused");
    assert.doesNotMatch(team.root.textContent ?? "", /PBX|АТС/);
    const personal = new LinkIndicator(() => false);
    personal.set("connected");
    assert.equal(personal.root.textContent, t.linkConnected);
  }
  assert.match(en.linkTeamConnected, /team server/i);
  assert.match(ru.linkTeamConnected, /Сервер команды/);
  setLang("en");
});

test("Settings' box about the link names the team server in team mode", async () => {
  for (const [lang, joined] of [
    ["en", true],
    ["ru", true],
    ["en", false],
  ] as const) {
    setLang(lang);
    commands.team = () =>
      joined
        ? { state: "joined", host: "127.0.0.1:8443", seat: "Анна", role: "operator", workplace: "883140582526566" }
        : { state: "none" };
    commands.link_status = () => ({ state: "connected", reason: null });
    const settings = new SettingsScreen(
      () => undefined,
      () => undefined,
    );
    document.body.replaceChildren(settings.root);
    await settings.load();
    await settle();
    const title = document.getElementById("settings-link-title")?.textContent ?? "";
    const state = document.getElementById("settings-link-state")?.textContent ?? "";
    if (joined) {
      assert.equal(title, t.setLinkTitleTeam, lang);
      assert.equal(state, t.linkTeamConnected, lang);
      assert.doesNotMatch(`${title} ${state}`, /PBX|АТС/, lang);
    } else {
      assert.equal(title, t.setLinkTitle);
      assert.equal(state, t.linkConnected);
    }
  }
  setLang("en");
  delete commands.team;
  delete commands.link_status;
});
