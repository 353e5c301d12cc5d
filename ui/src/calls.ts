// The Calls screen: the dialer, the calls live now (with hang-up and transfer), today's card
// (today.ts). The dialer's status line follows the call it started, phase by phase, and goes
// away when that call ends.
import type { Dialled } from "./bindings/Dialled";
import type { LiveCall } from "./bindings/LiveCall";
import { h } from "./dom";
import { t } from "./i18n";
import { api, describe } from "./ipc";
import { LiveCallList, type ShownCall } from "./live-list";
import { DialSuggestions, rememberNumber } from "./suggest";
import { TransferDialog } from "./transfer";
import type { Colleague } from "./bindings/Colleague";
import type { DialRequest } from "./bindings/DialRequest";
import { TodayCard } from "./today";
import { ConfirmDialog } from "./widgets/confirm";
import { StatusLine } from "./widgets/status";

/** How long an ended call stays on screen, so the operator sees how it ended. */
const ENDED_LINGER_MS = 6000;
/** How long the dialer waits for the PBX to report the call it placed before it stops saying
 * "your phone rings first": the PBX gives up ringing the operator after a minute. */
const FOLLOW_GIVE_UP_MS = 90_000;
/** Calls that start or end within this much of each other refresh the Today card once. */
const TODAY_REFRESH_MS = 300;

/** The call the dialer placed, which its status line follows. */
interface Followed {
  /** The number as a person reads it (from the dial's answer). */
  number: string;
  /** Its last ten digits, to know the call among the live ones. */
  digits: string;
  /** The id makeCall answered, in case the PBX reports the call under it. */
  placed: string;
  /** The live leg, once known. */
  leg: string | null;
  /** Legs that were live before the dial: none of them is this call. */
  known: Set<string>;
  /** Its latest phase, to say again in another language. */
  phase: LiveCall["phase"] | null;
  giveUp: number;
}

/** The last ten digits: what a number reads as whatever the prefix (`+7`, `8`, none). */
function tail(number: string | null): string {
  return (number ?? "").replace(/\D/g, "").slice(-10);
}

export class CallsScreen {
  readonly root: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly dialButton: HTMLButtonElement;
  private readonly status = new StatusLine({ id: "dial-status" });
  private readonly list: LiveCallList;
  private readonly todayCard = new TodayCard();
  private readonly dialog: TransferDialog;
  private readonly suggestions: DialSuggestions;
  /** A number from a link, the hotkey or the tray waits here for the operator's word. */
  private readonly confirm = new ConfirmDialog("dial-confirm");
  private readonly calls = new Map<string, ShownCall>();
  private followed: Followed | null = null;
  private todayTimer: number | null = null;

