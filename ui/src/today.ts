// Today's card on the Calls screen: the day's figures. It loads itself from the `today` command
// and refreshes each minute, since the figures also change at midnight and with calls of other
// workplaces.
import type { Today } from "./bindings/Today";
import { h, replace } from "./dom";
import { clock } from "./format";
import { t } from "./i18n";
import { api } from "./ipc";

export class TodayCard {
  readonly root: HTMLElement;

  constructor() {
    this.root = h("section", { class: "card today", "aria-labelledby": "today-title" });
    setInterval(() => void this.load(), 60_000);
  }

  async load(): Promise<void> {
    try {
      this.render(await api.today());
    } catch {
      // The card is secondary: it stays as it was and the next event refreshes it.
    }
  }

  private render(today: Today): void {
    const figure = (label: string, value: string, cls = "") =>
      h("div", { class: `figure ${cls}` }, h("dt", { text: label }), h("dd", { text: value }));
    replace(
      this.root,
      h("h2", { id: "today-title", text: t.today }),
      h(
        "dl",
        {},
        figure(t.todayCalls, String(today.calls)),
        figure(t.todayAnswered, String(today.answered)),
        figure(t.todayMissed, String(today.missed), today.missed > 0 ? "warn" : ""),
        figure(t.todayTalk, clock(today.talkSecs)),
      ),
    );
  }
}
