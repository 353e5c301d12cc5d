// Parking per external number: МТТ parks a number as a whole, so each of the company's numbers
// has one switch. A parked number's calls wait for the team server's decision (the routing
// rules); the others the PBX routes itself. A change is applied at once, at the PBX first; a
// refusal puts the switch back and says why.
import { get, put } from "../api";
import type { Page } from "../app";
import type { ConsoleParking } from "../bindings/ConsoleParking";
import type { ConsoleParkingChange } from "../bindings/ConsoleParkingChange";
import type { ConsoleParkingNumber } from "../bindings/ConsoleParkingNumber";
import { h, replace, row, scroller, table } from "../dom";
import { describe, uid } from "../forms";
import { phone } from "../format";
import { t } from "../i18n";

export function parkingPage(): Page {
  const grid = table("parking", [t.colNumber, t.parkingParked], { id: "parking-table", "aria-label": t.pageParking });
  const status = h("p", { class: "form-status", id: "parking-status", role: "status" });
  const say = (text: string, error: boolean) => {
    status.textContent = text;
    status.className = error ? "form-status error" : "form-status ok";
    status.setAttribute("role", error ? "alert" : "status");
  };

  const show = (numbers: ConsoleParkingNumber[]) => {
    if (!numbers.length) {
      replace(grid.body, h("tr", {}, h("td", { colspan: "2", class: "empty", text: t.parkingEmpty })));
      return;
    }
    replace(
      grid.body,
      ...numbers.map((n) => {
        const id = uid("parked");
        const shown = phone(n.number);
        const toggle = h("input", { type: "checkbox", role: "switch", id, "data-number": n.number, "aria-label": t.parkingSwitch(shown) });
        toggle.checked = n.parked;
        const state = h("label", { for: id, class: n.parked ? "parked-word on" : "parked-word", text: n.parked ? t.parkingOn : t.parkingNone });
        toggle.addEventListener("change", async () => {
          const change: ConsoleParkingChange = { number: n.number, parked: toggle.checked };
          toggle.disabled = true;
          try {
            const answer = await put<ConsoleParking>("/parking", change);
            show(answer.numbers);
            say(change.parked ? t.parkingDoneOn(shown) : t.parkingDoneOff(shown), false);
            grid.body.querySelector<HTMLInputElement>(`input[data-number="${n.number.replace(/"/g, "")}"]`)?.focus();
          } catch (e) {
            toggle.checked = !change.parked;
            toggle.disabled = false;
            say(describe(e), true);
          }
        });
        return row([h("span", { class: "number caller", text: shown }), h("span", { class: "switch-cell" }, toggle, state)], { "data-number": n.number });
      }),
    );
  };

  void (async () => {
    try {
      show((await get<ConsoleParking>("/parking")).numbers);
    } catch (e) {
      say(describe(e), true);
      replace(grid.body, h("tr", {}, h("td", { colspan: "2", class: "empty", text: describe(e) })));
    }
  })();
  return {
    root: h("div", { class: "stack narrow-card" }, h("p", { class: "hint", text: t.parkingIntro }), status, h("div", { class: "card flush" }, scroller({ "aria-label": t.pageParking }, grid.table))),
  };
}
