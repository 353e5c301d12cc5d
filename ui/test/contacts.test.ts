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
