// The transfer picker, shared by the Calls screen and the popup: the account's workplaces with a
// search box that also takes a typed number; in team mode, free colleagues first and busy ones
// last and marked (colleagues.ts orders them).
import type { Colleague } from "./bindings/Colleague";
import type { Workplace } from "./bindings/Workplace";
import { type TransferChoice, transferChoices } from "./colleagues";
import { h, replace } from "./dom";
import { t } from "./i18n";
import { api, describe } from "./ipc";

/** What the transfer picker needs of a call. */
export interface Transferable {
  leg: string;
  number: string | null;
}

/** The transfer picker: the account's workplaces with a search box that also takes a number. */
export class TransferDialog {
  readonly root: HTMLDialogElement;
  private readonly title: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly options: HTMLElement;
  private readonly cancel: HTMLButtonElement;
  private workplaces: Workplace[] = [];
  private colleagues: Colleague[] = [];
  private call: Transferable | null = null;
  private report: (message: string) => void = () => {};
  private done: () => void = () => {};

  constructor() {
    this.title = h("h2", { id: "transfer-title" });
    this.search = h("input", {
      id: "transfer-search",
      type: "search",
      autocomplete: "off",
      spellcheck: "false",
    });
    this.options = h("ul", { class: "transfer-options", "aria-labelledby": "transfer-title" });
    this.cancel = h("button", { type: "button" });
    this.cancel.addEventListener("click", () => this.root.close());
    const form = h(
      "form",
      { method: "dialog" },
      this.title,
      h("label", { for: "transfer-search", class: "visually-hidden", id: "transfer-search-label" }),
      this.search,
      this.options,
      h("div", { class: "dialog-actions" }, this.cancel),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const first = this.options.querySelector("button");
      if (first) first.click();
    });
    this.search.addEventListener("input", () => this.renderOptions());
    this.root = h("dialog", { class: "transfer", "aria-labelledby": "transfer-title" }, form);
  }

  async open(call: Transferable, report: (message: string) => void, done: () => void = () => {}): Promise<void> {
    this.call = call;
    this.report = report;
    this.done = done;
    this.title.textContent = t.transferTitle(call.number ?? t.unknownNumber);
    this.search.placeholder = t.transferSearch;
    const label = this.root.querySelector("#transfer-search-label");
    if (label) label.textContent = t.transferSearch;
    this.cancel.textContent = t.cancel;
    this.search.value = "";
    this.workplaces = [];
    this.colleagues = [];
    this.renderOptions();
    this.root.showModal();
    this.search.focus();
    // Outside a team there are no colleagues: the workplaces come in the directory's order.
    const colleagues = api.colleagues().catch(() => []);
    try {
      this.workplaces = (await api.workplaces()).filter((w) => !w.mine);
      this.colleagues = await colleagues;
      this.renderOptions();
    } catch (e) {
      this.report(describe(e));
    }
  }

  /** A colleague changed while the picker is open: the order and marks follow. */
  colleagueChanged(colleague: Colleague): void {
    const at = this.colleagues.findIndex((c) => c.seat === colleague.seat);
    if (at < 0) return;
    this.colleagues[at] = colleague;
    if (this.root.open) this.renderOptions();
  }

  private renderOptions(): void {
    const needle = this.search.value.trim().toLowerCase();
    const matches = transferChoices(this.workplaces, this.colleagues).filter(
      (w) => !needle || w.label.toLowerCase().includes(needle) || w.target.includes(needle),
    );
    const items: HTMLElement[] = matches.map((w) => this.option(w.label, w.detail, w.target, w));
    // A typed number is offered too, after the workplaces it matches, so Enter still picks a
    // colleague first and a call can still go outside the workplace list.
    if (/\d{3,}/.test(needle) && !matches.some((w) => w.target === needle)) {
      items.push(this.option(t.transferTo(this.search.value.trim()), null, this.search.value.trim()));
    }
    if (items.length === 0) {
      replace(this.options, h("li", { class: "empty", text: t.noWorkplaces }));
    } else {
      replace(this.options, ...items);
    }
  }

  private option(label: string, detail: string | null, target: string, choice?: TransferChoice): HTMLElement {
    const button = h(
      "button",
      { type: "button", class: `option ${choice?.readiness ?? ""}`.trim() },
      h("span", { class: "option-name", text: label }),
      detail ? h("span", { class: "option-detail", text: detail }) : null,
      choice?.mark ? h("span", { class: "option-mark", text: choice.mark }) : null,
    );
    button.addEventListener("click", () => {
      const call = this.call;
      this.root.close();
      if (!call) return;
      api
        .transfer(call.leg, target)
        .then(() => this.done())
        .catch((e) => this.report(describe(e)));
    });
    return h("li", {}, button);
  }
}
