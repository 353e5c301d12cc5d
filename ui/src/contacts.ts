// The Contacts screen: the phonebook listed and searched, a contact added or edited in a
// dialog (its personal manager picked from the workplaces), deleted after a confirmation,
// imported from a CSV or vCard file read here and sent to the core, exported as CSV. Every name,
// company, number and note is external text and is set as text only.
import "./screens.css";
import type { ContactDraft } from "./bindings/ContactDraft";
import type { ContactRow } from "./bindings/ContactRow";
import type { ImportFormat } from "./bindings/ImportFormat";
import type { ImportOutcome } from "./bindings/ImportOutcome";
import type { Workplace } from "./bindings/Workplace";
import { h, replace, setHeader } from "./dom";
import { t } from "./i18n";
import { api, describe, errorCode } from "./ipc";
import { ConfirmDialog } from "./widgets/confirm";
import { StatusLine } from "./widgets/status";

const SEARCH_DELAY_MS = 250;
/** The listing's cap, as `commands::contacts::LIST_LIMIT`. */
const LIST_LIMIT = 500;
const MAX_IMPORT_BYTES = 20 * 1024 * 1024;

export class ContactsScreen {
  readonly root: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly addButton: HTMLButtonElement;
  private readonly importInput: HTMLInputElement;
  private readonly importLabel: HTMLLabelElement;
  private readonly exportButton: HTMLButtonElement;
  private readonly status = new StatusLine({ id: "contacts-status" });
  private readonly importPanel: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly body: HTMLTableSectionElement;
  private readonly editor: ContactDialog;
  private readonly confirm: ConfirmDialog;
  private contacts: ContactRow[] = [];
  private workplaces: Workplace[] = [];
  /** This seat may add to the team phonebook (a supervisor or an admin of a team). */
  private teamEditor = false;
  private generation = 0;
  private searchTimer: number | undefined;
  private lastImport: { file: string; outcome: ImportOutcome | null } | null = null;

