// The wallboard: calls now (their durations tick each second), missed calls not yet called back
// (their age), each operator's day and presence. It follows the relay's SSE stream, which sends
// a whole snapshot on connect and after every change; a dropped stream is opened again (after
// asking whether the session still holds, so an expired one goes to the sign-in page). A
// full-screen mode for a wall TV hides the frame and enlarges the type; Esc or the button leaves.
import { API, get } from "../api";
import type { Page } from "../app";
import type { Availability } from "../bindings/Availability";
import type { Presence } from "../bindings/Presence";
import type { Wallboard } from "../bindings/Wallboard";
import { h, replace, row, scroller, table } from "../dom";
import { clock, exact, phone, secondsSince } from "../format";
import { t } from "../i18n";

export function presenceWords(p: Presence): string {
  return p === "talking" ? t.presenceTalking : p === "ringing" ? t.presenceRinging : t.presenceFree;
}

export function availabilityWords(a: Availability): string {
  return { available: t.availabilityAvailable, break: t.availabilityBreak, away: t.availabilityAway, offline: t.availabilityOffline }[a] ?? a;
}

function badge(kind: string, text: string): HTMLElement {
  return h("span", { class: `badge badge-${kind}`, text });
}

/** A cell whose text is the time since `iso`, kept ticking by the page. */
function ticking(iso: string, nowMs: number): HTMLElement {
  return h("span", { class: "ticking", "data-since": iso, text: clock(secondsSince(iso, nowMs)) });
}

/** The board's parts, drawn from one snapshot (`nowMs` on the relay's clock). */
export class WallboardView {
  readonly root: HTMLElement;
  private readonly tiles = h("dl", { class: "tiles", id: "wall-tiles" });
  private readonly calls = table("wall-calls", [t.colCaller, t.colOperator, t.colState, t.colDuration], { id: "wall-calls", "aria-labelledby": "wall-calls-title" });
  private readonly missed = table("wall-missed", [t.colNumber, t.colLine, t.colAge], { id: "wall-missed", "aria-labelledby": "wall-missed-title" });
  private readonly operators = table("wall-operators", [t.colName, t.colWorkplace, t.colPresence, t.colAvailability, t.colAnswered, t.colMissed, t.colTalkTime], {
    id: "wall-operators",
    "aria-labelledby": "wall-operators-title",
  });
  readonly updated = h("p", { class: "updated", id: "wall-updated" });

  constructor() {
    this.root = h(
      "div",
      { class: "wall-board" },
      this.tiles,
      h(
        "div",
        { class: "wall-grid" },
        h("section", { class: "card wall-section" }, h("h2", { id: "wall-calls-title", text: t.wallCallsNow }), scroller({ "aria-labelledby": "wall-calls-title" }, this.calls.table)),
        h("section", { class: "card wall-section" }, h("h2", { id: "wall-missed-title", text: t.wallMissedWaiting }), scroller({ "aria-labelledby": "wall-missed-title" }, this.missed.table)),
      ),
      h("section", { class: "card wall-section" }, h("h2", { id: "wall-operators-title", text: t.wallOperators }), scroller({ "aria-labelledby": "wall-operators-title" }, this.operators.table)),
      this.updated,
    );
  }

  show(board: Wallboard, nowMs: number): void {
    const ringing = board.calls.filter((c) => c.state === "ringing").length;
    const available = board.operators.filter((o) => o.availability === "available").length;
    const tile = (id: string, label: string, value: number, tone = "") =>
      h("div", { class: `tile ${tone}`.trim(), id }, h("dt", { text: label }), h("dd", { text: String(value) }));
    replace(
      this.tiles,
      tile("tile-calls", t.wallCallsNow, board.calls.length),
      tile("tile-ringing", t.wallRinging, ringing, ringing ? "tone-warn" : ""),
      tile("tile-talking", t.wallTalking, board.calls.length - ringing),
      tile("tile-missed", t.wallMissedWaiting, board.missed.length, board.missed.length ? "tone-danger" : ""),
      tile("tile-available", t.wallAvailable, available),
    );

    replace(
      this.calls.body,
      ...(board.calls.length
        ? board.calls.map((c) => {
            const operator = c.seatName ? `${c.seatName}` : c.workplace ?? t.unassigned;
            const direction = c.direction === "outgoing" || c.direction === "out" ? t.directionOut : c.direction ? t.directionIn : "";
            const line = [direction, c.callee ? t.toNumber(phone(c.callee)) : ""].filter(Boolean).join(" · ");
            return row(
              [
                h("span", { class: "stacked" }, h("bdi", { class: "number caller", text: phone(c.caller) }), line ? h("span", { class: "sub", text: line }) : null),
                h("bdi", { class: c.seatName || c.workplace ? "operator" : "muted", text: operator }),
                badge(c.state, c.state === "talking" ? t.stateTalking : t.stateRinging),
                ticking(c.answeredAt ?? c.since, nowMs),
              ],
              { "data-leg": c.legId, class: `call-${c.state}` },
            );
          })
        : [h("tr", {}, h("td", { colspan: "4", class: "empty", text: t.wallNoCalls }))]),
    );

    replace(
      this.missed.body,
      ...(board.missed.length
        ? board.missed.map((m) => row([h("bdi", { class: "number", text: phone(m.number) }), h("bdi", { text: phone(m.companyNumber) }), ticking(m.missedAt, nowMs)], { "data-leg": m.legId }))
        : [h("tr", {}, h("td", { colspan: "3", class: "empty", text: t.wallNoMissed }))]),
    );

    replace(
      this.operators.body,
      ...(board.operators.length
        ? board.operators.map((o) =>
            row(
              [
                h("bdi", { class: "name", text: o.name }),
                h("span", { class: "muted number", text: o.workplace }),
                badge(o.presence, presenceWords(o.presence)),
                badge(o.availability, availabilityWords(o.availability)),
                h("span", { class: "num", text: String(o.answeredToday) }),
                h("span", { class: o.missedToday ? "num danger-text" : "num", text: String(o.missedToday) }),
                h("span", { class: "num", text: clock(o.talkSecondsToday) }),
              ],
              { "data-seat": String(o.seat) },
            ),
          )
        : [h("tr", {}, h("td", { colspan: "7", class: "empty", text: t.wallNoOperators }))]),
    );
    this.updated.textContent = t.asOf(exact(board.at), board.timeZone);
  }

