// The History screen: the callback queue (missed numbers nobody has reached since, each with
// Call back), all / missed / incoming / outgoing, search, a date range, pages of 50, CSV export
// of the current filter, call back and the recording player (player.ts).
import type { Callback } from "./bindings/Callback";
import type { FollowUpRow } from "./bindings/FollowUpRow";
import type { HistoryCursor } from "./bindings/HistoryCursor";
import type { HistoryKind } from "./bindings/HistoryKind";
import type { HistoryQuery } from "./bindings/HistoryQuery";
import type { HistoryRow } from "./bindings/HistoryRow";
import type { RoutingDecisionRow } from "./bindings/RoutingDecisionRow";
import { h, replace, setHeader } from "./dom";
import { clock, when } from "./format";
import { t } from "./i18n";
import { api, describe, errorCode } from "./ipc";
import { RecordingPlayer } from "./player";
import { StatusLine } from "./widgets/status";

const KINDS: HistoryKind[] = ["all", "missed", "incoming", "outgoing"];
const SEARCH_DELAY_MS = 250;

export class HistoryScreen {
  readonly root: HTMLElement;
  private readonly filters: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly status = new StatusLine({ id: "history-status" });
  private readonly body: HTMLTableSectionElement;
  private readonly table: HTMLTableElement;
  private readonly more: HTMLButtonElement;
  private readonly from: HTMLInputElement;
  private readonly to: HTMLInputElement;
  private readonly exportButton: HTMLButtonElement;
  private readonly queue: HTMLElement;
  private readonly queueList: HTMLElement;
  private readonly queueTitle: HTMLElement;
  private callbacks: Callback[] = [];
  private followUps: FollowUpRow[] = [];
  private readonly tagFilter: HTMLSelectElement;
  private knownTags: string[] = [];
  /** Open players by leg: kept across re-renders so a playing recording goes on playing. */
  private readonly players = new Map<string, RecordingPlayer>();
  /** Recording links that arrived by event, by leg (a few a day: kept while the window lives). */
  private readonly recordings = new Map<string, string>();
  private kind: HistoryKind = "all";
  private next: HistoryCursor | null = null;
  private rows: HistoryRow[] = [];
  /** Bumped by each new query, so a slow answer to an old one is dropped. */
  private generation = 0;
  private searchTimer: number | undefined;