  constructor() {
    this.search = h("input", {
      id: "contacts-search",
      type: "search",
      autocomplete: "off",
      spellcheck: "false",
    });
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = window.setTimeout(() => void this.reload(), SEARCH_DELAY_MS);
    });
    this.addButton = h("button", { type: "button", id: "contact-add", class: "primary" });
    this.addButton.addEventListener("click", () => this.editor.open(null, this.workplaces, this.teamEditor));
    // The file input sits inside its label, which looks and focuses like a button: the
    // operator tabs to it and presses Enter or Space to pick a file.
    this.importInput = h("input", {
      id: "contacts-import-file",
      type: "file",
      class: "file-input",
      accept: ".csv,.vcf,.vcard,text/csv,text/vcard,text/x-vcard",
    });
    this.importInput.addEventListener("change", () => void this.importFile());
    this.importLabel = h("label", { class: "button", for: "contacts-import-file" });
    this.exportButton = h("button", { type: "button", id: "contacts-export" });
    this.exportButton.addEventListener("click", () => void this.exportAll());
    this.importPanel = h("section", { id: "contacts-import", class: "card import-panel", hidden: true });
    this.body = h("tbody");
    this.table = h("table", { class: "history contacts", id: "contacts-table" }, h("thead"), this.body);
    this.editor = new ContactDialog((row) => {
      this.say(t.saved(row.name || row.numbers[0]?.number || ""));
      void this.reload();
    });
    this.confirm = new ConfirmDialog("delete-confirm");
    this.root = h(
      "section",
      { class: "screen contacts-screen" },
      h(
        "div",
        { class: "toolbar" },
        h("label", { for: "contacts-search", class: "visually-hidden", id: "contacts-search-label" }),
        this.search,
        this.addButton,
        this.importInput,
        this.importLabel,
        this.exportButton,
      ),
      this.status.root,
      this.importPanel,
      this.table,
      this.editor.root,
      this.confirm.root,
    );
  }

  focus(): void {
    this.search.focus();
  }

  render(): void {
    const label = this.root.querySelector("#contacts-search-label");
    if (label) label.textContent = t.contactsSearchLabel;
    this.search.placeholder = t.contactsSearchPlaceholder;
    this.addButton.textContent = t.contactAdd;
    this.importLabel.textContent = t.contactsImport;
    this.exportButton.textContent = t.contactsExport;
    setHeader(this.table, [t.colName, t.colNumbers, t.colManager, t.colActions]);
    this.renderImport();
    this.renderRows();
  }

  /** Reads the list again (the search changed, or a contact was saved or deleted). */
  async reload(): Promise<void> {
    const generation = ++this.generation;
    const search = this.search.value.trim();
    if (search.length > 0 && search.length < 3) {
      this.say(t.searchTooShort);
      return;
    }
    try {
      const [contacts, workplaces, team] = await Promise.all([
        api.contacts(search || undefined),
        this.workplaces.length > 0 ? Promise.resolve(this.workplaces) : api.workplaces().catch(() => []),
        api.team().catch(() => null),
      ]);
      if (generation !== this.generation) return;
      this.contacts = contacts;
      this.workplaces = workplaces;
      this.teamEditor = team?.state === "joined" && (team.role === "supervisor" || team.role === "admin");
      // The limit's note replaces an old error or note; a fresh "saved" or "deleted" stays.
      const note = contacts.length >= LIST_LIMIT ? t.contactsLimit(LIST_LIMIT) : "";
      const shown = this.status.text;
      if (note || this.status.isError || shown === t.searchTooShort || shown === t.contactsLimit(LIST_LIMIT)) {
        this.say(note);
      }
      this.renderRows();
    } catch (e) {
      if (generation !== this.generation) return;
      this.say(describe(e), errorCode(e) !== "search_too_short");
    }
  }

  /** The team phonebook's copy changed under the list (an edit elsewhere reached this app): while
   * the screen is shown, reads the list again as it is searched now, where it is scrolled to. */
  async teamPhonebookChanged(): Promise<void> {
    if (!this.root.isConnected || this.root.closest("[hidden]")) return;
    const scroller = document.scrollingElement;
    const top = scroller?.scrollTop ?? 0;
    await this.reload();
    // A list of the same length keeps its place anyway; a shorter one would have pulled the
    // page up while it was replaced.
    if (scroller && scroller.scrollTop !== top) scroller.scrollTop = top;
  }

  private say(message: string, error = false): void {
    this.status.say(message, error);
  }

  private managerName(sipId: string | null): string {
    if (!sipId) return "—";
    const workplace = this.workplaces.find((w) => w.sipId === sipId);
    return workplace?.name ? `${workplace.name} (${sipId})` : sipId;
  }

  private renderRows(): void {
    if (this.contacts.length === 0) {
      replace(this.body, h("tr", {}, h("td", { colspan: 4, class: "empty", text: t.contactsEmpty })));
      return;
    }
    replace(this.body, ...this.contacts.map((c) => this.row(c)));
  }

  private row(c: ContactRow): HTMLElement {
    const label = c.name || c.company || c.numbers[0]?.number || "—";
    const edit = h("button", { type: "button", class: "contact-edit", text: t.edit, "aria-label": t.editLabel(label) });
    edit.addEventListener("click", () => this.editor.open(c, this.workplaces));
    const remove = h("button", {
      type: "button",
      class: "danger contact-delete",
      text: t.remove,
      "aria-label": t.removeLabel(label),
    });
    remove.addEventListener("click", async () => {
      const question = { title: t.removeConfirm(label), text: t.removeHint, yes: t.remove, tone: "danger", focus: "no" } as const;
      if (!(await this.confirm.ask(question))) {
        remove.focus();
        return;
      }
      try {
        await api.deleteContact(c.id);
        this.say(t.removed(label));
        await this.reload();
        this.search.focus();
      } catch (e) {
        this.say(describe(e), true);
      }
    });
    const actions = c.readOnly ? [] : [edit, remove];
    return h(
      "tr",
      { class: c.team ? "contact team-contact" : "contact", "data-id": c.id },
      h(
        "td",
        { class: "peer" },
        h(
          "div",
          { class: "who" },
          h("span", { class: "name contact-name", text: c.name }),
          c.company ? h("span", { class: "company", text: c.company }) : null,
          c.team ? h("span", { class: "team-badge", text: t.teamContact, title: c.readOnly ? t.teamContactReadOnly : t.teamContactEditable }) : null,
        ),
        c.notes ? h("div", { class: "notes", text: c.notes }) : null,
      ),
      h(
        "td",
        { class: "numbers" },
        h("ul", { class: "number-list" }, ...c.numbers.map((n) => h("li", { class: "number", text: n.number }))),
      ),
      h("td", { class: "manager", text: this.managerName(c.managerSipId) }),
      h("td", {}, h("div", { class: "actions" }, ...actions)),
    );
  }

  private async importFile(): Promise<void> {
    const file = this.importInput.files?.[0];
    this.importInput.value = "";
    if (!file) return;
    if (file.size > MAX_IMPORT_BYTES) {
      this.say(t.importTooBig, true);
      return;
    }
    const format: ImportFormat = /\.(vcf|vcard)$/i.test(file.name) || file.type.includes("vcard") ? "vcard" : "csv";
    this.lastImport = { file: file.name, outcome: null };
    this.renderImport();
    this.importLabel.classList.add("busy");
    this.importInput.disabled = true;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      this.lastImport.outcome = await api.importContacts(format, bytes);
      this.renderImport();
      await this.reload();
    } catch (e) {
      this.lastImport = null;
      this.renderImport();
      this.say(describe(e), true);
    } finally {
      this.importLabel.classList.remove("busy");
      this.importInput.disabled = false;
    }
  }

  /** The import panel: a busy bar while the core reads the file, then the counts and every
   * refused line with its reason. */
  private renderImport(): void {
    const state = this.lastImport;
    this.importPanel.hidden = state === null;
    if (!state) return;
    if (!state.outcome) {
      replace(
        this.importPanel,
        h("p", { class: "import-title", id: "contacts-import-title", text: t.importing(state.file) }),
        h("progress", { class: "import-progress", "aria-labelledby": "contacts-import-title" }),
      );
      return;
    }
    const o = state.outcome;
    const summary = h("p", {
      class: "import-title",
      id: "contacts-import-summary",
      role: "status",
      text: t.importDone(o.added, o.updated, o.problems.length),
    });
    const close = h("button", { type: "button", class: "quiet import-close", text: t.close });
    close.addEventListener("click", () => {
      this.lastImport = null;
      this.renderImport();
      this.importLabel.focus();
    });
    const problems =
      o.problems.length === 0
        ? null
        : h(
            "div",
            { class: "import-problems" },
            h("h3", { id: "contacts-import-problems-title", text: t.importProblems }),
            h(
              "ol",
              { id: "contacts-import-report", "aria-labelledby": "contacts-import-problems-title" },
              ...o.problems.map((p) =>
                h(
                  "li",
                  { class: "import-problem", "data-line": p.line },
                  h("span", { class: "line", text: t.importLine(p.line) }),
                  h("span", { class: "reason", text: p.message }),
                ),
              ),
            ),
          );
    replace(this.importPanel, h("div", { class: "import-head" }, summary, close), problems);
  }

  private async exportAll(): Promise<void> {
    this.exportButton.disabled = true;
    try {
      const saved = await api.exportContacts();
      this.say(t.exportedContacts(saved.rows, saved.path));
    } catch (e) {
      this.say(describe(e), true);
    } finally {
      this.exportButton.disabled = false;
    }
  }
}

