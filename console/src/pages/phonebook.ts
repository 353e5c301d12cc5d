// The team phonebook: the list (filtered as you type), add, edit and delete a contact, and import
// a CSV or vCard file (all or nothing; the lines the relay skipped are listed with their reason).
import { del, get, post, put, request } from "../api";
import type { Page } from "../app";
import type { ConsoleContactSaved } from "../bindings/ConsoleContactSaved";
import type { ConsoleImportResult } from "../bindings/ConsoleImportResult";
import type { ConsolePhonebook } from "../bindings/ConsolePhonebook";
import type { TeamContact } from "../bindings/TeamContact";
import type { TeamContactDraft } from "../bindings/TeamContactDraft";
import { cancelButton, openDialog } from "../dialog";
import { button, h, replace, row, scroller, table } from "../dom";
import { describe, Form, input, select } from "../forms";
import { phone, when } from "../format";
import { t } from "../i18n";

/** What a person typed into the contact form, as the relay takes it. */
export function draftOf(form: Form): TeamContactDraft {
  const opt = (name: string) => form.value(name).trim() || undefined;
  return {
    name: form.value("name").trim(),
    company: opt("company"),
    numbers: form
      .value("numbers")
      .split(/\n|,|;/)
      .map((n) => n.trim())
      .filter(Boolean),
    manager: opt("manager"),
    notes: opt("notes"),
  };
}

function contactDialog(contact: TeamContact | null): Promise<boolean> {
  return new Promise((resolve) => {
    let saved = false;
    const form = new Form("contact-form", async () => {
      if (!form.requireFilled("name", "numbers")) return;
      const draft = draftOf(form);
      if (contact) await put<ConsoleContactSaved>(`/phonebook/${contact.id}`, draft);
      else await post<ConsoleContactSaved>("/phonebook", draft);
      saved = true;
      close();
    });
    const name = form.field("name", t.phoneName, input("text", { id: "contact-name", autocomplete: "off" }));
    const company = form.field("company", t.phoneCompany, input("text", { id: "contact-company", autocomplete: "off" }));
    const numbers = form.field("numbers", t.phoneNumbers, h("textarea", { id: "contact-numbers", rows: "3", spellcheck: false }));
    const manager = form.field("manager", t.phoneManager, input("text", { id: "contact-manager", spellcheck: false }));
    const notes = form.field("notes", t.phoneNotes, h("textarea", { id: "contact-notes", rows: "3" }));
    if (contact) {
      name.value = contact.name;
      company.value = contact.company ?? "";
      numbers.value = contact.numbers.join("\n");
      manager.value = contact.manager ?? "";
      notes.value = contact.notes ?? "";
    }
    const { close, closed } = openDialog(contact ? t.phoneEditTitle : t.phoneAddTitle, form.root, "contact-dialog");
    form.buttons(t.save, cancelButton(close));
    name.focus();
    void closed.then(() => resolve(saved));
  });
}

function deleteDialog(contact: TeamContact): Promise<boolean> {
  return new Promise((resolve) => {
    let deleted = false;
    const form = new Form("contact-delete", async () => {
      await del(`/phonebook/${contact.id}`);
      deleted = true;
      close();
    });
    form.add(h("p", { class: "hint", text: t.phoneDeleteHint }));
    const { close, closed } = openDialog(t.phoneDeleteTitle(contact.name), form.root, "delete-dialog");
    const yes = form.buttons(t.remove, cancelButton(close));
    yes.className = "danger";
    (form.root.querySelector("button[type=button]") as HTMLButtonElement | null)?.focus();
    void closed.then(() => resolve(deleted));
  });
}

