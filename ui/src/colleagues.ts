// Team mode's colleagues: the Team panel (each colleague's presence and availability, a call to
// them, the current call transferred to them), the operator's own availability switch in the
// header, and the order the transfer picker offers workplaces in (free first, busy marked).
import type { Availability } from "./bindings/Availability";
import type { Colleague } from "./bindings/Colleague";
import type { Presence } from "./bindings/Presence";
import type { Workplace } from "./bindings/Workplace";
import { h, replace } from "./dom";
import { t } from "./i18n";
import { api, describe } from "./ipc";
import { StatusLine } from "./widgets/status";

/** The call a transfer from the Team panel moves. */
export interface CurrentCall {
  leg: string;
}

/** What a colleague's row or a transfer option says about whether they can take a call. */
export type Readiness = "free" | "unknown" | "unavailable" | "busy";

/** Free and available first; a workplace nobody's app describes next; then unavailable; busy last. */
export function readiness(colleague: Pick<Colleague, "presence" | "availability"> | undefined): Readiness {
  if (!colleague) return "unknown";
  if (colleague.presence !== "free") return "busy";
  if (colleague.availability !== "available") return "unavailable";
  return "free";
}

const RANK: Record<Readiness, number> = { free: 0, unknown: 1, unavailable: 2, busy: 3 };

/** One entry of the transfer picker. */
export interface TransferChoice {
  /** Whom it names: the colleague's or the workplace's name, else the SIP ID. */
  label: string;
  /** The SIP ID shown under the name, when there is a name. */
  detail: string | null;
  /** What the transfer dials. */
  target: string;
  readiness: Readiness;
  /** Why a colleague cannot take it now (talking, on a break…), or null. */
  mark: string | null;
}

/** The picker's workplaces (mine left out), free colleagues first and busy ones last and marked. */
export function transferChoices(workplaces: Workplace[], colleagues: Colleague[]): TransferChoice[] {
  const bySip = new Map<string, Colleague>();
  for (const c of colleagues) if (!c.me) bySip.set(c.workplace, c);
  const choices = workplaces
    .filter((w) => !w.mine)
    .map((w): TransferChoice => {
      const colleague = bySip.get(w.sipId);
      const name = colleague?.name || w.name;
      const state = readiness(colleague);
      return {
        label: name || w.sipId,
        detail: name ? w.sipId : null,
        target: w.sipId,
        readiness: state,
        mark: colleague && state !== "free" ? markOf(colleague) : null,
      };
    });
  return choices
    .map((choice, index) => ({ choice, index }))
    .sort((a, b) => RANK[a.choice.readiness] - RANK[b.choice.readiness] || a.index - b.index)
    .map(({ choice }) => choice);
}

function markOf(c: Pick<Colleague, "presence" | "availability">): string {
  return c.presence !== "free" ? presenceWord(c.presence) : availabilityWord(c.availability);
}

export function presenceWord(p: Presence): string {
  return t.presence[p];
}

export function availabilityWord(a: Availability): string {
  return t.availability[a];
}

/** The colleagues (not me) in the panel's order: by readiness, then by name. */
export function panelOrder(colleagues: Colleague[]): Colleague[] {
  return colleagues
    .filter((c) => !c.me)
    .sort((a, b) => RANK[readiness(a)] - RANK[readiness(b)] || a.name.localeCompare(b.name));
}

/** The Team panel: colleagues with their presence and availability, a call or a transfer to each. */
export class TeamPanel {
  readonly root: HTMLElement;
  private readonly title = h("h2", { id: "team-title" });
  private readonly list = h("ul", { class: "team-list", "aria-labelledby": "team-title" });
  private readonly status = new StatusLine({ id: "team-status" });
  private colleagues: Colleague[] = [];

  /**
   * `dial` puts a colleague's workplace in the dialer and dials; `current` is the call a transfer
   * would move (mine, live), if any.
   */
  constructor(
    private readonly dial: (target: string) => void,
    private readonly current: () => CurrentCall | null,
  ) {
    this.root = h("section", { class: "screen team" }, this.title, this.list, this.status.root);
  }

  /** Reads the colleagues again (team mode only). */
  async load(): Promise<void> {
    try {
      this.colleagues = await api.colleagues();
      this.render();
    } catch (e) {
      this.status.fail(describe(e));
    }
  }

  /** Everyone, as last read (this seat included). */
  all(): Colleague[] {
    return this.colleagues;
  }

  /** A colleague changed: their row follows. */
  update(colleague: Colleague): void {
    const at = this.colleagues.findIndex((c) => c.seat === colleague.seat);
    if (at >= 0) this.colleagues[at] = colleague;
    else this.colleagues.push(colleague);
    this.render();
  }

  render(): void {
    this.title.textContent = t.teamTitle;
    const shown = panelOrder(this.colleagues);
    if (shown.length === 0) {
      replace(this.list, h("li", { class: "empty", text: t.teamNoColleagues }));
      return;
    }
    const call = this.current();
    replace(this.list, ...shown.map((c) => this.row(c, call)));
  }

  private row(c: Colleague, call: CurrentCall | null): HTMLElement {
    const state = readiness(c);
    const callButton = h("button", { type: "button", text: t.teamCall });
    callButton.addEventListener("click", () => this.dial(c.workplace));
    const transferButton = h("button", { type: "button", text: t.teamTransfer });
    transferButton.disabled = call === null;
    transferButton.addEventListener("click", () => {
      const now = this.current();
      if (!now) return;
      api
        .transfer(now.leg, c.workplace)
        .then(() => this.status.say(t.teamTransferred(c.name)))
        .catch((e) => this.status.fail(describe(e)));
    });
    return h(
      "li",
      { class: `colleague ${state}`, "data-seat": String(c.seat) },
      h("span", { class: "colleague-name", text: c.name }),
      h("span", { class: "colleague-workplace", text: c.workplace }),
      h("span", { class: `badge presence ${c.presence}`, text: presenceWord(c.presence) }),
      h("span", { class: `badge availability ${c.availability}`, text: availabilityWord(c.availability) }),
      h("span", { class: "actions" }, callButton, transferButton),
    );
  }
}

/** The operator's own availability in the header (team mode only). */
export class AvailabilitySwitch {
  readonly root: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly label = h("label", { for: "my-availability", class: "visually-hidden" });
  private now: Availability | null = null;

  constructor(private readonly report: (message: string) => void) {
    this.select = h("select", { id: "my-availability" });
    this.select.addEventListener("change", () => {
      const chosen = this.select.value as Availability;
      api
        .setAvailability(chosen)
        .then((now) => this.show(now))
        .catch((e) => {
          this.report(describe(e));
          this.show(this.now);
        });
    });
    this.root = h("span", { class: "my-availability" }, this.label, this.select);
    this.root.hidden = true;
  }

  /** Shows `now` (null: not in a team, the switch hides). Offline reads as such, not settable. */
  show(now: Availability | null): void {
    this.now = now;
    this.root.hidden = now === null;
    this.render();
  }

  render(): void {
    this.label.textContent = t.availabilityLabel;
    const choices: Availability[] = ["available", "break", "away"];
    if (this.now === "offline") choices.push("offline");
    replace(
      this.select,
      ...choices.map((a) => {
        const option = h("option", { value: a, text: availabilityWord(a) });
        if (a === "offline") option.disabled = true;
        return option;
      }),
    );
    if (this.now) this.select.value = this.now;
  }
}
