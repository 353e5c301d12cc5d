// The Settings screen's Routing section: this app as the account's router, parking per external
// number (with a confirmation that explains the five-second hold), when parking was last
// applied, the rules as TOML text, and the last 100 decisions with the share that met the
// deadline. In a team the team's server decides: an admin edits the team's parking and rules
// here (through the server), other seats see only the decisions. Callers' numbers come from
// outside and are rendered as text only.
import type { ParkedNumber } from "./bindings/ParkedNumber";
import type { RoutingView } from "./bindings/RoutingView";
import { h, replace } from "./dom";
import { currentLang, t } from "./i18n";
import { api, describe } from "./ipc";
import { deciderView } from "./routing-decider";
import { ConfirmDialog } from "./widgets/confirm";
import { StatusLine } from "./widgets/status";

function at(ms: number): string {
  const locale = currentLang() === "ru" ? "ru-RU" : "en-GB";
  return new Date(ms).toLocaleString(locale, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export class RoutingSection {
  readonly root: HTMLElement;
  private view: RoutingView | null = null;
  private readonly title = h("h2", { id: "settings-routing-title" });
  private readonly body = h("div", { id: "settings-routing", class: "settings-box" });
  private readonly status = new StatusLine({ id: "routing-status" });
  private readonly rules = h("textarea", {
    id: "routing-rules",
    rows: 10,
    spellcheck: "false",
    "aria-describedby": "routing-rules-hint",
  });
  private readonly confirm = new ConfirmDialog("parking-confirm");

  constructor() {
    this.root = h("section", { "aria-labelledby": "settings-routing-title" }, this.title, this.body, this.confirm.root);
  }

  async load(): Promise<void> {
    try {
      this.view = await api.routing();
      this.rules.value = this.view.rules;
    } catch (e) {
      this.status.fail(describe(e));
    }
    this.render();
  }

  render(): void {
    this.title.textContent = t.routeTitle;
    const v = this.view;
    if (!v) {
      replace(this.body, h("p", { class: "muted", text: t.loading }), this.status.root);
      return;
    }
    const router = h("input", { type: "checkbox", id: "routing-router" });
    router.checked = v.isRouter;
    router.addEventListener("change", () => void this.apply(() => api.setRouter(router.checked)));
    const numbers = h("ul", { class: "parked-numbers", "aria-labelledby": "routing-numbers-title" });
    for (const n of v.numbers) numbers.append(this.numberRow(n));
    if (v.numbers.length === 0) numbers.append(h("li", { class: "muted", text: t.routeNoNumbers }));
    const save = h("button", { type: "button", id: "routing-rules-save", text: t.routeSaveRules });
    save.addEventListener("click", () => void this.apply(() => api.saveRoutingRules(this.rules.value)));
    const share = v.shareInTime === null ? t.routeNoDecisions : t.routeShare(Math.round(v.shareInTime * 100), v.decisions.length);
    const table = h(
      "table",
      { class: "history routing-journal", id: "routing-journal" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col", text: t.colWhen }),
          h("th", { scope: "col", text: t.routeColCaller }),
          h("th", { scope: "col", text: t.routeColRule }),
          h("th", { scope: "col", text: t.routeColOutcome }),
          h("th", { scope: "col", text: t.routeColTook }),
        ),
      ),
      h(
        "tbody",
        {},
        ...v.decisions.map((d) =>
          h(
            "tr",
            {},
            h("td", { class: "when", text: at(d.decidedAtMs) }),
            h("td", { text: d.caller ?? t.unknownNumber }),
            h("td", { text: d.rule ?? "—" }),
            h("td", { text: d.target ? `${d.outcome} → ${d.target}` : d.outcome, title: d.detail ?? undefined }),
            h("td", { class: d.metDeadline ? "length" : "length late", text: `${d.tookMs} ${t.ms}` }),
          ),
        ),
      ),
    );
    const journal = [h("h3", { text: t.routeJournal }), h("p", { id: "routing-share", text: share }), v.decisions.length ? table : null];
    const who = deciderView(v.decider, v.deciding, t);
    const hint = h("p", { class: "hint", id: "routing-deciding", text: who.hint });
    if (!who.editing) {
      replace(this.body, hint, this.status.root, ...journal);
      return;
    }
    replace(
      this.body,
      who.routerSwitch ? h("div", { class: "check" }, router, h("label", { for: "routing-router", text: t.routeRouter })) : null,
      hint,
      h("h3", { id: "routing-numbers-title", text: t.routeNumbers }),
      numbers,
      h("p", { class: "hint", id: "routing-applied", text: v.appliedAtMs === null ? t.routeNeverApplied : t.routeApplied(at(v.appliedAtMs)) }),
      h(
        "div",
        { class: "field" },
        h("label", { for: "routing-rules", text: t.routeRules }),
        this.rules,
        h("p", { class: "hint", id: "routing-rules-hint", text: t.routeRulesHint }),
      ),
      h("div", { class: "form-actions start" }, save),
      this.status.root,
      ...journal,
    );
  }

  private numberRow(n: ParkedNumber): HTMLElement {
    const id = `parking-${n.number.replace(/\D/g, "")}`;
    const box = h("input", { type: "checkbox", id });
    box.checked = n.parked;
    box.addEventListener("change", () => {
      const on = box.checked;
      box.checked = !on;
      void this.ask(n, on);
    });
    return h("li", { class: "check" }, box, h("label", { for: id, text: n.display }));
  }

  /** Parking changes how the PBX treats every call to the number, so it is confirmed first. */
  private async ask(n: ParkedNumber, on: boolean): Promise<void> {
    const yes = await this.confirm.ask({
      title: on ? t.routeParkOnTitle(n.display) : t.routeParkOffTitle(n.display),
      text: on ? t.routeParkOnText : t.routeParkOffText,
      yes: on ? t.routeParkOn : t.routeParkOff,
      tone: "primary",
      focus: "no",
    });
    if (yes) await this.apply(() => api.setParking(n.number, on));
  }

  private async apply(change: () => Promise<RoutingView>): Promise<void> {
    this.status.say(t.setSaving);
    try {
      this.view = await change();
      this.rules.value = this.view.rules;
      this.status.say(t.setSaved);
    } catch (e) {
      this.status.fail(describe(e));
    }
    const focused = document.activeElement?.id;
    this.render();
    if (focused) document.getElementById(focused)?.focus();
  }
}
