// Routing: the team's rules for parked calls (order, on/off, their settings), what happens when
// the chosen workplace is busy, the decision deadline, business hours and holidays, all saved
// together as one TeamRouting; and the journal of decisions, newest first, paged by id.
import { get, put, query } from "../api";
import type { Page } from "../app";
import type { BusinessHours } from "../bindings/BusinessHours";
import type { RoutingJournal } from "../bindings/RoutingJournal";
import type { Rule } from "../bindings/Rule";
import type { TeamRouting } from "../bindings/TeamRouting";
import type { WhenBusy } from "../bindings/WhenBusy";
import { button, h, replace, row, scroller, table } from "../dom";
import { describe, Form, input, select, uid } from "../forms";
import { exact, phone } from "../format";
import { t } from "../i18n";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const PAGE = 50;

export function ruleWords(kind: string): string {
  return { manager: t.ruleManager, last_operator: t.ruleLastOperator, outside_hours: t.ruleOutsideHours, unknown_caller: t.ruleUnknownCaller }[kind] ?? kind;
}

/** The rules editor: one row per rule, in order, with its own settings. */
class RulesEditor {
  readonly root = h("ol", { class: "rules", id: "routing-rules" });
  private rules: Rule[] = [];

  set(rules: Rule[]): void {
    this.rules = rules.map((r) => ({ ...r }));
    this.draw();
  }

  value(): Rule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  private move(from: number, to: number, focusClass: string): void {
    const [rule] = this.rules.splice(from, 1);
    this.rules.splice(to, 0, rule);
    this.draw();
    this.root.children[to]?.querySelector<HTMLButtonElement>(`.${focusClass}`)?.focus();
  }

  private draw(): void {
    replace(
      this.root,
      ...this.rules.map((rule, i) => {
        const name = ruleWords(rule.kind);
        const enabled = input("checkbox", { id: uid("rule-on"), "aria-label": t.ruleEnabled(name) });
        enabled.checked = rule.enabled;
        enabled.addEventListener("change", () => (rule.enabled = enabled.checked));
        const extra: Node[] = [];
        if (rule.kind === "last_operator") {
          const days = input("number", { id: `rule-days`, min: "1", max: "365", name: "days", class: "narrow" });
          days.value = String(rule.days);
          days.addEventListener("input", () => (rule.days = Number(days.value)));
          extra.push(h("label", { for: days.id, text: t.ruleDays }), days);
        }
        if (rule.kind === "unknown_caller") {
          const to = input("text", { id: `rule-to`, name: "to", inputmode: "numeric", spellcheck: false });
          to.value = rule.to ?? "";
          to.addEventListener("input", () => {
            const v = to.value.trim();
            if (v) rule.to = v;
            else delete rule.to;
          });
          extra.push(h("label", { for: to.id, text: t.ruleTo }), to);
        }
        const up = button("↑", () => this.move(i, i - 1, "up"), { class: "small up", "aria-label": t.moveUp(name), disabled: i === 0 });
        const down = button("↓", () => this.move(i, i + 1, "down"), { class: "small down", "aria-label": t.moveDown(name), disabled: i === this.rules.length - 1 });
        return h(
          "li",
          { class: "rule", "data-kind": rule.kind },
          h("div", { class: "rule-head" }, enabled, h("label", { for: enabled.id, class: "rule-name", text: name }), h("span", { class: "spacer" }), up, down),
          extra.length ? h("div", { class: "rule-extra" }, ...extra) : null,
        );
      }),
    );
  }
}

