// Today's card on the Calls screen: the day's figures and a chart of calls per hour (answered,
// missed and other calls as stacked bars, drawn as SVG with DOM calls: no chart library, no
// HTML strings), with a sentence that says what the chart shows for those who cannot see it.
// The card loads itself from the `today` command and refreshes each minute, since the figures
// also change at midnight and with calls of other workplaces; the Calls screen also refreshes it
// when a call starts or ends, and tells it how many calls are in progress, which it says.
import "./screens.css";
import type { Today } from "./bindings/Today";
import type { TodayHour } from "./bindings/TodayHour";
import { h, replace } from "./dom";
import { clock } from "./format";
import { t } from "./i18n";
import { api } from "./ipc";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 240;
const HEIGHT = 80;
const AXIS = 14;

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  ...children: (SVGElement | string)[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) {
    el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

function hourLabel(hour: number): string {
  const pad = (n: number) => String(n % 24).padStart(2, "0");
  return `${pad(hour)}:00–${pad(hour + 1)}:00`;
}

export class TodayCard {
  readonly root: HTMLElement;
  private last: Today | null = null;
  /** Calls in progress now, as the Calls screen's list has them. */
  private live = 0;

  constructor() {
    this.root = h("section", { class: "card today", "aria-labelledby": "today-title" });
    setInterval(() => void this.load(), 60_000);
  }

  async load(): Promise<void> {
    try {
      this.last = await api.today();
      this.render();
    } catch {
      // The card is secondary: it stays as it was and the next event refreshes it.
    }
  }

  /** How many calls are in progress now; the card says so while there are any. */
  setLive(count: number): void {
    if (count === this.live) return;
    this.live = count;
    this.render();
  }

  /** Draws the card again (the language changed) from the last figures. */
  render(): void {
    const today = this.last;
    if (!today) return;
    const figure = (label: string, value: string, cls = "", id?: string) =>
      h("div", { class: `figure ${cls}`, id }, h("dt", { text: label }), h("dd", { text: value }));
    replace(
      this.root,
      h("h2", { id: "today-title", text: t.today }),
      h(
        "dl",
        {},
        figure(t.todayCalls, String(today.calls), "", "today-calls"),
        figure(t.todayAnswered, String(today.answered)),
        figure(t.todayMissed, String(today.missed), today.missed > 0 ? "warn" : ""),
        figure(t.todayTalk, clock(today.talkSecs)),
      ),
      this.live > 0 ? h("p", { id: "today-live", class: "today-live", text: t.todayLive(this.live) }) : null,
      this.chart(today.hours, today),
    );
  }

  private chart(hours: TodayHour[], today: Today): HTMLElement {
    const title = h("h3", { id: "today-chart-title", class: "chart-title", text: t.chartTitle });
    const summary = h("p", { id: "today-chart-summary", class: "chart-summary" });
    const busiest = hours.reduce<TodayHour | null>((best, hr) => (!best || hr.calls > best.calls ? hr : best), null);
    if (!busiest || busiest.calls === 0) {
      // Calls in progress are not in the figures yet (the card refreshes a moment after a call
      // starts): the line above counts them, and "no calls yet" would contradict it.
      summary.textContent = this.live > 0 ? "" : t.chartEmpty;
    } else {
      const active = hours.filter((hr) => hr.calls > 0).length;
      summary.textContent = t.chartSummary(
        hourLabel(busiest.hour),
        busiest.calls,
        busiest.answered,
        busiest.missed,
        active,
      );
    }
    const most = Math.max(1, ...hours.map((hr) => hr.calls));
    const slot = WIDTH / Math.max(1, hours.length);
    const plot = HEIGHT - AXIS;
    const bars = svg("g", { class: "bars" });
    hours.forEach((hr, i) => {
      const x = i * slot + slot * 0.15;
      const width = slot * 0.7;
      const other = Math.max(0, hr.calls - hr.answered - hr.missed);
      const group = svg(
        "g",
        { class: "hour", "data-hour": hr.hour },
        svg("title", {}, t.chartBar(hourLabel(hr.hour), hr.calls, hr.answered, hr.missed)),
      );
      let top = plot;
      for (const [count, cls] of [
        [hr.answered, "bar-answered"],
        [hr.missed, "bar-missed"],
        [other, "bar-other"],
      ] as const) {
        if (count === 0) continue;
        const height = (count / most) * (plot - 4);
        top -= height;
        group.appendChild(svg("rect", { class: cls, x, y: top, width, height }));
      }
      bars.appendChild(group);
    });
    const axis = svg("g", { class: "axis" }, svg("line", { x1: 0, y1: plot + 0.5, x2: WIDTH, y2: plot + 0.5 }));
    hours.forEach((hr, i) => {
      if (hr.hour % 6 !== 0) return;
      axis.appendChild(svg("text", { x: i * slot + 1, y: HEIGHT - 2 }, String(hr.hour).padStart(2, "0")));
    });
    const picture = svg(
      "svg",
      {
        class: "chart",
        viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
        role: "img",
        "aria-labelledby": "today-chart-title",
        "aria-describedby": "today-chart-summary",
      },
      bars,
      axis,
    );
    const key = (cls: string, label: string) =>
      h("li", {}, h("span", { class: `swatch ${cls}`, "aria-hidden": "true" }), label);
    return h(
      "figure",
      { class: "today-chart", id: "today-chart" },
      title,
      picture,
      h(
        "ul",
        { class: "chart-key", "aria-hidden": "true" },
        key("bar-answered", t.chartAnswered),
        key("bar-missed", t.chartMissed),
        key("bar-other", t.chartOther),
      ),
      summary,
      zoneNote(today),
    );
  }
}

/** A note when the hours are the PBX's and this computer's clock shows others (History's times
 * follow this computer's clock), so the two screens never seem to disagree. */
function zoneNote(today: Today): HTMLElement | null {
  const here = -new Date().getTimezoneOffset();
  if (here === today.zoneOffsetMinutes) return null;
  return h("p", { id: "today-chart-zone", class: "chart-summary", text: t.chartZone(today.zone) });
}
