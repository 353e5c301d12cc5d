// Team mode's colleagues (issue #16 item 6): the transfer picker offers free colleagues first and
// marks the busy ones; the Team panel shows each colleague's presence and availability and
// follows their changes.
import "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Colleague } from "../src/bindings/Colleague";
import type { Workplace } from "../src/bindings/Workplace";
import { commands } from "./dom";
import { panelOrder, TeamPanel, transferChoices } from "../src/colleagues";
import { setLang } from "../src/i18n";

function workplace(sipId: string, name: string, mine = false): Workplace {
  return { sipId, name, mine } as Workplace;
}

function colleague(seat: number, workplace: string, name: string, change: Partial<Colleague> = {}): Colleague {
  return { seat, name, workplace, role: "operator", presence: "free", availability: "available", me: false, ...change };
}

test("the transfer picker offers free colleagues first and busy ones last, marked", () => {
  setLang("en");
  const workplaces = [
    workplace("101", "Anna"),
    workplace("102", "Boris"),
    workplace("103", "Vera"),
    workplace("104", "Reception"),
    workplace("100", "Me", true),
  ];
  const colleagues = [
    colleague(1, "101", "Anna", { presence: "talking" }),
    colleague(2, "102", "Boris", { availability: "break" }),
    colleague(3, "103", "Vera"),
    colleague(9, "100", "Me", { me: true }),
  ];
  const choices = transferChoices(workplaces, colleagues);
  assert.deepEqual(
    choices.map((c) => [c.target, c.readiness, c.mark]),
    [
      ["103", "free", null],
      ["104", "unknown", null],
      ["102", "unavailable", "On a break"],
      ["101", "busy", "Talking"],
    ],
  );
  // Outside a team (no colleagues) the directory's order stands.
  assert.deepEqual(
    transferChoices(workplaces, []).map((c) => c.target),
    ["101", "102", "103", "104"],
  );
});

test("the transfer picker's options carry the mark", async () => {
  setLang("en");
  commands.workplaces = () => [workplace("101", "Anna"), workplace("103", "Vera")];
  commands.colleagues = () => [colleague(1, "101", "Anna", { presence: "talking" }), colleague(3, "103", "Vera")];
  const { TransferDialog } = await import("../src/transfer");
  const dialog = new TransferDialog();
  document.body.replaceChildren(dialog.root);
  (dialog.root as HTMLDialogElement & { showModal(): void }).showModal = () => {};
  await dialog.open({ leg: "leg-1", number: "+7 921 946-27-61" }, (m) => assert.fail(m));
  const names = [...dialog.root.querySelectorAll(".option .option-name")].map((e) => e.textContent);
  assert.deepEqual(names, ["Vera", "Anna"]);
  const busy = dialog.root.querySelector(".option.busy .option-mark");
  assert.equal(busy?.textContent, "Talking");
  delete commands.workplaces;
  delete commands.colleagues;
});

test("the Team panel shows presence and availability and follows a colleague's change", async () => {
  setLang("en");
  commands.colleagues = () => [
    colleague(1, "101", "Anna"),
    colleague(2, "102", "Boris"),
    colleague(9, "100", "Me", { me: true }),
  ];
  const dialled: string[] = [];
  const panel = new TeamPanel((target) => dialled.push(target), () => null);
  document.body.replaceChildren(panel.root);
  await panel.load();
  const row = (seat: number) => panel.root.querySelector(`li[data-seat="${seat}"]`) as HTMLElement;
  assert.equal(panel.root.querySelectorAll("li.colleague").length, 2, "not me");
  assert.equal(row(2).querySelector(".badge.presence")?.textContent, "Free");
  assert.equal(row(2).querySelector(".badge.availability")?.textContent, "Available");
  panel.update(colleague(2, "102", "Boris", { presence: "talking" }));
  assert.equal(row(2).querySelector(".badge.presence")?.textContent, "Talking");
  assert.ok(row(2).classList.contains("busy"));
  // Busy colleagues go last.
  assert.deepEqual(
    [...panel.root.querySelectorAll("li.colleague .colleague-name")].map((e) => e.textContent),
    ["Anna", "Boris"],
  );
  // No call of mine to transfer: Transfer is off; Call dials the workplace.
  const [call, transfer] = [...row(1).querySelectorAll("button")] as HTMLButtonElement[];
  assert.ok(transfer?.disabled);
  call?.click();
  assert.deepEqual(dialled, ["101"]);
  setLang("ru");
  panel.render();
  assert.equal(row(2).querySelector(".badge.presence")?.textContent, "Разговор");
  setLang("en");
  delete commands.colleagues;
});

test("the panel's order: ready colleagues first, then by name", () => {
  const order = panelOrder([
    colleague(1, "1", "Vera", { availability: "offline" }),
    colleague(2, "2", "Boris"),
    colleague(3, "3", "Anna"),
    colleague(4, "4", "Gleb", { presence: "ringing" }),
  ]).map((c) => c.name);
  assert.deepEqual(order, ["Anna", "Boris", "Vera", "Gleb"]);
});
