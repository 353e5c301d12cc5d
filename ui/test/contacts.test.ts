// The Contacts screen in team mode (issue #16 item 4): a team contact is marked as the team's,
// and an operator gets no edit or delete for it; their own contacts, and a supervisor's team
// contacts, keep both.
import { commands } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContactRow } from "../src/bindings/ContactRow";
import { ContactsScreen } from "../src/contacts";

function contact(id: number, name: string, team: boolean, readOnly: boolean): ContactRow {
  return {
    id,
    name,
    company: null,
    numbers: [{ number: "+7 921 946-27-61", raw: "89219462761" }],
    managerSipId: null,
    notes: null,
    team,
    readOnly,
  };
}

async function shown(rows: ContactRow[]): Promise<ContactsScreen> {
  commands.contacts = () => rows;
  commands.workplaces = () => [];
  const screen = new ContactsScreen();
  document.body.replaceChildren(screen.root);
  screen.render();
  await screen.reload();
  return screen;
}

function row(id: number): HTMLElement {
  const tr = document.querySelector(`tr.contact[data-id="${id}"]`);
  assert.ok(tr, `a row for contact ${id}`);
  return tr as HTMLElement;
}

test("an operator sees a team contact marked and without edit or delete", async () => {
  await shown([contact(1, "Иван (команда)", true, true), contact(2, "Мой клиент", false, false)]);
  const team = row(1);
  assert.ok(team.classList.contains("team-contact"));
  assert.ok(team.querySelector(".team-badge"), "the team's mark");
  assert.equal(team.querySelector("button.contact-edit"), null);
  assert.equal(team.querySelector("button.contact-delete"), null);
  const own = row(2);
  assert.equal(own.querySelector(".team-badge"), null);
  assert.ok(own.querySelector("button.contact-edit"));
  assert.ok(own.querySelector("button.contact-delete"));
});

test("a supervisor may edit and delete a team contact", async () => {
  await shown([contact(3, "Иван (команда)", true, false)]);
  const team = row(3);
  assert.ok(team.querySelector(".team-badge"));
  assert.ok(team.querySelector("button.contact-edit"));
  assert.ok(team.querySelector("button.contact-delete"));
});

test("a supervisor's new contact may go to the team phonebook; an operator's never", async () => {
  let sent: unknown = null;
  commands.add_contact = (args) => {
    sent = (args as { contact: unknown }).contact;
    return contact(9, "Новый", true, false);
  };
  for (const [role, offered] of [["supervisor", true], ["operator", false]] as const) {
    commands.team = () => ({ state: "joined", host: "team.example.com", seat: "S", role, workplace: null, joinedAtMs: null });
    await shown([]);
    (document.querySelector("#contact-add") as HTMLButtonElement).click();
    const field = document.querySelector("#contact-team")?.closest(".field") as HTMLElement;
    assert.equal(!field.hidden, offered, `${role}: the team choice`);
    if (!offered) continue;
    (document.querySelector("#contact-name") as HTMLInputElement).value = "Новый";
    (document.querySelector("#contact-team") as HTMLInputElement).checked = true;
    document.querySelector("form.contact-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal((sent as { team?: boolean } | null)?.team, true);
  }
  delete commands.team;
});

test("a team phonebook change reloads the shown list with its search and scroll, and a hidden one not", async () => {
  const asked: unknown[] = [];
  let rows = [contact(1, "Иван Петров", true, true)];
  const screen = await shown(rows);
  commands.contacts = (args) => {
    asked.push((args as { search?: string }).search);
    return rows;
  };
  const search = document.querySelector("#contacts-search") as HTMLInputElement;
  search.value = "Иван";
  const scroller = document.scrollingElement as HTMLElement;
  scroller.scrollTop = 120;

  rows = [contact(1, "Иван Сергеевич", true, true), contact(2, "Иван Новый", true, true)];
  await screen.teamPhonebookChanged();
  assert.deepEqual(asked, ["Иван"], "read again once, as searched");
  assert.equal(row(1).querySelector(".contact-name")?.textContent, "Иван Сергеевич");
  assert.ok(row(2), "the new contact is listed");
  assert.equal(search.value, "Иван", "the search text is kept");
  assert.equal(scroller.scrollTop, 120, "the list stays where it was scrolled to");

  // Another screen is shown: the list is read when the operator comes back, not now.
  const panel = document.createElement("div");
  panel.hidden = true;
  document.body.replaceChildren(panel);
  panel.append(screen.root);
  await screen.teamPhonebookChanged();
  assert.deepEqual(asked, ["Иван"], "a hidden screen reads nothing");
});
