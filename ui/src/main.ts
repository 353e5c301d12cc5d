// The main window: a header with the screens and the language switch, the Calls and History
// screens, and the core's events feeding both.
import { CallsScreen } from "./calls";
import { ContactsScreen } from "./contacts";
import { h, replace } from "./dom";
import { HistoryScreen } from "./history";
import { LinkIndicator } from "./link-indicator";
import { currentLang, setLang, spokenLanguage, t } from "./i18n";
import type { DialRequest } from "./bindings/DialRequest";
import { api, EVENTS, on } from "./ipc";
import type { Preferences } from "./bindings/Preferences";
import { applyLanguage, applyTheme, SettingsScreen, WorkplaceBanner } from "./settings";
import { WelcomeDialog } from "./welcome";

type ScreenName = "calls" | "history" | "contacts" | "settings";

// `settings` is made below; the Calls screen asks it only once the window runs.
const calls = new CallsScreen(() => settings.team.joined());
const history = new HistoryScreen((raw) => {
  show("calls");
  calls.callBack(raw);
});
const contacts = new ContactsScreen();
const welcome = new WelcomeDialog();
const settings = new SettingsScreen(applyPreferences, () => welcome.openForm());
const workplaceBanner = new WorkplaceBanner(() => {
  show("settings");
  settings.focusWorkplace();
});

const tabs: Record<ScreenName, HTMLButtonElement> = {
  calls: h("button", { type: "button", role: "tab", id: "tab-calls", "aria-controls": "screen-calls" }),
  history: h("button", { type: "button", role: "tab", id: "tab-history", "aria-controls": "screen-history" }),
  contacts: h("button", { type: "button", role: "tab", id: "tab-contacts", "aria-controls": "screen-contacts" }),
  settings: h("button", { type: "button", role: "tab", id: "tab-settings", "aria-controls": "screen-settings" }),
};
const panels: Record<ScreenName, HTMLElement> = {
  calls: h("div", { role: "tabpanel", id: "screen-calls", "aria-labelledby": "tab-calls" }, workplaceBanner.root, calls.root),
  history: h("div", { role: "tabpanel", id: "screen-history", "aria-labelledby": "tab-history" }, history.root),
  contacts: h("div", { role: "tabpanel", id: "screen-contacts", "aria-labelledby": "tab-contacts" }, contacts.root),
  settings: h("div", { role: "tabpanel", id: "screen-settings", "aria-labelledby": "tab-settings" }, settings.root),
};
const nav = h("nav", { role: "tablist", class: "tabs" }, tabs.calls, tabs.history, tabs.contacts, tabs.settings);
const title = h("h1", { class: "brand" });
const link = new LinkIndicator(() => settings.team.joined());
const langButton = h("button", { type: "button", class: "quiet" });
let current: ScreenName = "calls";

function show(name: ScreenName): void {
  current = name;
  for (const key of Object.keys(tabs) as ScreenName[]) {
    const active = key === name;
    tabs[key].setAttribute("aria-selected", String(active));
    tabs[key].tabIndex = active ? 0 : -1;
    panels[key].hidden = !active;
  }
  if (name === "history") void history.reload();
  if (name === "contacts") void contacts.reload();
  if (name === "settings") void settings.load();
}

function renderChrome(): void {
  document.title = t.appName;
  title.textContent = t.appName;
  nav.setAttribute("aria-label", t.navLabel);
  tabs.calls.textContent = t.navCalls;
  tabs.history.textContent = t.navHistory;
  tabs.contacts.textContent = t.navContacts;
  tabs.settings.textContent = t.navSettings;
  langButton.textContent = t.language;
  langButton.setAttribute("aria-label", t.languageLabel);
  renderLink();
}

function renderLink(): void {
  link.render();
}

function renderAll(): void {
  renderChrome();
  calls.render();
  history.render();
  contacts.render();
  settings.render();
  welcome.render();
  workplaceBanner.render();
}

/** Follows saved preferences at once: the theme, the language, the workplace banner. */
function applyPreferences(prefs: Preferences): void {
  applyTheme(prefs.theme);
  if (applyLanguage(spokenLanguage(prefs) ?? prefs.language, setLang)) renderAll();
  workplaceBanner.update(settings.needsWorkplace());
  renderLink();
}

