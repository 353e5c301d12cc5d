// The audit log: filters (dates, seat, action, outcome) and pages of entries, newest first;
// "Older" asks for the entries before the last one shown, "Newer" goes back a page.
import { get, query } from "../api";
import type { Page } from "../app";
import type { ConsoleAudit } from "../bindings/ConsoleAudit";
import type { ConsoleSeats } from "../bindings/ConsoleSeats";
import { button, h, replace, row, scroller, table } from "../dom";
import { Form, input, select } from "../forms";
import { exact } from "../format";
import { t } from "../i18n";

const PAGE = 50;

/** The actions the relay audits, offered as suggestions (any other can be typed). */
const ACTIONS = [
  "console.sign_in",
  "console.sign_out",
  "console.locked",
  "console.password",
  "seat.add",
  "seat.edit",
  "seat.revoke",
  "seat.invite",
  "seat.join",
  "integration.connect",
  "routing.set",
  "parking.set",
  "tags.set",
  "phonebook.add",
  "phonebook.edit",
  "phonebook.delete",
  "phonebook.import",
  "call.dial",
  "call.transfer",
  "call.hangup",
];

/** A day (`2026-12-03`) as the start (or, with `end`, the end) of that day in this browser's zone. */
export function dayBound(day: string, end: boolean): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const [y, m, d] = day.split("-").map(Number);
  const at = end ? new Date(y, m - 1, d + 1) : new Date(y, m - 1, d);
  return at.toISOString();
}

export function outcomeWords(o: string): string {
  return o === "done" ? t.auditDone : o === "refused" ? t.auditRefused : o === "failed" ? t.auditFailed : o;
}

export function auditPage(): Page {
  const grid = table("audit", [t.colAt, t.colSeat, t.colAction, t.colTargetAudit, t.colOutcome, t.colDetail], { id: "audit-table", "aria-label": t.pageAudit });
  const cursors: (number | null)[] = [null];
  let shown = 0;
  const older = button(t.older, () => void load(shown + 1), { id: "audit-older", class: "small", disabled: true });
  const newer = button(t.newer, () => void load(shown - 1), { id: "audit-newer", class: "small", disabled: true });

  const form = new Form("audit-filters", async () => {
    cursors.length = 1;
    await load(0, true);
  });
  form.root.classList.add("filters");
  form.field("from", t.auditFrom, input("date", { id: "audit-from" }));
  form.field("to", t.auditTo, input("date", { id: "audit-to" }));
  const seat = form.field("seat", t.auditSeat, select([["", t.auditAny]], "", "audit-seat")) as HTMLSelectElement;
  form.field("action", t.auditAction, input("text", { id: "audit-action", list: "audit-actions", spellcheck: false, autocomplete: "off" }));
  form.add(h("datalist", { id: "audit-actions" }, ...ACTIONS.map((a) => h("option", { value: a }))));
  form.field("outcome", t.auditOutcome, select([["", t.auditAny], ["done", t.auditDone], ["refused", t.auditRefused], ["failed", t.auditFailed]], "", "audit-outcome"));
  form.buttons(t.auditApply);

  const load = async (index: number, fromForm = false) => {
    const params = {
      from: dayBound(form.value("from"), false),
      to: dayBound(form.value("to"), true),
      seat: form.value("seat") || null,
      action: form.value("action").trim() || null,
      outcome: form.value("outcome") || null,
      limit: PAGE,
      before: cursors[index] ?? null,
    };
    try {
      const answer = await get<ConsoleAudit>(`/audit${query(params)}`);
      shown = index;
      cursors.length = index + 1;
      const last = answer.entries[answer.entries.length - 1];
      if (answer.more && last) cursors.push(last.id);
      older.disabled = cursors.length <= index + 1;
      newer.disabled = index === 0;
      replace(
        grid.body,
        ...(answer.entries.length
          ? answer.entries.map((e) =>
              row(
                [
                  h("span", { class: "when", text: exact(e.at) }),
                  h("bdi", { text: e.seatName ?? (e.seatId === null ? t.none : `#${e.seatId}`) }),
                  h("code", { class: "action", text: e.action }),
                  h("bdi", { class: "target", text: e.target ?? "" }),
                  h("span", { class: `badge badge-outcome-${e.outcome}`, text: outcomeWords(e.outcome) }),
                  h("span", { class: "detail", text: e.detail ?? "" }),
                ],
                { "data-id": String(e.id), "data-action": e.action },
              ),
            )
          : [h("tr", {}, h("td", { colspan: "6", class: "empty", text: t.auditEmpty }))]),
      );
    } catch (e) {
      if (fromForm) throw e;
      form.showError(e);
    }
  };

  void (async () => {
    try {
      const seats = (await get<ConsoleSeats>("/seats")).seats;
      for (const s of seats) seat.append(h("option", { value: String(s.id), text: `${s.name} (${s.workplace})` }));
    } catch {
      // The filter still works without the seats' names: "any seat".
    }
  })();
  void load(0);
  return { root: h("div", { class: "stack" }, h("section", { class: "card" }, form.root), h("div", { class: "card flush" }, scroller({ "aria-label": t.pageAudit }, grid.table)), h("div", { class: "pager" }, newer, older)) };
}