/** The add/edit dialog. */
class ContactDialog {
  readonly root: HTMLDialogElement;
  private readonly title: HTMLElement;
  private readonly name: HTMLInputElement;
  private readonly company: HTMLInputElement;
  private readonly numbers: HTMLTextAreaElement;
  private readonly manager: HTMLSelectElement;
  private readonly notes: HTMLTextAreaElement;
  private readonly team: HTMLInputElement;
  private readonly teamField: HTMLElement;
  private readonly error = new StatusLine({ id: "contact-error", role: "alert" });
  private readonly saveButton: HTMLButtonElement;
  private readonly cancel: HTMLButtonElement;
  private editing: ContactRow | null = null;
  private opener: HTMLElement | null = null;

  constructor(private readonly onSaved: (row: ContactRow) => void) {
    this.title = h("h2", { id: "contact-dialog-title" });
    this.name = h("input", { id: "contact-name", type: "text", autocomplete: "off" });
    this.company = h("input", { id: "contact-company", type: "text", autocomplete: "off" });
    this.numbers = h("textarea", { id: "contact-numbers", rows: 3, spellcheck: "false" });
    this.manager = h("select", { id: "contact-manager" });
    this.notes = h("textarea", { id: "contact-notes", rows: 3 });
    this.team = h("input", { id: "contact-team", type: "checkbox" });
    this.teamField = h("div", { class: "field check", hidden: true }, this.team, h("label", { for: "contact-team", id: "contact-team-label" }));
    this.saveButton = h("button", { type: "submit", class: "primary", id: "contact-save" });
    this.cancel = h("button", { type: "button", id: "contact-cancel" });
    this.cancel.addEventListener("click", () => this.close());
    const field = (input: HTMLElement, id: string) =>
      h("div", { class: "field" }, h("label", { for: id, id: `${id}-label` }), input);
    const form = h(
      "form",
      { class: "contact-form" },
      this.title,
      field(this.name, "contact-name"),
      field(this.company, "contact-company"),
      field(this.numbers, "contact-numbers"),
      field(this.manager, "contact-manager"),
      field(this.notes, "contact-notes"),
      this.teamField,
      this.error.root,
      h("div", { class: "dialog-actions" }, this.cancel, this.saveButton),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.save();
    });
    this.root = h(
      "dialog",
      { class: "transfer contact-dialog", id: "contact-dialog", "aria-labelledby": "contact-dialog-title" },
      form,
    );
    this.root.addEventListener("close", () => this.opener?.focus());
  }

  /** Opens the dialog; `teamEditor`: this seat may add to the team phonebook (a new contact). */
  open(contact: ContactRow | null, workplaces: Workplace[], teamEditor = false): void {
    this.editing = contact;
    this.opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.title.textContent = contact ? t.contactEdit : t.contactNew;
    const labels: [string, string][] = [
      ["contact-name", t.fieldName],
      ["contact-company", t.fieldCompany],
      ["contact-numbers", t.fieldNumbers],
      ["contact-manager", t.fieldManager],
      ["contact-notes", t.fieldNotes],
      ["contact-team", t.fieldTeam],
    ];
    for (const [id, text] of labels) {
      const label = this.root.querySelector(`#${id}-label`);
      if (label) label.textContent = text;
    }
    this.saveButton.textContent = t.save;
    this.cancel.textContent = t.cancel;
    this.name.value = contact?.name ?? "";
    this.company.value = contact?.company ?? "";
    this.numbers.value = contact ? contact.numbers.map((n) => n.raw).join("\n") : "";
    this.notes.value = contact?.notes ?? "";
    this.teamField.hidden = contact !== null || !teamEditor;
    this.team.checked = false;
    const current = contact?.managerSipId ?? "";
    const options = [h("option", { value: "", text: t.managerNone })];
    for (const w of workplaces) {
      options.push(h("option", { value: w.sipId, text: w.name ? `${w.name} (${w.sipId})` : w.sipId }));
    }
    // A manager that is no longer among the workplaces stays selectable, so saving keeps it.
    if (current && !workplaces.some((w) => w.sipId === current)) {
      options.push(h("option", { value: current, text: current }));
    }
    replace(this.manager, ...options);
    this.manager.value = current;
    this.error.clear();
    this.saveButton.disabled = false;
    this.root.showModal();
    this.name.focus();
  }

  private close(): void {
    this.root.close();
  }

  private async save(): Promise<void> {
    const draft: ContactDraft = {
      name: this.name.value.trim(),
      company: this.company.value.trim() || undefined,
      numbers: this.numbers.value
        .split(/\n/)
        .map((n) => n.trim())
        .filter((n) => n.length > 0),
      managerSipId: this.manager.value || undefined,
      notes: this.notes.value.trim() || undefined,
      team: !this.editing && !this.teamField.hidden && this.team.checked ? true : undefined,
    };
    this.saveButton.disabled = true;
    this.error.clear();
    try {
      const row = this.editing ? await api.updateContact(this.editing.id, draft) : await api.addContact(draft);
      this.close();
      this.onSaved(row);
    } catch (e) {
      this.error.fail(describe(e));
      this.name.focus();
    } finally {
      this.saveButton.disabled = false;
    }
  }
}