export function routingPage(): Page {
  let current: TeamRouting | null = null;
  const rules = new RulesEditor();
  const zone = h("p", { class: "hint", id: "routing-zone" });
  const parked = h("p", { id: "routing-parked" });
  const form = new Form("routing-form", async () => {
    if (!current) return;
    const hours: BusinessHours = { ...current.settings.hours };
    for (const day of DAYS) hours[day] = form.value(`hours.${day}`).trim();
    hours.holidays = form
      .value("hours.holidays")
      .split(/[\s,]+/)
      .map((d) => d.trim())
      .filter(Boolean);
    const next: TeamRouting = {
      ...current,
      settings: {
        ...current.settings,
        rules: rules.value(),
        when_busy: form.value("when_busy") as WhenBusy,
        deadline_ms: Number(form.value("deadline_ms")),
        hours,
      },
    };
    current = await put<TeamRouting>("/routing", next);
    fill(current);
    form.say(t.saved);
  });
  form.add(h("h2", { text: t.routingRules }), h("p", { class: "hint", text: t.routingRulesHint }), rules.root);
  form.field("when_busy", t.routingWhenBusy, select([["next_rule", t.busyNextRule], ["release", t.busyRelease], ["ignore", t.busyIgnore]]));
  form.field("deadline_ms", t.routingDeadline, input("number", { min: "100", max: "4500", step: "100", class: "narrow" }));
  form.add(h("h2", { text: t.routingHours }), h("p", { class: "hint", text: t.routingHoursHint }), zone);
  const hoursGrid = h("div", { class: "hours-grid" });
  form.add(hoursGrid);
  for (const day of DAYS) form.field(`hours.${day}`, t.days[day], input("text", { spellcheck: false, placeholder: "09:00-18:00" }));
  // The day fields were added after the grid: move them in, so the week reads as a grid.
  for (const day of DAYS) {
    const control = form.control(`hours.${day}`);
    const wrap = control?.closest(".field");
    if (wrap) hoursGrid.append(wrap);
  }
  form.field("hours.holidays", t.routingHolidays, h("textarea", { rows: "3", spellcheck: false }));
  form.buttons(t.save);

  const fill = (r: TeamRouting) => {
    rules.set(r.settings.rules);
    const set = (name: string, value: string) => {
      const c = form.control(name);
      if (c) c.value = value;
    };
    set("when_busy", r.settings.when_busy);
    set("deadline_ms", String(r.settings.deadline_ms));
    for (const day of DAYS) set(`hours.${day}`, r.settings.hours[day]);
    set("hours.holidays", r.settings.hours.holidays.join("\n"));
    zone.textContent = t.routingTimeZone(r.timeZone);
    parked.textContent = r.parked.length ? r.parked.map((n) => phone(n)).join(", ") : t.routingNoParked;
  };

  // The journal, newest first; "Older" pages back by the last id shown.
  const journal = table("journal", [t.colDecided, t.colCaller, t.colLine, t.colRule, t.colTarget, t.colOutcome, t.colTook], { id: "routing-journal", "aria-labelledby": "routing-journal-title" });
  // cursors[i] is the `before` of page i (null: the newest); the one past the last page shown
  // is there only when that page was full.
  const cursors: (number | null)[] = [null];
  let shown = 0;
  const older = button(t.older, () => void loadJournal(shown + 1), { id: "journal-older", class: "small" });
  const newer = button(t.newer, () => void loadJournal(shown - 1), { id: "journal-newer", class: "small" });
  const journalStatus = h("p", { class: "form-status", role: "status" });
  const loadJournal = async (index: number) => {
    try {
      const answer = await get<RoutingJournal>(`/routing/journal${query({ limit: PAGE, before: cursors[index] ?? null })}`);
      const list = answer.decisions;
      shown = index;
      cursors.length = index + 1;
      const last = list[list.length - 1];
      if (last && list.length === PAGE) cursors.push(last.id);
      older.disabled = cursors.length <= index + 1;
      newer.disabled = index === 0;
      replace(
        journal.body,
        ...(list.length
          ? list.map(({ entry: e }) =>
              row([
                exact(e.decided_at),
                h("bdi", { class: "number", text: phone(e.caller_number) }),
                h("bdi", { class: "number", text: phone(e.line_number) }),
                e.rule ? ruleWords(e.rule) : t.none,
                e.target ?? t.none,
                h("span", { class: `outcome outcome-${e.outcome}`, text: t.outcome[e.outcome] ?? e.outcome }),
                t.ms(e.took_ms),
              ]),
            )
          : [h("tr", {}, h("td", { colspan: "7", class: "empty", text: t.routingJournalEmpty }))]),
      );
    } catch (e) {
      journalStatus.textContent = describe(e);
      journalStatus.className = "form-status error";
    }
  };
  older.disabled = true;
  newer.disabled = true;

  const loadError = h("p", { class: "form-status error", role: "alert", hidden: true });
  void (async () => {
    try {
      current = await get<TeamRouting>("/routing");
      fill(current);
    } catch (e) {
      loadError.textContent = describe(e);
      loadError.hidden = false;
    }
  })();
  void loadJournal(0);

  return {
    root: h(
      "div",
      { class: "stack" },
      loadError,
      h("section", { class: "card", "aria-labelledby": "routing-parked-title" }, h("h2", { id: "routing-parked-title", text: t.routingParked }), parked),
      h("section", { class: "card" }, form.root),
      h(
        "section",
        { class: "card", "aria-labelledby": "routing-journal-title" },
        h("h2", { id: "routing-journal-title", text: t.routingJournal }),
        journalStatus,
        scroller({ "aria-labelledby": "routing-journal-title" }, journal.table),
        h("div", { class: "pager" }, newer, older),
      ),
    ),
  };
}