  constructor(
    private readonly callBack: (raw: string) => void,
    private readonly editNote: (row: HistoryRow) => void = () => {},
  ) {
    this.tagFilter = h("select", { id: "history-tag" });
    this.tagFilter.addEventListener("change", () => void this.reload());
    this.filters = h("div", { class: "segmented", role: "radiogroup" });
    this.search = h("input", {
      id: "history-search",
      type: "search",
      autocomplete: "off",
      spellcheck: "false",
    });
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = window.setTimeout(() => void this.reload(), SEARCH_DELAY_MS);
    });
    this.body = h("tbody");
    this.table = h("table", { class: "history" }, h("thead"), this.body);
    this.more = h("button", { type: "button", class: "more" });
    this.more.addEventListener("click", () => void this.loadMore());
    this.from = h("input", { id: "history-from", type: "date" });
    this.to = h("input", { id: "history-to", type: "date" });
    for (const input of [this.from, this.to]) input.addEventListener("change", () => void this.reload());
    this.exportButton = h("button", { type: "button", id: "history-export" });
    this.exportButton.addEventListener("click", () => void this.exportCsv());
    this.queueTitle = h("h2", { id: "callbacks-title" });
    this.queueList = h("ul", { id: "callbacks-list", class: "callbacks", "aria-labelledby": "callbacks-title" });
    this.queue = h(
      "section",
      { id: "callbacks", class: "callback-queue", "aria-labelledby": "callbacks-title" },
      this.queueTitle,
      this.queueList,
    );
    this.root = h(
      "section",
      { class: "screen history-screen" },
      this.queue,
      h(
        "div",
        { class: "toolbar" },
        this.filters,
        h("label", { for: "history-search", class: "visually-hidden", id: "history-search-label" }),
        this.search,
        h("label", { for: "history-tag", class: "visually-hidden", id: "history-tag-label" }),
        this.tagFilter,
      ),
      h(
        "div",
        { class: "toolbar range" },
        h("label", { for: "history-from", id: "history-from-label" }),
        this.from,
        h("label", { for: "history-to", id: "history-to-label" }),
        this.to,
        h("div", { class: "spacer" }),
        this.exportButton,
      ),
      this.status.root,
      this.table,
      this.more,
    );
  }

  render(): void {
    this.filters.setAttribute("aria-label", t.historyFilter);
    const labels: Record<HistoryKind, string> = {
      all: t.filterAll,
      missed: t.filterMissed,
      incoming: t.filterIncoming,
      outgoing: t.filterOutgoing,
    };
    replace(
      this.filters,
      ...KINDS.map((kind) => {
        const button = h("button", {
          type: "button",
          role: "radio",
          "aria-checked": String(kind === this.kind),
          text: labels[kind],
        });
        button.addEventListener("click", () => {
          this.kind = kind;
          this.render();
          void this.reload();
        });
        return button;
      }),
    );
    this.search.placeholder = t.searchPlaceholder;
    const label = this.root.querySelector("#history-search-label");
    if (label) label.textContent = t.searchLabel;
    setHeader(this.table, [t.colWhen, t.colWho, t.colHow, t.colLength, t.colActions]);
    this.more.textContent = t.more;
    const fromLabel = this.root.querySelector("#history-from-label");
    if (fromLabel) fromLabel.textContent = t.dateFrom;
    const toLabel = this.root.querySelector("#history-to-label");
    if (toLabel) toLabel.textContent = t.dateTo;
    this.exportButton.textContent = t.historyExport;
    const tagLabel = this.root.querySelector("#history-tag-label");
    if (tagLabel) tagLabel.textContent = t.historyTagFilter;
    this.renderTagFilter();
    for (const player of this.players.values()) player.render();
    this.renderQueue();
    this.renderRows();
  }

  /** The request for the current filter, or null (with the reason shown) when the search or
   * the date range cannot be asked. */
  private query(after?: HistoryCursor): HistoryQuery | null {
    const search = this.search.value.trim();
    if (search.length > 0 && search.length < 3) {
      this.say(t.searchTooShort);
      return null;
    }
    // The dates are the operator's calendar days: from the first day's midnight up to the end
    // of the last day, on this computer's clock.
    const day = (input: HTMLInputElement, next: number) => {
      const [y, m, d] = input.value.split("-").map(Number);
      if (!y || !m || !d) return undefined;
      return new Date(y, m - 1, d + next).getTime();
    };
    const fromMs = day(this.from, 0);
    const toMs = day(this.to, 1);
    if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
      this.say(t.dateRangeReversed, true);
      return null;
    }
    const tag = this.tagFilter.value || undefined;
    return { kind: this.kind, search: search || undefined, after, fromMs, toMs, tag };
  }

  private say(message: string, error = false): void {
    this.status.say(message, error);
  }

  /** Reads the callback queue (missed calls and follow-ups) and the tags in use again. */
  async reloadQueue(): Promise<void> {
    try {
      const [callbacks, followUps] = await Promise.all([api.callbacks(), api.followUps()]);
      this.callbacks = callbacks;
      this.followUps = followUps;
      this.renderQueue();
    } catch {
      // The queue is secondary to the list: it stays as it was until the next reload.
    }
    try {
      this.knownTags = (await api.wrapupTags()).tags;
      this.renderTagFilter();
    } catch {
      // The filter keeps the tags it had.
    }
  }

  /** The tag filter's choices: any tag, then the known ones (the chosen one kept). */
  private renderTagFilter(): void {
    const chosen = this.tagFilter.value;
    const tags = chosen && !this.knownTags.includes(chosen) ? [chosen, ...this.knownTags] : this.knownTags;
    replace(
      this.tagFilter,
      h("option", { value: "", text: t.historyAnyTag }),
      ...tags.map((tag) => h("option", { value: tag, text: tag })),
    );
    this.tagFilter.value = chosen;
    this.tagFilter.hidden = tags.length === 0;
  }

  /** A follow-up fell due: the queue is read again, so it shows as due. */
  followUpDue(): void {
    void this.reloadQueue();
  }

  private followUpItem(f: FollowUpRow): HTMLElement {
    const who = f.name ? `${f.name}, ${f.number ?? ""}` : (f.number ?? t.unknownNumber);
    const back = h("button", {
      type: "button",
      class: "primary callback-dial",
      text: t.callBack,
      "aria-label": t.callBackTo(who),
      disabled: !f.numberRaw,
    });
    const raw = f.numberRaw;
    if (raw) back.addEventListener("click", () => this.callBack(raw));
    const due = f.dueAtMs <= Date.now();
    return h(
      "li",
      { class: due ? "callback follow-up due" : "callback follow-up", "data-leg": f.leg },
      h(
        "div",
        { class: "who" },
        h("span", { class: "number", text: f.number ?? t.unknownNumber }),
        f.name ? h("span", { class: "name", text: f.name }) : null,
        wrapupLine(f.note, f.tags),
      ),
      h("span", { class: "callback-missed", text: (due ? t.followUpOverdue : t.followUpDueAt)(when(f.dueAtMs)) }),
      back,
    );
  }

  private renderQueue(): void {
    const count = this.callbacks.length + this.followUps.length;
    this.queueTitle.textContent = count > 0 ? `${t.callbacksTitle} (${count})` : t.callbacksTitle;
    if (count === 0) {
      replace(this.queueList, h("li", { class: "empty", text: t.callbacksEmpty }));
      return;
    }
    replace(
      this.queueList,
      ...this.followUps.map((f) => this.followUpItem(f)),
      ...this.callbacks.map((c) => {
        const back = h("button", {
          type: "button",
          class: "primary callback-dial",
          text: t.callBack,
          "aria-label": t.callBackTo(c.name ? `${c.name}, ${c.number}` : c.number),
        });
        back.addEventListener("click", () => this.callBack(c.numberRaw));
        return h(
          "li",
          { class: "callback", "data-number": c.numberRaw },
          h(
            "div",
            { class: "who" },
            h("span", { class: "number", text: c.number }),
            c.name ? h("span", { class: "name", text: c.name }) : null,
          ),
          h("span", { class: "callback-missed", text: t.callbacksMissed(c.missedCalls, when(c.lastMissedAtMs)) }),
          back,
        );
      }),
    );
  }

  private async exportCsv(): Promise<void> {
    const query = this.query();
    if (!query) return;
    this.exportButton.disabled = true;
    try {
      const saved = await api.exportHistory(query);
      this.say(t.exportedCalls(saved.rows, saved.path));
    } catch (e) {
      this.say(describe(e), true);
    } finally {
      this.exportButton.disabled = false;
    }
  }

  /** Reads the first page again (a filter or the search changed, or a call ended). */
  async reload(): Promise<void> {
    const generation = ++this.generation;
    void this.reloadQueue();
    const query = this.query();
    if (!query) return;
    this.say(t.loading);
    try {
      const page = await api.history(query);
      if (generation !== this.generation) return;
      // A call ending elsewhere reloads the list: a player whose call is still listed goes on
      // playing; the others stop.
      const listed = new Set(page.rows.map((r) => r.leg));
      for (const [leg, player] of this.players) {
        if (listed.has(leg)) continue;
        player.stop();
        this.players.delete(leg);
      }
      this.rows = this.withRecordings(page.rows);
      this.next = page.next;
      this.status.clear();
      this.renderRows();
    } catch (e) {
      if (generation !== this.generation) return;
      this.say(describe(e), errorCode(e) !== "search_too_short");
    }
  }

  /** A recording arrived for a leg on screen: its player appears without a reload. */
  recorded(leg: string, url: string): void {
    // Kept for a list read that is still on its way: it may have been read before the
    // recording was stored, and would otherwise land without its button.
    this.recordings.set(leg, url);
    const row = this.rows.find((r) => r.leg === leg);
    if (row && !row.recordingUrl) {
      row.recordingUrl = url;
      this.renderRows();
    }
  }

  /** `rows` with the recordings that arrived by event filled in where the read had none. */
  private withRecordings(rows: HistoryRow[]): HistoryRow[] {
    for (const row of rows) {
      if (!row.recordingUrl) row.recordingUrl = this.recordings.get(row.leg) ?? null;
    }
    return rows;
  }

  private async loadMore(): Promise<void> {
    if (!this.next) return;
    const generation = this.generation;
    const query = this.query(this.next);
    if (!query) return;
    this.more.disabled = true;
    try {
      const page = await api.history(query);
      if (generation !== this.generation) return;
      this.rows = this.rows.concat(this.withRecordings(page.rows));
      this.next = page.next;
      this.renderRows();
    } catch (e) {
      this.say(describe(e), true);
    } finally {
      this.more.disabled = false;
    }
  }

  private renderRows(): void {
    this.more.hidden = this.next === null;
    if (this.rows.length === 0) {
      replace(this.body, h("tr", {}, h("td", { colspan: 5, class: "empty", text: t.noCalls })));
      return;
    }
    replace(this.body, ...this.rows.flatMap((r) => this.row(r)));
  }

  private row(r: HistoryRow): HTMLElement[] {
    const who = r.number ?? t.unknownNumber;
    const way = r.direction === "outgoing" ? t.outgoing : t.incoming;
    let how: string;
    if (r.missed) how = `${t.phaseMissed}${r.calledBack ? ` · ${t.calledBack}` : ""}`;
    else if (!r.ended) how = `${way} · ${t.inProgress}`;
    else how = `${way}${r.answered ? "" : ` · ${t.notAnswered}`}`;
    const actions = h("div", { class: "actions" });
    const noteButton = h("button", { type: "button", class: "note-edit", text: t.historyNote, "aria-label": t.historyNoteFor(who) });
    noteButton.addEventListener("click", () => this.editNote(r));
    actions.appendChild(noteButton);
    if (r.numberRaw) {
      const raw = r.numberRaw;
      const back = h("button", { type: "button", text: t.callBack, "aria-label": t.callBackTo(who) });
      back.addEventListener("click", () => this.callBack(raw));
      actions.appendChild(back);
    }
    const tr = h(
      "tr",
      { class: r.missed ? "missed" : "", "data-leg": r.leg },
      h("td", { class: "when", text: when(r.startedAtMs) }),
      h(
        "td",
        { class: "peer" },
        h(
          "div",
          { class: "who" },
          h("span", { class: "number", text: who }),
          r.name ? h("span", { class: "name", text: r.name }) : null,
        ),
        wrapupLine(r.note, r.tags),
      ),
      h(
        "td",
        { class: `how${r.missed ? " missed" : ""}` },
        h("span", { text: how }),
        r.routing ? h("span", { class: "why-routed", text: whyRouted(r.routing) }) : null,
      ),
      h("td", { class: "length", text: r.answered && r.durationSecs !== null ? clock(r.durationSecs) : "—" }),
      h("td", {}, actions),
    );
    if (!r.recordingUrl) return [tr];
    // The player opens in a row of its own under the call, and starts playing.
    const url = r.recordingUrl;
    const playerRow = h("tr", { class: "player-row", id: `player-${r.id}`, "data-leg": r.leg });
    const open = this.players.get(r.leg);
    playerRow.hidden = !open;
    if (open) playerRow.appendChild(h("td", { colspan: 5 }, open.root));
    const toggle = h("button", {
      type: "button",
      class: "recording-toggle",
      text: t.play,
      "aria-expanded": String(Boolean(open)),
      "aria-controls": playerRow.id,
      "aria-label": t.playLabel(who),
    });
    toggle.addEventListener("click", () => {
      let player = this.players.get(r.leg);
      if (player) {
        player.stop();
        this.players.delete(r.leg);
        playerRow.hidden = true;
        playerRow.replaceChildren();
        toggle.setAttribute("aria-expanded", "false");
        return;
      }
      player = new RecordingPlayer(r.leg, url, who, (message, error) => this.say(message, error));
      this.players.set(r.leg, player);
      replace(playerRow, h("td", { colspan: 5 }, player.root));
      playerRow.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      player.focus();
      void player.playOrPause();
    });
    actions.appendChild(toggle);
    return [tr, playerRow];
  }
}

/** A call's tags and note under its number, or nothing when it has neither. The operator's
 * text: textContent only. */
export function wrapupLine(note: string, tags: string[]): HTMLElement | null {
  if (!note.trim() && tags.length === 0) return null;
  return h(
    "div",
    { class: "wrapup-line" },
    ...tags.map((tag) => h("span", { class: "tag", text: tag })),
    note.trim() ? h("span", { class: "note", text: note }) : null,
  );
}

/** Why a parked call went where it did, from the routing journal. */
function whyRouted(d: RoutingDecisionRow): string {
  const rule = d.rule ? (t.routingRules[d.rule] ?? d.rule) : t.routingNoRule;
  const took = `${Math.round(d.tookMs)} ${t.ms}`;
  switch (d.outcome) {
    case "transferred":
      return t.whyTransferred(rule, d.target ?? "?", took);
    case "released":
      return t.whyReleased(rule, took);
    case "timed_out":
      return t.whyTimedOut(took);
    case "missed_offline":
      return t.whyMissedOffline;
    default:
      return t.whyFailed(d.detail ?? rule, took);
  }
}
