// The Calls screen: the dialer, the calls live now (with hang-up and transfer), today's card
// (today.ts).
import type { LiveCall } from "./bindings/LiveCall";
import type { Workplace } from "./bindings/Workplace";
import { h, replace } from "./dom";
import { clock } from "./format";
import { t } from "./i18n";
import { api, describe } from "./ipc";
import { TodayCard } from "./today";

/** How long an ended call stays on screen, so the operator sees how it ended. */
const ENDED_LINGER_MS = 6000;

interface Shown {
  call: LiveCall;
  missed: boolean;
}

export class CallsScreen {
  readonly root: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly dialButton: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly list: HTMLElement;
  private readonly todayCard = new TodayCard();
  private readonly dialog: TransferDialog;
  private readonly calls = new Map<string, Shown>();
  private readonly timers = new Map<string, HTMLElement>();

  constructor() {
    this.input = h("input", {
      id: "dialer",
      type: "tel",
      autocomplete: "off",
      spellcheck: "false",
      "aria-describedby": "dial-status dial-hint",
    });
    this.dialButton = h("button", { type: "submit", class: "primary" });
    this.status = h("p", { id: "dial-status", class: "status", role: "status", "aria-live": "polite" });
    const form = h(
      "form",
      { class: "dialer", "aria-labelledby": "dialer-label" },
      h("label", { id: "dialer-label", for: "dialer", class: "visually-hidden" }),
      h("div", { class: "dial-row" }, this.input, this.dialButton),
      h("p", { id: "dial-hint", class: "hint" }),
      this.status,
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.dial(this.input.value);
    });
    this.list = h("ul", { class: "live-calls", "aria-labelledby": "active-calls-title" });
    this.dialog = new TransferDialog();
    this.root = h(
      "section",
      { class: "screen calls" },
      h(
        "div",
        { class: "calls-main" },
        form,
        h("h2", { id: "active-calls-title" }),
        this.list,
      ),
      h("aside", { class: "calls-side" }, this.todayCard.root),
      this.dialog.root,
    );
    setInterval(() => this.tick(), 1000);
  }

  focusDialer(): void {
    this.input.focus();
    this.input.select();
  }

  /** Puts a number in the dialer (call back) and dials it. */
  callBack(raw: string): void {
    this.input.value = raw;
    void this.dial(raw);
  }

  async load(): Promise<void> {
    try {
      const calls = await api.liveCalls();
      this.calls.clear();
      for (const call of calls) this.calls.set(call.leg, { call, missed: false });
      this.renderCalls();
    } catch (e) {
      this.showError(describe(e));
    }
    await this.loadToday();
  }

  async loadToday(): Promise<void> {
    await this.todayCard.load();
  }

  /** A call started, changed or ended. */
  update(call: LiveCall, missed: boolean): void {
    this.calls.set(call.leg, { call, missed });
    if (call.phase === "ended") {
      setTimeout(() => {
        const shown = this.calls.get(call.leg);
        if (shown && shown.call.phase === "ended") {
          this.calls.delete(call.leg);
          this.renderCalls();
        }
      }, ENDED_LINGER_MS);
      void this.loadToday();
    }
    this.renderCalls();
  }

  render(): void {
    const label = this.root.querySelector("#dialer-label");
    if (label) label.textContent = t.dialerLabel;
    this.input.placeholder = t.dialerPlaceholder;
    this.dialButton.textContent = t.dial;
    const hint = this.root.querySelector("#dial-hint");
    if (hint) hint.textContent = t.dialerHint;
    const title = this.root.querySelector("#active-calls-title");
    if (title) title.textContent = t.activeCalls;
    // The last dial's message was in the previous language; it would read oddly now.
    this.status.textContent = "";
    this.renderCalls();
    void this.loadToday();
  }

  private async dial(input: string): Promise<void> {
    if (!input.trim()) {
      this.input.focus();
      return;
    }
    this.dialButton.disabled = true;
    this.status.className = "status";
    this.status.textContent = t.dialling;
    try {
      const dialled = await api.dial(input);
      this.status.textContent = t.dialled(dialled.number);
    } catch (e) {
      this.showError(describe(e));
      this.input.focus();
    } finally {
      this.dialButton.disabled = false;
    }
  }

  private showError(message: string): void {
    this.status.className = "status error";
    this.status.textContent = message;
  }

  private renderCalls(): void {
    this.timers.clear();
    const shown = [...this.calls.values()].sort(
      (a, b) => Number(b.call.mine) - Number(a.call.mine) || b.call.startedAtMs - a.call.startedAtMs,
    );
    if (shown.length === 0) {
      replace(this.list, h("li", { class: "empty", text: t.noActiveCalls }));
      return;
    }
    replace(this.list, ...shown.map((s) => this.callRow(s)));
  }

  private callRow({ call, missed }: Shown): HTMLElement {
    const who = call.number ?? t.unknownNumber;
    const phase = h("span", { class: `phase phase-${call.phase}${missed ? " missed" : ""}` });
    phase.textContent = phaseText(call, missed);
    const timer = h("span", { class: "timer", "aria-label": t.phaseConnected });
    if (call.phase === "connected") {
      this.timers.set(call.leg, timer);
      timer.textContent = clock(elapsed(call));
    } else if (call.phase === "ended" && call.durationSecs !== null) {
      timer.textContent = clock(call.durationSecs);
    }
    const live = call.phase !== "ended";
    const hangUp = h("button", { type: "button", class: "danger", text: t.hangUp, disabled: !live });
    hangUp.addEventListener("click", () => {
      hangUp.disabled = true;
      api.hangUp(call.leg).catch((e) => {
        hangUp.disabled = false;
        this.showError(describe(e));
      });
    });
    const transfer = h("button", { type: "button", text: t.transfer, disabled: !live });
    transfer.addEventListener("click", () => {
      this.dialog.open(call, (message) => this.showError(message));
    });
    return h(
      "li",
      { class: `live-call${call.mine ? " mine" : ""} ${call.phase}`, "data-leg": call.leg },
      h(
        "div",
        { class: "who" },
        h("span", { class: "number", text: who }),
        call.name ? h("span", { class: "name", text: call.name }) : null,
        h("span", {
          class: "direction",
          text: call.direction === "outgoing" ? t.outgoing : t.incoming,
        }),
        call.mine ? h("span", { class: "badge", text: t.mine }) : null,
      ),
      h("div", { class: "state" }, phase, timer),
      h("div", { class: "actions" }, transfer, hangUp),
    );
  }

  private tick(): void {
    for (const [leg, el] of this.timers) {
      const shown = this.calls.get(leg);
      if (shown) el.textContent = clock(elapsed(shown.call));
    }
  }
}