  /** Moves every ticking duration and age on to `nowMs`. */
  tick(nowMs: number): void {
    for (const el of this.root.querySelectorAll<HTMLElement>("[data-since]")) {
      el.textContent = clock(secondsSince(el.dataset.since ?? "", nowMs));
    }
  }
}

export function wallboardPage(): Page {
  return new WallboardPage().page();
}

class WallboardPage {
  private readonly view = new WallboardView();
  private readonly live = h("p", { class: "live reconnecting", id: "wall-live", role: "status", text: t.wallReconnecting });
  private readonly fullButton = h("button", { type: "button", id: "wall-full", text: t.wallFullScreen });
  private readonly leaveButton = h("button", { type: "button", id: "wall-leave", class: "wall-leave", text: t.wallLeaveFullScreen });
  private source: EventSource | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private backoffMs = 1000;
  /** The relay's clock less ours, so durations agree with the server's `at`. */
  private skewMs = 0;
  private disposed = false;
  private painted = false;
  private readonly onKey = (e: KeyboardEvent) => {
    // Only the board on the page answers (a left page's handler is gone, but be sure).
    if (e.key === "Escape" && this.fullButton.isConnected && document.body.classList.contains("wall")) this.leaveWall();
  };
  private readonly onFullscreen = () => {
    if (!document.fullscreenElement && document.body.classList.contains("wall")) this.leaveWall();
  };

  constructor() {
    this.fullButton.addEventListener("click", () => this.enterWall());
    this.leaveButton.addEventListener("click", () => this.leaveWall());
  }

  page(): Page {
    const root = h("div", { class: "wallboard" }, h("div", { class: "toolbar" }, this.live, h("span", { class: "spacer" }), this.fullButton, this.leaveButton), this.view.root);
    document.addEventListener("keydown", this.onKey);
    document.addEventListener("fullscreenchange", this.onFullscreen);
    this.timer = setInterval(() => this.view.tick(Date.now() + this.skewMs), 1000);
    this.connect();
    return { root, dispose: () => this.dispose() };
  }

  private connect(): void {
    if (this.disposed) return;
    const source = new EventSource(`${API}/wallboard/stream`);
    this.source = source;
    source.addEventListener("wallboard", (e) => {
      const board = JSON.parse((e as MessageEvent<string>).data) as Wallboard;
      this.show(board);
      this.backoffMs = 1000;
    });
    source.addEventListener("open", () => this.setLive(true));
    source.addEventListener("error", () => {
      this.setLive(false);
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.source = null;
        this.reconnectLater();
      }
    });
  }

  private reconnectLater(): void {
    if (this.disposed || this.retry) return;
    this.retry = setTimeout(async () => {
      this.retry = null;
      try {
        // A closed stream is a network fault or an ended session: the latter goes to sign-in.
        await get("/session");
      } catch {
        if (this.disposed) return;
      }
      this.backoffMs = Math.min(this.backoffMs * 2, 15_000);
      this.connect();
    }, this.backoffMs);
  }

  show(board: Wallboard): void {
    const at = Date.parse(board.at);
    this.skewMs = Number.isNaN(at) ? 0 : at - Date.now();
    this.view.show(board, Date.now() + this.skewMs);
    this.setLive(true);
    if (!this.painted) {
      this.painted = true;
      // The benchmark's measure (BENCHMARKS.md): navigation start to the first board on screen,
      // marked once the frame with it has been painted.
      requestAnimationFrame(() => setTimeout(() => performance.mark("wallboard-first-paint"), 0));
    }
  }

  private setLive(live: boolean): void {
    this.live.className = live ? "live connected" : "live reconnecting";
    this.live.textContent = live ? t.wallLive : t.wallReconnecting;
  }

  private enterWall(): void {
    document.body.classList.add("wall");
    this.leaveButton.focus();
    document.documentElement.requestFullscreen?.().catch(() => {
      // A browser may refuse (a kiosk, a policy): the page's own full-screen layout still holds.
    });
  }

  private leaveWall(): void {
    document.body.classList.remove("wall");
    if (document.fullscreenElement) void document.exitFullscreen?.().catch(() => {});
    this.fullButton.focus();
  }

  private dispose(): void {
    this.disposed = true;
    this.source?.close();
    this.source = null;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    document.removeEventListener("keydown", this.onKey);
    document.removeEventListener("fullscreenchange", this.onFullscreen);
    document.body.classList.remove("wall");
  }
}
