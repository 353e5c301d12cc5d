// Settings' Team section speaks the interface's language, the seat's role included: a Russian
// window said "Роль: operator" (issue #15 item 8, found by the team e2e world's screenshots).
import { commands } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import { setLang } from "../src/i18n";
import { TeamSection } from "../src/team";

test("the seat's role is a word of the window's language", async () => {
  for (const [lang, role, expected] of [
    ["ru", "operator", "Роль: оператор"],
    ["ru", "supervisor", "Роль: руководитель"],
    ["ru", "admin", "Роль: администратор"],
    ["en", "supervisor", "Role: supervisor"],
    // A role this app does not know yet (a newer server) shows as the server wrote it.
    ["en", "auditor", "Role: auditor"],
  ] as const) {
    setLang(lang);
    commands.team = () => ({
      state: "joined",
      host: "team.example.ru",
      seat: "Анна",
      role,
      workplace: "883140582526566",
    });
    const section = new TeamSection();
    document.body.replaceChildren(section.root);
    await section.load();
    assert.equal(document.getElementById("settings-team-role")?.textContent, expected);
  }
  setLang("en");
  delete commands.team;
});