function elapsed(call: LiveCall): number {
  return (Date.now() - (call.connectedAtMs ?? call.startedAtMs)) / 1000;
}

function phaseText(call: LiveCall, missed: boolean): string {
  switch (call.phase) {
    case "pickUp":
      return t.phasePickUp;
    case "calling":
      return t.phaseCalling(call.number ?? t.unknownNumber);
    case "ringing":
      return call.direction === "incoming" ? t.phaseRingingIn : t.phaseRinging;
    case "connected":
      return t.phaseConnected;
    case "ended":
      return missed ? t.phaseMissed : t.phaseEnded;
  }
}

/** The transfer picker: the account's workplaces with a search box that also takes a number. */
class TransferDialog {
  readonly root: HTMLDialogElement;
  private readonly title: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly options: HTMLElement;
  private readonly cancel: HTMLButtonElement;
  private workplaces: Workplace[] = [];
  private call: LiveCall | null = null;
  private report: (message: string) => void = () => {};

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

  async open(call: LiveCall, report: (message: string) => void): Promise<void> {
    this.call = call;
    this.report = report;
    this.title.textContent = t.transferTitle(call.number ?? t.unknownNumber);
    this.search.placeholder = t.transferSearch;
    const label = this.root.querySelector("#transfer-search-label");
    if (label) label.textContent = t.transferSearch;
    this.cancel.textContent = t.cancel;
    this.search.value = "";
    this.workplaces = [];
    this.renderOptions();
    this.root.showModal();
    this.search.focus();
    try {
      this.workplaces = (await api.workplaces()).filter((w) => !w.mine);
      this.renderOptions();
    } catch (e) {
      this.report(describe(e));
    }
  }

  private renderOptions(): void {
    const needle = this.search.value.trim().toLowerCase();
    const matches = this.workplaces.filter(
      (w) => !needle || w.name.toLowerCase().includes(needle) || w.sipId.includes(needle),
    );
    const items: HTMLElement[] = matches.map((w) =>
      this.option(w.name || w.sipId, w.name ? w.sipId : null, w.sipId),
    );
    // A typed number is offered too, after the workplaces it matches, so Enter still picks a
    // colleague first and a call can still go outside the workplace list.
    if (/\d{3,}/.test(needle) && !matches.some((w) => w.sipId === needle)) {
      items.push(this.option(t.transferTo(this.search.value.trim()), null, this.search.value.trim()));
    }
    if (items.length === 0) {
      replace(this.options, h("li", { class: "empty", text: t.noWorkplaces }));
    } else {
      replace(this.options, ...items);
    }
  }

  private option(label: string, detail: string | null, target: string): HTMLElement {
    const button = h(
      "button",
      { type: "button", class: "option" },
      h("span", { class: "option-name", text: label }),
      detail ? h("span", { class: "option-detail", text: detail }) : null,
    );
    button.addEventListener("click", () => {
      const call = this.call;
      this.root.close();
      if (!call) return;
      api.transfer(call.leg, target).catch((e) => this.report(describe(e)));
    });
    return h("li", {}, button);
  }
}
