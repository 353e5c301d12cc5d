// The incoming-call popup: who is calling and how earlier calls went, with Transfer, Hang up
// and "open in CRM". The shell keeps this window ready and hidden; it shows it for a call and
// sends the call here, and hides it when the call is answered elsewhere or ends.
import type { PopupView } from "./bindings/PopupView";
import { h, replace } from "./dom";
import { when } from "./format";
import { setLang, spokenLanguage, t } from "./i18n";
import { api, describe, EVENTS, on } from "./ipc";
import { popupWho, withoutBidiControls } from "./popup-who";
import { TransferDialog } from "./transfer";
import { icon } from "./widgets/icons";
import { StatusLine } from "./widgets/status";

const name = h("p", { id: "popup-name", class: "popup-name" });
const number = h("p", { id: "popup-number", class: "popup-number" });
const company = h("p", { id: "popup-company", class: "popup-company" });
const earlier = h("p", { id: "popup-earlier", class: "popup-earlier" });
const lastNote = h("div", { id: "popup-last-note", class: "popup-last-note" });
const heading = h("p", { class: "popup-heading" });
const status = new StatusLine({ class: "popup-status" });
const close = h("button", { type: "button", id: "popup-close", class: "quiet popup-close" }, icon("close"));
const crm = h("button", { type: "button", id: "popup-crm" });
const transfer = h("button", { type: "button", id: "popup-transfer" });
const hangUp = h("button", { type: "button", id: "popup-hangup", class: "danger" });
const dialog = new TransferDialog();

let view: PopupView | null = null;

const root = h(
  "main",
  { class: "popup", "aria-labelledby": "popup-name" },
  h("header", { class: "popup-top" }, heading, close),
  h("div", { class: "popup-who" }, name, number, company),
  earlier,
  lastNote,
  status.root,
  h("div", { class: "popup-actions" }, crm, transfer, hangUp),
  dialog.root,
);
document.getElementById("popup")?.replaceWith(root);

function applyLook(language: string, theme: string): void {
  if (language === "ru" || language === "en") setLang(language);
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function render(): void {
  crm.textContent = t.popupCrm;
  transfer.textContent = t.transfer;
  hangUp.textContent = t.hangUp;
  close.setAttribute("aria-label", t.popupClose);
  close.title = t.popupClose;
  status.clear();
  if (!view) {
    replace(heading);
    for (const el of [name, number, company, earlier]) el.textContent = "";
    replace(lastNote);
    lastNote.hidden = true;
    return;
  }
  heading.textContent = view.answered ? t.popupAnswered : t.popupIncoming;
  // Every name and number is text from outside: textContent only, without bidi controls and
  // isolated (popup.css) so a right-to-left override inside a name cannot reorder what follows it.
  const who = popupWho(view, t.popupUnknownCaller);
  name.textContent = who.name;
  number.textContent = who.number;
  number.hidden = !who.number;
  company.textContent = who.company;
  company.hidden = !who.company;
  if (view.earlierCalls <= 0) {
    earlier.textContent = t.popupFirstCall;
  } else {
    const last =
      view.lastOutcome && view.lastAtMs !== null
        ? ` · ${t.popupLast(t.popupOutcomes[view.lastOutcome] ?? view.lastOutcome, when(view.lastAtMs))}`
        : "";
    earlier.textContent = `${t.popupEarlier(view.earlierCalls)}${last}`;
  }
  crm.hidden = !view.crm || !view.numberRaw;
  // What the operator (or a colleague) noted last time about this number: their text, as text.
  const note = view.lastNote.trim();
  lastNote.hidden = !note && view.lastTags.length === 0;
  replace(
    lastNote,
    h("span", { class: "popup-last-note-title", text: t.popupLastNote }),
    ...view.lastTags.map((tag) => h("span", { class: "tag", text: tag })),
    note ? h("span", { class: "note", text: note }) : null,
  );
}

function show(next: PopupView | null): void {
  view = next;
  if (next) applyLook(next.language, next.theme);
  if (dialog.root.open) dialog.root.close();
  render();
  if (next) mark("popup-call");
}

/** Marks when the page had its call and when it became visible (tests/e2e/measure.rs reads
 * them); only the latest of each is kept. */
function mark(name: string): void {
  performance.clearMarks(name);
  performance.mark(name);
}

function dismiss(): void {
  void api.dismissPopup();
}

close.addEventListener("click", dismiss);
hangUp.addEventListener("click", () => {
  if (!view) return;
  api.hangUp(view.leg).catch((e) => status.fail(describe(e)));
});
transfer.addEventListener("click", () => {
  if (!view) return;
  void dialog.open({ leg: view.leg, number: withoutBidiControls(view.number) }, (m) => status.fail(m), dismiss);
});
crm.addEventListener("click", () => {
  if (!view?.numberRaw) return;
  api.openCrm(view.numberRaw).catch((e) => status.fail(describe(e)));
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !dialog.root.open) dismiss();
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") mark("popup-visible");
});

void on(EVENTS.POPUP_CALL, show);
void on(EVENTS.SETTINGS_CHANGED, (prefs) => {
  applyLook(spokenLanguage(prefs) ?? prefs.language, prefs.theme);
  render();
});
// The call may have been sent before this page listened.
api
  .popupCall()
  .then(show)
  .catch(() => show(null));
