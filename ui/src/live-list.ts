// The Calls screen's list of calls live now. Each call event patches its call's row: a row is
// made once per leg, its words, classes and buttons are changed in place, and rows are added
// and removed one by one. Rebuilding the list on every event lost the keyboard's place (Hang up
// or Transfer focused while a call rang) and the mouse's selection, and cost the web thread the
// popup shares (issue #14 items 13 and 16).
import type { LiveCall } from "./bindings/LiveCall";
import { h } from "./dom";
import { clock } from "./format";
import { t } from "./i18n";

/** A call as the list shows it. */
export interface ShownCall {
  call: LiveCall;
  missed: boolean;
}

/** What the row's buttons do: the Calls screen gives these (they talk to the shell). */
export interface RowActions {
  hangUp(leg: string): Promise<void>;
  transfer(call: LiveCall): void;
  failed(error: unknown): void;
}

/** One call's row and the parts of it that change. */
interface Row {
  shown: ShownCall;
  li: HTMLLIElement;
  number: HTMLElement;
  name: HTMLElement;
  direction: HTMLElement;
  badge: HTMLElement;
  /** Whose a colleague's call is (a supervisor sees the team's calls); hidden on my own. */
  whose: HTMLElement;
  phase: HTMLElement;
  timer: HTMLElement;
  transfer: HTMLButtonElement;
  hangUp: HTMLButtonElement;
  /** A hang-up was asked for and not refused: the button stays off until the call ends. */
  hangingUp: boolean;
}

export class LiveCallList {
  readonly root: HTMLUListElement;
  private readonly rows = new Map<string, Row>();
  private readonly empty: HTMLLIElement;

  constructor(private readonly actions: RowActions) {
    this.root = h("ul", { class: "live-calls", "aria-labelledby": "active-calls-title" });
    this.empty = h("li", { class: "empty" });
  }

  /**
   * Brings the list in line with `calls`: mine first, then the newest. Rows of calls no longer
   * there go, new calls get a row, the rest are patched where they stand (which also says them
   * in a newly chosen language); only a row out of order is moved, and the focus goes back to
   * where it was if a move took it.
   */
  show(calls: Iterable<ShownCall>): void {
    const wanted = [...calls].sort(
      (a, b) => Number(b.call.mine) - Number(a.call.mine) || b.call.startedAtMs - a.call.startedAtMs,
    );
    const focused = document.activeElement;
    const keep = new Set(wanted.map((s) => s.call.leg));
    for (const [leg, row] of this.rows) {
      if (!keep.has(leg)) {
        row.li.remove();
        this.rows.delete(leg);
      }
    }
    this.empty.textContent = t.noActiveCalls;
    if (wanted.length === 0) {
      if (this.root.firstChild !== this.empty || this.root.childNodes.length !== 1) this.root.replaceChildren(this.empty);
      return;
    }
    this.empty.remove();
    let at: ChildNode | null = this.root.firstChild;
    for (const shown of wanted) {
      let row = this.rows.get(shown.call.leg);
      if (row) {
        row.shown = shown;
        this.patch(row);
      } else {
        row = this.make(shown);
        this.rows.set(shown.call.leg, row);
      }
      if (row.li === at) at = at.nextSibling;
      else this.root.insertBefore(row.li, at);
    }
    if (focused instanceof HTMLElement && focused !== document.activeElement && focused.isConnected) {
      focused.focus();
    }
  }

  /** Moves the talking calls' timers on. */
  tick(): void {
    for (const row of this.rows.values()) {
      if (row.shown.call.phase === "connected") setText(row.timer, clock(elapsed(row.shown.call)));
    }
  }

  private make(shown: ShownCall): Row {
    const row: Row = {
      shown,
      li: h("li", { "data-leg": shown.call.leg }),
      number: h("span", { class: "number" }),
      name: h("span", { class: "name" }),
      direction: h("span", { class: "direction" }),
      badge: h("span", { class: "badge" }),
      whose: h("span", { class: "whose" }),
      phase: h("span"),
      timer: h("span", { class: "timer" }),
      transfer: h("button", { type: "button" }),
      hangUp: h("button", { type: "button", class: "danger" }),
      hangingUp: false,
    };
    row.hangUp.addEventListener("click", () => {
      row.hangingUp = true;
      row.hangUp.disabled = true;
      this.actions.hangUp(row.shown.call.leg).catch((e) => {
        row.hangingUp = false;
        row.hangUp.disabled = row.shown.call.phase === "ended";
        this.actions.failed(e);
      });
    });
    row.transfer.addEventListener("click", () => this.actions.transfer(row.shown.call));
    row.li.append(
      h("div", { class: "who" }, row.number, row.name, row.direction, row.badge, row.whose),
      h("div", { class: "state" }, row.phase, row.timer),
      h("div", { class: "actions" }, row.transfer, row.hangUp),
    );
    this.patch(row);
    return row;
  }

  /** Sets what changed, and only that: an unchanged text keeps its node (and any selection in it). */
  private patch(row: Row): void {
    const { call, missed } = row.shown;
    setClass(row.li, `live-call${call.mine ? " mine" : ""} ${call.phase}`);
    setText(row.number, call.number ?? t.unknownNumber);
    setText(row.name, call.name ?? "");
    row.name.hidden = !call.name;
    setText(row.direction, call.direction === "outgoing" ? t.outgoing : t.incoming);
    setText(row.badge, t.mine);
    row.badge.hidden = !call.mine;
    // Text only: the workplace's name comes from the directory.
    const whose = !call.mine && call.whoseWorkplace ? t.whose(call.whoseName, call.whoseWorkplace) : "";
    setText(row.whose, whose);
    setAttr(row.whose, "title", t.whoseLabel);
    row.whose.hidden = !whose;
    setClass(row.phase, `phase phase-${call.phase}${missed ? " missed" : ""}`);
    setText(row.phase, phaseText(call, missed));
    setAttr(row.timer, "aria-label", t.phaseConnected);
    if (call.phase === "connected") setText(row.timer, clock(elapsed(call)));
    else if (call.phase === "ended" && call.durationSecs !== null) setText(row.timer, clock(call.durationSecs));
    else setText(row.timer, "");
    const live = call.phase !== "ended";
    setText(row.transfer, t.transfer);
    setText(row.hangUp, t.hangUp);
    if (row.transfer.disabled !== !live) row.transfer.disabled = !live;
    const hangUpOff = !live || row.hangingUp;
    if (row.hangUp.disabled !== hangUpOff) row.hangUp.disabled = hangUpOff;
  }
}

function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

function setClass(el: HTMLElement, name: string): void {
  if (el.className !== name) el.className = name;
}

function setAttr(el: HTMLElement, name: string, value: string): void {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

function elapsed(call: LiveCall): number {
  return (Date.now() - (call.connectedAtMs ?? call.startedAtMs)) / 1000;
}

function phaseText(call: LiveCall, missed: boolean): string {
  switch (call.phase) {
    case "pickUp":
      // Only my own click-to-call rings my phone; a colleague's rings theirs.
      return call.mine ? t.phasePickUp : t.phasePickUpColleague;
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