for (const name of Object.keys(tabs) as ScreenName[]) {
  tabs[name].addEventListener("click", () => show(name));
}
nav.addEventListener("keydown", (e) => {
  if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
  const order = Object.keys(tabs) as ScreenName[];
  const step = e.key === "ArrowRight" ? 1 : order.length - 1;
  const next = order[(order.indexOf(current) + step) % order.length] ?? "calls";
  show(next);
  tabs[next].focus();
});
langButton.addEventListener("click", () => {
  setLang(currentLang() === "ru" ? "en" : "ru");
  renderAll();
});

document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
    e.preventDefault();
    show("calls");
    calls.focusDialer();
  }
});

const app = document.getElementById("app");
if (app) {
  replace(
    app,
    h("header", { class: "top" }, title, nav, h("div", { class: "spacer" }), link.root, langButton),
    h("main", {}, panels.calls, panels.history, panels.contacts, panels.settings),
    welcome.root,
  );
}
renderAll();
show("calls");
calls.focusDialer();
// The start-up's last step as the window sees it (tests/e2e/measure.rs reads it).
performance.mark("calls-screen");

void on(EVENTS.DOMAIN_EVENT, (event) => {
  switch (event.kind) {
    case "call":
      calls.update(event.call, event.missed, event.late);
      if (event.call.phase === "ended" && !event.late && current === "history") void history.reload();
      break;
    case "caughtUp":
      // What happened while the app was away is in: today's figures and the history, once.
      void calls.loadToday();
      if (current === "history") void history.reload();
      break;
    case "recorded":
      history.recorded(event.leg, event.url);
      break;
    case "link":
      link.set(event.state);
      settings.linkChanged({ state: event.state, reason: event.reason });
      break;
    case "resync":
      void calls.load();
      if (current === "history") void history.reload();
      break;
  }
});
// A number from a link, the hotkey or the tray (src-tauri/src/desktop/links.rs), and one that
// arrived before this window listened.
function dialRequest(request: DialRequest): void {
  show("calls");
  calls.fill(request);
}
void on(EVENTS.DIAL_REQUEST, (request) => {
  dialRequest(request);
  void api.takeDialRequest();
});
/**
 * Runs `then` once the window has painted the screen drawn above (or after a moment, since a
 * hidden window paints nothing). The shell starts the core, and makes the popup's page in this
 * page's web process, when the window first asks for the core (src-tauri/src/startup.rs): asked
 * earlier, both would compete with the first paint.
 */
function afterFirstPaint(then: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    then();
  };
  requestAnimationFrame(() => setTimeout(once, 0));
  setTimeout(once, 500);
}

// A team invite link (`trubka://join?…`): Settings' Team section confirms the host, then joins.
function joinRequest(invite: string): void {
  show("settings");
  settings.team.joinFromLink(invite);
}
void on(EVENTS.JOIN_REQUEST, (invite) => {
  joinRequest(invite);
  void api.takeJoinRequest();
});
afterFirstPaint(() => {
  void api.takeDialRequest().then((r) => r && dialRequest(r));
  void api.takeJoinRequest().then((invite) => invite && joinRequest(invite));
  // The first answer waits for the core to start, so the window is already there meanwhile.
  // The link's first report usually comes before the window listens, so it is asked for once.
  void calls.load().then(async () => {
    const report = await api.linkStatus().catch(() => null);
    if (link.current === "starting") link.set(report ? report.state : "");
  });
  loadSettings();
});
// The saved theme and language, the first-run welcome, and the workplace reminder.
void on(EVENTS.SETTINGS_CHANGED, (prefs) => {
  applyTheme(prefs.theme);
  if (applyLanguage(spokenLanguage(prefs) ?? prefs.language, setLang)) renderAll();
});
function loadSettings(): void {
  void settings.load().then(async () => {
    const prefs = await api.settings().catch(() => null);
    if (prefs) applyPreferences(prefs);
    workplaceBanner.update(settings.needsWorkplace());
    renderLink();
    calls.teamKnown();
    if (settings.accountState()?.welcome) welcome.open();
  });
}
