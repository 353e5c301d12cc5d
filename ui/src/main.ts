// The main window: a header with the screens and the language switch, the Calls and History
// screens, and the core's events feeding both.
import { CallsScreen } from "./calls";
import { AvailabilitySwitch, TeamPanel } from "./colleagues";
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
import { WrapUpPanel } from "./wrapup";

type ScreenName = "calls" | "team" | "history" | "contacts" | "settings";

// `settings` is made below; the Calls screen asks it only once the window runs.
const calls = new CallsScreen(() => settings.team.joined());
const wrapup = new WrapUpPanel(() => {
  if (current === "history") void history.reload();
});
const history = new HistoryScreen(
  (raw) => {
    show("calls");
    calls.callBack(raw);
  },
  (row) => {
    void loadWrapupTags();
    wrapup.offer({
      leg: row.leg,
      number: row.number,
      name: row.name,
      answered: row.answered,
      saved: { leg: row.leg, note: row.note, tags: row.tags, followUpAtMs: row.followUpAtMs },
    });
  },
);
/** The tags the wrap-up offers, read again when one opens (the settings or History may have
 * added some). */
async function loadWrapupTags(): Promise<void> {
  const choices = await api.wrapupTags().catch(() => null);
  if (choices) wrapup.setKnownTags(choices.tags, choices.required);
}
const contacts = new ContactsScreen();
const welcome = new WelcomeDialog();
const settings = new SettingsScreen(applyPreferences, () => welcome.openForm());
const team = new TeamPanel(
  (workplace) => {
    show("calls");
    calls.callBack(workplace);
  },
  () => calls.currentCall(),
);
const availability = new AvailabilitySwitch((message) => link.note(message));
const workplaceBanner = new WorkplaceBanner(() => {
  show("settings");
  settings.focusWorkplace();
});

const tabs: Record<ScreenName, HTMLButtonElement> = {
  calls: h("button", { type: "button", role: "tab", id: "tab-calls", "aria-controls": "screen-calls" }),
  team: h("button", { type: "button", role: "tab", id: "tab-team", "aria-controls": "screen-team", hidden: true }),
  history: h("button", { type: "button", role: "tab", id: "tab-history", "aria-controls": "screen-history" }),
  contacts: h("button", { type: "button", role: "tab", id: "tab-contacts", "aria-controls": "screen-contacts" }),
  settings: h("button", { type: "button", role: "tab", id: "tab-settings", "aria-controls": "screen-settings" }),
};
const panels: Record<ScreenName, HTMLElement> = {
  calls: h("div", { role: "tabpanel", id: "screen-calls", "aria-labelledby": "tab-calls" }, workplaceBanner.root, calls.root),
  team: h("div", { role: "tabpanel", id: "screen-team", "aria-labelledby": "tab-team" }, team.root),
  history: h("div", { role: "tabpanel", id: "screen-history", "aria-labelledby": "tab-history" }, history.root),
  contacts: h("div", { role: "tabpanel", id: "screen-contacts", "aria-labelledby": "tab-contacts" }, contacts.root),
  settings: h("div", { role: "tabpanel", id: "screen-settings", "aria-labelledby": "tab-settings" }, settings.root),
};
const nav = h("nav", { role: "tablist", class: "tabs" }, tabs.calls, tabs.team, tabs.history, tabs.contacts, tabs.settings);
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
  if (name === "team") void team.load();
  if (name === "contacts") void contacts.reload();
  if (name === "settings") void settings.load();
}

function renderChrome(): void {
  document.title = t.appName;
  title.textContent = t.appName;
  nav.setAttribute("aria-label", t.navLabel);
  tabs.calls.textContent = t.navCalls;
  tabs.team.textContent = t.navTeam;
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
  team.render();
  availability.render();
  history.render();
  contacts.render();
  settings.render();
  welcome.render();
  workplaceBanner.render();
  wrapup.render();
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
  let next = order[(order.indexOf(current) + step) % order.length] ?? "calls";
  if (tabs[next].hidden) next = order[(order.indexOf(next) + step) % order.length] ?? "calls";
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
    h("header", { class: "top" }, title, nav, h("div", { class: "spacer" }), availability.root, link.root, langButton),
    h("main", {}, panels.calls, panels.team, panels.history, panels.contacts, panels.settings),
    wrapup.root,
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
      // The Team panel's Transfer follows whether a call of mine is in conversation.
      if (current === "team") team.render();
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
    case "wrapUp":
      void loadWrapupTags();
      wrapup.offer({
        leg: event.call.leg,
        number: event.call.number,
        name: event.call.name,
        answered: event.call.connectedAtMs !== null,
        saved: event.saved,
      });
      break;
    case "colleagueWrapUp":
      // A colleague's note and tags are now that call's (team mode, a supervisor's app).
      if (current === "history") void history.reload();
      break;
    case "followUpDue":
      history.followUpDue();
      break;
    case "link":
      link.set(event.state);
      settings.linkChanged({ state: event.state, reason: event.reason });
      break;
    case "colleague":
      team.update(event.colleague);
      calls.colleagueChanged(event.colleague);
      if (event.colleague.me) availability.show(event.colleague.availability);
      break;
    case "colleagues":
      void loadTeam();
      break;
    case "teamContacts":
      void contacts.teamPhonebookChanged();
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
/** Team mode: the Team tab, the colleagues and my availability (hidden outside a team). */
async function loadTeam(): Promise<void> {
  const joined = settings.team.joined();
  tabs.team.hidden = !joined;
  if (!joined) {
    availability.show(null);
    return;
  }
  await team.load();
  availability.show(team.all().find((c) => c.me)?.availability ?? null);
}

function loadSettings(): void {
  void settings.load().then(async () => {
    void loadTeam();
    const prefs = await api.settings().catch(() => null);
    if (prefs) applyPreferences(prefs);
    workplaceBanner.update(settings.needsWorkplace());
    renderLink();
    calls.teamKnown();
    if (settings.accountState()?.welcome) welcome.open();
  });
}
