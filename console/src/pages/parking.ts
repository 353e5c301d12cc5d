// Parking per external number: for each of the company's numbers, the workplaces its parked calls
// may go to, ticked from the team's seats (and any other SIP IDs typed in), saved per number.
import { get, put } from "../api";
import type { Page } from "../app";
import type { ConsoleParking } from "../api-types";
import type { ConsoleSeat } from "../bindings/ConsoleSeat";
import type { ParkingNumber } from "../api-types";
import { h, replace } from "../dom";
import { describe, Form, input, uid } from "../forms";
import { phone } from "../format";
import { t } from "../i18n";

function numberCard(entry: ParkingNumber, seats: ConsoleSeat[], onSaved: (list: ParkingNumber[]) => void): HTMLElement {
  const known = new Set(seats.map((s) => s.workplace));
  const boxes: HTMLInputElement[] = [];
  const form = new Form(uid("parking-form"), async () => {
    const others = form
      .value("others")
      .split(/[\s,;]+/)
      .map((w) => w.trim())
      .filter(Boolean);
    const parking = [...boxes.filter((b) => b.checked).map((b) => b.value), ...others.filter((w) => !known.has(w))];
    const answer = await put<ConsoleParking>("/parking", { number: entry.number, parking });
    onSaved(answer.numbers);
    form.say(t.saved);
  });
  const legendId = uid("parking-legend");
  const list = h("fieldset", { class: "checks", "aria-labelledby": legendId });
  list.append(h("legend", { id: legendId, class: "visually-hidden", text: t.parkingWorkplaces(phone(entry.number)) }));
  for (const seat of seats) {
    const box = input("checkbox", { id: uid("park"), value: seat.workplace, "data-workplace": seat.workplace });
    box.checked = entry.parking.includes(seat.workplace);
    boxes.push(box);
    list.append(h("div", { class: "check" }, box, h("label", { for: box.id }, h("bdi", { text: seat.name }), h("span", { class: "sub number", text: seat.workplace }))));
  }
  form.add(list);
  const others = form.field("others", t.parkingOther, input("text", { spellcheck: false }));
  others.value = entry.parking.filter((w) => !known.has(w)).join(", ");
  form.buttons(t.save);
  const summary = entry.parking.length ? t.parkingCount(entry.parking.length) : t.parkingNone;
  return h(
    "section",
    { class: "card parking-number", "data-number": entry.number, "aria-label": t.parkingWorkplaces(phone(entry.number)) },
    h("div", { class: "card-head" }, h("h2", { class: "number", text: phone(entry.number) }), h("span", { class: entry.parking.length ? "badge badge-talking" : "badge", text: summary })),
    form.root,
  );
}

export function parkingPage(): Page {
  const list = h("div", { class: "stack", id: "parking-numbers" });
  const status = h("p", { class: "form-status error", role: "alert", hidden: true });
  let seats: ConsoleSeat[] = [];
  const show = (numbers: ParkingNumber[]) => {
    if (!numbers.length) replace(list, h("p", { class: "empty-card", text: t.parkingEmpty }));
    else replace(list, ...numbers.map((n) => numberCard(n, seats, show)));
  };
  void (async () => {
    try {
      const [parking, seatList] = await Promise.all([get<ConsoleParking>("/parking"), get<{ seats: ConsoleSeat[] }>("/seats")]);
      seats = seatList.seats.filter((s) => !s.revokedAt);
      show(parking.numbers);
    } catch (e) {
      status.textContent = describe(e);
      status.hidden = false;
    }
  })();
  return { root: h("div", { class: "stack" }, h("p", { class: "hint", text: t.parkingIntro }), status, list) };
}
