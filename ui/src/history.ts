// The History screen: all / missed / incoming / outgoing, search, pages of 50, call back and
// the recording player (the browser's own <audio> element).
import type { HistoryCursor } from "./bindings/HistoryCursor";
import type { HistoryKind } from "./bindings/HistoryKind";
import type { HistoryRow } from "./bindings/HistoryRow";
import { h, replace } from "./dom";
import { clock, when } from "./format";
import { t } from "./i18n";
import { api, describe, errorCode } from "./ipc";

const KINDS: HistoryKind[] = ["all", "missed", "incoming", "outgoing"];
const SEARCH_DELAY_MS = 250;

export class HistoryScreen {
  readonly root: HTMLElement;
  private readonly filters: HTMLElement;
  private readonly search: HTMLInputElement;
  private readonly status: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly table: HTMLTableElement;
  private readonly more: HTMLButtonElement;
  private kind: HistoryKind = "all";
  private next: HistoryCursor | null = null;
  private rows: HistoryRow[] = [];
  /** Bumped by each new query, so a slow answer to an old one is dropped. */
  private generation = 0;
  private searchTimer: number | undefined;

  constructor(private readonly callBack: (raw: string) => void) {
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
    this.status = h("p", { class: "status", role: "status", "aria-live": "polite" });
    this.body = h("tbody");
    this.table = h("table", { class: "history" }, h("thead"), this.body);
    this.more = h("button", { type: "button", class: "more" });
    this.more.addEventListener("click", () => void this.loadMore());
    this.root = h(
      "section",
      { class: "screen history-screen" },
      h(
        "div",
        { class: "toolbar" },
        this.filters,
        h("label", { for: "history-search", class: "visually-hidden", id: "history-search-label" }),
        this.search,
      ),
      this.status,
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
    const head = this.table.tHead;
    if (head) {
      replace(
        head,
        h(
          "tr",
          {},
          h("th", { scope: "col", text: t.colWhen }),
          h("th", { scope: "col", text: t.colWho }),
          h("th", { scope: "col", text: t.colHow }),
          h("th", { scope: "col", text: t.colLength }),
          h("th", { scope: "col", text: t.colActions }),
        ),
      );
    }
    this.more.textContent = t.more;
    this.renderRows();
  }

  /** Reads the first page again (a filter or the search changed, or a call ended). */
  async reload(): Promise<void> {
    const generation = ++this.generation;
    const search = this.search.value.trim();
    if (search.length > 0 && search.length < 3) {
      this.status.className = "status";
      this.status.textContent = t.searchTooShort;
      return;
    }
    this.status.className = "status";
    this.status.textContent = t.loading;
    try {
      const page = await api.history({ kind: this.kind, search: search || undefined });
      if (generation !== this.generation) return;
      this.rows = page.rows;
      this.next = page.next;
      this.status.textContent = "";
      this.renderRows();
    } catch (e) {
      if (generation !== this.generation) return;
      this.status.className = errorCode(e) === "search_too_short" ? "status" : "status error";
      this.status.textContent = describe(e);
    }
  }

  /** A recording arrived for a leg on screen: its player appears without a reload. */
  recorded(leg: string, url: string): void {
    const row = this.rows.find((r) => r.leg === leg);
    if (row && !row.recordingUrl) {
      row.recordingUrl = url;
      this.renderRows();
    }
  }

  private async loadMore(): Promise<void> {
    if (!this.next) return;
    const generation = this.generation;
    const search = this.search.value.trim();
    this.more.disabled = true;
    try {
      const page = await api.history({ kind: this.kind, search: search || undefined, after: this.next });
      if (generation !== this.generation) return;
      this.rows = this.rows.concat(page.rows);
      this.next = page.next;
      this.renderRows();
    } catch (e) {
      this.status.className = "status error";
      this.status.textContent = describe(e);
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
    replace(this.body, ...this.rows.map((r) => this.row(r)));
  }

  private row(r: HistoryRow): HTMLElement {
    const who = r.number ?? t.unknownNumber;
    const way = r.direction === "outgoing" ? t.outgoing : t.incoming;
    let how: string;
    if (r.missed) how = `${t.phaseMissed}${r.calledBack ? ` · ${t.calledBack}` : ""}`;
    else if (!r.ended) how = `${way} · ${t.inProgress}`;
    else how = `${way}${r.answered ? "" : ` · ${t.notAnswered}`}`;
    const actions = h("div", { class: "actions" });
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
      ),
      h("td", { class: `how${r.missed ? " missed" : ""}`, text: how }),
      h("td", { class: "length", text: r.answered && r.durationSecs !== null ? clock(r.durationSecs) : "—" }),
      h("td", {}, actions),
    );
    if (r.recordingUrl) {
      const audio = h("audio", {
        controls: true,
        preload: "none",
        src: r.recordingUrl,
        "aria-label": t.playLabel(who),
      });
      actions.appendChild(h("div", { class: "player" }, audio));
    }
    return tr;
  }
}