export function phonebookPage(): Page {
  let contacts: TeamContact[] = [];
  const grid = table("phonebook", [t.colName, t.colCompany, t.colNumbers, t.colManager, t.colNotes, t.colUpdated, t.colActions], { id: "phonebook-table", "aria-label": t.pagePhonebook });
  const search = input("search", { id: "phone-search", "aria-label": t.phoneSearch, placeholder: t.phoneSearch });
  const count = h("span", { class: "muted", id: "phone-count" });
  const status = h("p", { class: "form-status", role: "status" });
  const failed = (e: unknown) => {
    status.textContent = describe(e);
    status.className = "form-status error";
  };

  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const digits = q.replace(/\D/g, "");
    const shown = contacts.filter(
      (c) => !q || c.name.toLowerCase().includes(q) || (c.company ?? "").toLowerCase().includes(q) || (digits.length >= 3 && c.numbers.some((n) => n.replace(/\D/g, "").includes(digits))),
    );
    count.textContent = t.phoneCount(contacts.length);
    if (!shown.length) {
      replace(grid.body, h("tr", {}, h("td", { colspan: "7", class: "empty", text: contacts.length ? t.phoneNoMatch : t.phoneEmpty })));
      return;
    }
    replace(
      grid.body,
      ...shown.map((c) =>
        row(
          [
            h("bdi", { class: "name", text: c.name }),
            h("bdi", { text: c.company ?? "" }),
            h("span", { class: "numbers" }, ...c.numbers.map((n) => h("bdi", { class: "number", text: phone(n) }))),
            c.manager ?? "",
            h("span", { class: "notes", text: c.notes ?? "" }),
            when(c.updatedAt),
            h(
              "div",
              { class: "row-actions" },
              button(t.edit, () => void contactDialog(c).then((ok) => (ok ? load() : undefined)), { class: "small", "aria-label": `${t.edit}: ${c.name}` }),
              button(t.remove, () => void deleteDialog(c).then((ok) => (ok ? load() : undefined)), { class: "small danger", "aria-label": `${t.remove}: ${c.name}` }),
            ),
          ],
          { "data-contact": String(c.id) },
        ),
      ),
    );
  };
  const load = async () => {
    try {
      contacts = (await get<ConsolePhonebook>("/phonebook")).contacts;
      draw();
    } catch (e) {
      failed(e);
    }
  };
  search.addEventListener("input", draw);

  // Import: the file is read here and sent as the request's body, in the format chosen (guessed
  // from its name until the person picks one).
  const outcome = h("div", { id: "import-outcome" });
  const importForm = new Form("import-form", async () => {
    const file = (importForm.control("file") as HTMLInputElement).files?.[0];
    if (!file) {
      importForm.fieldError("file", t.phoneImportNoFile);
      return;
    }
    const format = importForm.value("format");
    const text = await file.text();
    const result = await request<ConsoleImportResult>("POST", `/phonebook/import?format=${format}`, undefined, {
      raw: text,
      contentType: format === "vcard" ? "text/vcard; charset=utf-8" : "text/csv; charset=utf-8",
    });
    replace(
      outcome,
      h("p", { class: "form-status ok", role: "status", text: t.phoneImported(result.added, result.updated) }),
      result.skipped.length ? h("ul", { class: "skipped" }, ...result.skipped.map((s) => h("li", { text: t.phoneSkipped(s.line, s.reason) }))) : null,
    );
    await load();
  });
  const file = importForm.field("file", t.phoneImportFile, input("file", { id: "import-file", accept: ".csv,.vcf,.vcard,text/csv,text/vcard" })) as HTMLInputElement;
  const format = importForm.field("format", t.phoneImportFormat, select([["csv", t.phoneImportCsv], ["vcard", t.phoneImportVcard]], "csv", "import-format"));
  file.addEventListener("change", () => {
    const name = file.files?.[0]?.name.toLowerCase() ?? "";
    if (name.endsWith(".vcf") || name.endsWith(".vcard")) format.value = "vcard";
    else if (name.endsWith(".csv")) format.value = "csv";
  });
  importForm.buttons(t.phoneImport);

  void load();
  return {
    root: h(
      "div",
      { class: "stack" },
      h("div", { class: "toolbar" }, search, count, h("span", { class: "spacer" }), button(t.phoneAdd, () => void contactDialog(null).then((ok) => (ok ? load() : undefined)), { class: "primary", id: "contact-add" })),
      status,
      h("div", { class: "card flush" }, scroller({ "aria-label": t.pagePhonebook }, grid.table)),
      h("section", { class: "card", "aria-labelledby": "import-title" }, h("h2", { id: "import-title", text: t.phoneImport }), importForm.root, outcome),
    ),
  };
}