  /** `team` says whether the app is a team's seat: then the Today card counts my calls only. */
  constructor(private readonly team: () => boolean = () => false) {
    this.input = h("input", {
      id: "dialer",
      type: "tel",
      autocomplete: "off",
      spellcheck: "false",
      "aria-describedby": "dial-status dial-hint",
    });
    this.dialButton = h("button", { type: "submit", class: "primary" });
    this.suggestions = new DialSuggestions(this.input);
    const form = h(
      "form",
      { class: "dialer", "aria-labelledby": "dialer-label" },
      h("label", { id: "dialer-label", for: "dialer", class: "visually-hidden" }),
      h("div", { class: "dial-row" }, h("div", { class: "dial-input" }, this.input, this.suggestions.root), this.dialButton),
      h("p", { id: "dial-hint", class: "hint" }),
      this.status.root,
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.suggestions.close();
      void this.dial(this.input.value);
    });
    this.dialog = new TransferDialog();
    this.list = new LiveCallList({
      hangUp: (leg) => api.hangUp(leg),
      transfer: (call) => void this.dialog.open(call, (message) => this.showError(message)),
      failed: (e) => this.showError(describe(e)),
    });
    this.root = h(
      "section",
      { class: "screen calls" },
      h(
        "div",
        { class: "calls-main" },
        form,
        h("h2", { id: "active-calls-title" }),
        this.list.root,
      ),
      h("aside", { class: "calls-side" }, this.todayCard.root),
      this.dialog.root,
      this.confirm.root,
    );
    setInterval(() => this.list.tick(), 1000);
  }

  focusDialer(): void {
    this.input.focus();
    this.input.select();
  }

  /** A number from outside the window: fill the dialer, and ask before dialling if told to. */
  fill(request: DialRequest): void {
    this.input.value = request.number;
    this.suggestions.close();
    this.focusDialer();
    if (!(request.confirm && request.number.trim())) {
      this.confirm.withdraw();
      return;
    }
    // Cancel has the focus: the window comes up while the operator may be typing elsewhere, and
    // a stray Enter or Space must not dial. Dialling takes a click on Call (or Tab, then Enter).
    const question = { title: t.confirmDial(request.readable || request.number), yes: t.dial, tone: "primary", focus: "no" } as const;
    void this.confirm.ask(question).then((yes) => {
      if (yes) void this.dial(this.input.value);
      else this.input.focus();
    });
  }

  /** My call in conversation now (the newest), which the Team panel may transfer. */
  currentCall(): { leg: string } | null {
    let current: LiveCall | null = null;
    for (const { call } of this.calls.values()) {
      if (call.mine && call.phase === "connected" && (!current || call.startedAtMs > current.startedAtMs)) current = call;
    }
    return current ? { leg: current.leg } : null;
  }

  /** A colleague changed: an open transfer picker re-orders. */
  colleagueChanged(colleague: Colleague): void {
    this.dialog.colleagueChanged(colleague);
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
      this.refollow();
    } catch (e) {
      this.showError(describe(e));
    }
    await this.loadToday();
  }

  async loadToday(): Promise<void> {
    await this.todayCard.load();
  }

  /**
   * A call started, changed or ended. A late one (it happened while the app was away) updates
   * its row, but once ended it goes at once rather than lingering as if it had just ended.
   */
  update(call: LiveCall, missed: boolean, late: boolean): void {
    if (late && call.phase === "ended") {
      this.calls.delete(call.leg);
      this.follow(call);
      this.refreshToday();
      this.renderCalls();
      return;
    }
    const started = !this.calls.has(call.leg);
    this.calls.set(call.leg, { call, missed });
    this.follow(call);
    // The call log has the call before this event comes, so the card's figures include it.
    if (started) this.refreshToday();
    if (call.phase === "ended") {
      setTimeout(() => {
        const shown = this.calls.get(call.leg);
        if (shown && shown.call.phase === "ended") {
          this.calls.delete(call.leg);
          this.renderCalls();
        }
      }, ENDED_LINGER_MS);
      this.refreshToday();
    }
    this.renderCalls();
  }

  /** Loads the Today card once for a burst of calls starting or ending. */
  private refreshToday(): void {
    if (this.todayTimer !== null) return;
    this.todayTimer = window.setTimeout(() => {
      this.todayTimer = null;
      void this.loadToday();
    }, TODAY_REFRESH_MS);
  }

  /** Starts following the call a dial placed; a call the PBX already reported is found now. */
  private startFollowing(dialled: Dialled, known: Set<string>): void {
    this.stopFollowing();
    const followed: Followed = {
      number: dialled.number,
      digits: tail(dialled.number),
      placed: dialled.leg,
      leg: null,
      known,
      phase: null,
      giveUp: 0,
    };
    followed.giveUp = window.setTimeout(() => {
      if (this.followed === followed && followed.leg === null) {
        this.followed = null;
        this.status.clear();
      }
    }, FOLLOW_GIVE_UP_MS);
    this.followed = followed;
    this.sayFollowed();
    this.refollow();
  }

  private stopFollowing(): void {
    if (this.followed) window.clearTimeout(this.followed.giveUp);
    this.followed = null;
  }

  /** Looks at every live call for the followed one (after a dial's answer, or a reload). */
  private refollow(): void {
    const f = this.followed;
    if (!f) return;
    if (f.leg !== null && !this.calls.has(f.leg)) {
      // A reload no longer has it: it ended while the window was not listening.
      this.stopFollowing();
      this.status.clear();
      return;
    }
    for (const { call } of this.calls.values()) this.follow(call);
  }

  /** Moves the dialer's status along with the call it placed. */
  private follow(call: LiveCall): void {
    const f = this.followed;
    if (!f) return;
    if (f.leg === null) {
      const isIt =
        call.leg === f.placed ||
        (call.direction === "outgoing" && !f.known.has(call.leg) && tail(call.numberRaw ?? call.number) === f.digits);
      if (!isIt) return;
      f.leg = call.leg;
      window.clearTimeout(f.giveUp);
    } else if (call.leg !== f.leg) {
      return;
    }
    f.phase = call.phase;
    if (call.phase === "ended") {
      this.stopFollowing();
      this.status.clear();
      return;
    }
    this.sayFollowed();
  }

  /** The followed call's status in the current language. */
  private sayFollowed(): void {
    const f = this.followed;
    if (!f) return;
    switch (f.phase) {
      case null:
      case "pickUp":
        this.status.say(t.dialled(f.number));
        break;
      case "calling":
      case "ringing":
        this.status.say(t.phaseCalling(f.number));
        break;
      case "connected":
        this.status.say(t.dialConnected(f.number));
        break;
      case "ended":
        this.status.clear();
        break;
    }
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
    // The last dial's message was in the previous language; it would read oddly now. A call
    // being followed says where it stands again, in the new one.
    this.status.clear();
    this.sayFollowed();
    this.renderCalls();
    // The card's words, from the figures it has: the first start loads them once it has painted.
    this.todayCard.render();
  }

  private async dial(input: string): Promise<void> {
    if (!input.trim()) {
      this.input.focus();
      return;
    }
    this.dialButton.disabled = true;
    this.stopFollowing();
    this.status.say(t.dialling);
    // The PBX may report the new call before makeCall's answer arrives: calls live now are not it.
    const known = new Set(this.calls.keys());
    try {
      const dialled = await api.dial(input);
      rememberNumber(input);
      this.startFollowing(dialled, known);
    } catch (e) {
      this.showError(describe(e));
      this.input.focus();
    } finally {
      this.dialButton.disabled = false;
    }
  }

  private showError(message: string): void {
    // The line now reports this failure; the dialled call's progress would overwrite it.
    this.stopFollowing();
    this.status.fail(message);
  }

  /** Whether the app is a team's seat became known (Settings read it): counts again. */
  teamKnown(): void {
    this.renderCalls();
  }

  private renderCalls(): void {
    // In team mode the list also has the colleagues' calls (a supervisor sees them all); the
    // card, like its figures, is about my day.
    const team = this.team();
    this.todayCard.setLive(
      [...this.calls.values()].filter((s) => s.call.phase !== "ended" && (!team || s.call.mine)).length,
    );
    this.list.show(this.calls.values());
  }
}
