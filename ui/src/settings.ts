// The Settings screen: the account and its sign-in, the PBX events link, my workplace, and the
// operator's preferences (popups, notifications, hotkey, links, CRM, language, theme, start at
// login), with routing (routing.ts) and About (about.ts) below. Everything is checked in Rust; a
// refused field is marked and its reason shown.
import { AboutSection } from "./about";
import type { AccountState } from "./bindings/AccountState";
import type { LinkState } from "./bindings/LinkState";
import type { Preferences } from "./bindings/Preferences";
import type { PruneSummary } from "./bindings/PruneSummary";
import type { ThemeChoice } from "./bindings/ThemeChoice";
import type { Workplace } from "./bindings/Workplace";
import { DiagnosticsSection } from "./diagnostics";
import { h, replace } from "./dom";
import { currentLang, t } from "./i18n";
import { api, describe, fieldError } from "./ipc";
import { keepChoices, keepDays, keepLabel, keepValue, pruneText } from "./retention";
import { RoutingSection } from "./routing";
import { TeamSection } from "./team";
import { StatusLine } from "./widgets/status";
import "./settings.css";

/** Applies a theme at once: `system` follows the OS, the others override it. */
export function applyTheme(theme: ThemeChoice): void {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

/** The field names of IpcError.field that this screen shows, and their inputs' ids. */
const PREF_FIELDS: Record<string, string> = {
  hotkey: "pref-hotkey",
  crmUrlTemplate: "pref-crm",
  calls: "pref-keep-calls",
  rawEvents: "pref-keep-raw-events",
  tags: "pref-wrapup-tags",
};

function at(ms: number | null): string {
  if (ms === null) return "—";
  const locale = currentLang() === "ru" ? "ru-RU" : "en-GB";
  return new Date(ms).toLocaleString(locale, {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
}

interface Choice<V extends string> {
  value: V;
  label: () => string;
}

/** A labelled control on one row: the label, the control, an optional hint under it. */
function row(id: string, label: HTMLElement, control: HTMLElement, hint?: HTMLElement, error?: HTMLElement): HTMLElement {
  return h("div", { class: "field", id: `${id}-row` }, label, control, hint, error);
}

export class SettingsScreen {
  readonly root: HTMLElement;
  private account: AccountState | null = null;
  private prefs: Preferences | null = null;
  private link: LinkState | null = null;
  private workplaces: Workplace[] = [];
  private signingIn = false;
  private readonly routing = new RoutingSection();
  /** The Team section (main.ts hands it invite links from outside). */
  readonly team = new TeamSection();
  private readonly about = new AboutSection();
  private readonly diagnostics = new DiagnosticsSection();

  private readonly accountBox = h("div", { id: "settings-account", class: "settings-box" });
  private readonly accountStatus = new StatusLine({ id: "account-status" });
  private readonly linkBox = h("div", { id: "settings-link", class: "settings-box" });
  private readonly workplaceSelect = h("select", { id: "settings-workplace" });
  private readonly workplaceStatus = new StatusLine({ id: "workplace-status" });

  private readonly popups = h("input", { type: "checkbox", id: "pref-popups" });
  private readonly popupWhose = h("select", { id: "pref-popup-whose" });
  private readonly notifyIncoming = h("input", { type: "checkbox", id: "pref-notify-incoming" });
  private readonly notifyMissed = h("input", { type: "checkbox", id: "pref-notify-missed" });
  private readonly hotkey = h("input", {
    type: "text",
    id: "pref-hotkey",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "pref-hotkey-hint pref-hotkey-error",
  });
  private readonly linkAction = h("select", { id: "pref-link-action" });
  private readonly crm = h("input", {
    type: "url",
    id: "pref-crm",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "pref-crm-hint pref-crm-error",
  });
  private readonly language = h("select", { id: "pref-language" });
  private readonly theme = h("select", { id: "pref-theme" });
  private readonly autostart = h("input", { type: "checkbox", id: "pref-autostart" });
  private readonly keepCalls = h("select", { id: "pref-keep-calls", "aria-describedby": "pref-keep-hint" });
  private readonly keepRawEvents = h("select", { id: "pref-keep-raw-events", "aria-describedby": "pref-keep-hint" });
  private readonly wrapupOffer = h("select", { id: "pref-wrapup-offer" });
  private readonly wrapupTags = h("input", {
    id: "pref-wrapup-tags",
    type: "text",
    autocomplete: "off",
    "aria-describedby": "pref-wrapup-tags-hint pref-wrapup-tags-error",
  });
  private readonly pruneLine = h("p", { id: "settings-last-prune", class: "hint", role: "status" });
  private lastPrune: PruneSummary | null = null;
  private readonly saveButton = h("button", { type: "submit", class: "primary", id: "settings-save" });
  private readonly formStatus = new StatusLine({ id: "settings-status" });
  private readonly form: HTMLFormElement;

  private readonly labels = new Map<string, () => string>();

  /**
   * `onApplied` is called after a save with the saved preferences, so the window can follow
   * the language and theme; `onConnect` opens the welcome's account form.
   */
  constructor(
    private readonly onApplied: (prefs: Preferences) => void,
    private readonly onConnect: () => void,
  ) {
    this.form = h(
      "form",
      { id: "settings-form", class: "settings-box", "aria-labelledby": "settings-prefs-title", novalidate: true },
      h("h2", { id: "settings-prefs-title" }),
      h(
        "fieldset",
        {},
        h("legend", { id: "pref-popups-legend" }),
        this.check("pref-popups", this.popups, () => t.setPopups),
        row("pref-popup-whose", this.label("pref-popup-whose", () => t.setPopupWhose), this.popupWhose),
      ),
      h(
        "fieldset",
        {},
        h("legend", { id: "pref-notify-legend" }),
        this.check("pref-notify-incoming", this.notifyIncoming, () => t.setNotifyIncoming),
        this.check("pref-notify-missed", this.notifyMissed, () => t.setNotifyMissed),
      ),
      row(
        "pref-hotkey",
        this.label("pref-hotkey", () => t.setHotkey),
        this.hotkey,
        h("p", { id: "pref-hotkey-hint", class: "hint" }),
        h("p", { id: "pref-hotkey-error", class: "field-error" }),
      ),
      row("pref-link-action", this.label("pref-link-action", () => t.setLinkAction), this.linkAction),
      row(
        "pref-crm",
        this.label("pref-crm", () => t.setCrm),
        this.crm,
        h("p", { id: "pref-crm-hint", class: "hint" }),
        h("p", { id: "pref-crm-error", class: "field-error" }),
      ),
      row("pref-language", this.label("pref-language", () => t.setLanguage), this.language),
      row("pref-theme", this.label("pref-theme", () => t.setTheme), this.theme),
      this.check("pref-autostart", this.autostart, () => t.setAutostart),
      h(
        "fieldset",
        {},
        h("legend", { id: "pref-keep-legend" }),
        row("pref-keep-calls", this.label("pref-keep-calls", () => t.setKeepCalls), this.keepCalls),
        row("pref-keep-raw-events", this.label("pref-keep-raw-events", () => t.setKeepRawEvents), this.keepRawEvents),
        h("p", { id: "pref-keep-hint", class: "hint" }),
        this.pruneLine,
      ),
      h(
        "fieldset",
        {},
        h("legend", { id: "pref-wrapup-legend" }),
        row("pref-wrapup-offer", this.label("pref-wrapup-offer", () => t.setWrapupOffer), this.wrapupOffer),
        row(
          "pref-wrapup-tags",
          this.label("pref-wrapup-tags", () => t.setWrapupTags),
          this.wrapupTags,
          h("p", { id: "pref-wrapup-tags-hint", class: "hint" }),
          h("p", { id: "pref-wrapup-tags-error", class: "field-error" }),
        ),
      ),
      h("div", { class: "form-actions" }, this.saveButton),
      this.formStatus.root,
    );
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.save();
    });
    this.popups.addEventListener("change", () => {
      this.popupWhose.disabled = !this.popups.checked;
    });
    for (const input of [this.hotkey, this.crm]) {
      input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
    }
    this.workplaceSelect.addEventListener("change", () => void this.chooseWorkplace());

    this.root = h(
      "section",
      { class: "screen settings" },
      h(
        "div",
        { class: "settings-col" },
        h("section", { "aria-labelledby": "settings-account-title" }, h("h2", { id: "settings-account-title" }), this.accountBox),
        h(
          "section",
          { "aria-labelledby": "settings-workplace-title" },
          h("h2", { id: "settings-workplace-title" }),
          h(
            "div",
            { class: "settings-box" },
            row("settings-workplace", this.label("settings-workplace", () => t.setWorkplaceLabel), this.workplaceSelect),
            this.workplaceStatus.root,
          ),
        ),
        h("section", { "aria-labelledby": "settings-link-title" }, h("h2", { id: "settings-link-title" }), this.linkBox),
        this.team.root,
      ),
      h("div", { class: "settings-col" }, this.form),
      h("div", { class: "settings-wide" }, this.routing.root),
      h("div", { class: "settings-wide" }, this.diagnostics.root),
      h("div", { class: "settings-wide" }, this.about.root),
    );
  }

  private label(forId: string, text: () => string): HTMLLabelElement {
    const label = h("label", { for: forId, id: `${forId}-label` });
    this.labels.set(`${forId}-label`, text);
    return label;
  }

  private check(id: string, input: HTMLInputElement, text: () => string): HTMLElement {
    return h("div", { class: "check" }, input, this.label(id, text));
  }

  /** Reads everything again (the screen was opened, or the account changed). */
  async load(): Promise<void> {
    const [account, prefs, workplaces, link, lastPrune] = await Promise.all([
      api.account().catch(() => null),
      api.settings().catch((e) => {
        this.formStatus.fail(describe(e));
        return null;
      }),
      api.workplaces().catch(() => [] as Workplace[]),
      api.linkStatus().catch(() => null),
      api.lastPrune().catch(() => null),
      this.team.load(),
    ]);
    this.lastPrune = lastPrune;
    void this.routing.load();
    void this.about.load();
    this.account = account;
    this.workplaces = workplaces;
    this.link = link ?? this.link;
    if (prefs) this.fill(prefs);
    this.render();
  }

  /** The link's latest report, from the core's events. */
  linkChanged(link: LinkState): void {
    this.link = link;
    this.renderLink();
  }

  /** Focuses the workplace choice (from the Calls screen's banner). */
  focusWorkplace(): void {
    this.workplaceSelect.focus();
  }

  render(): void {
    this.team.render();
    for (const [id, text] of this.labels) {
      const el = this.root.querySelector(`#${id}`);
      if (el) el.textContent = text();
    }
    const titles: Record<string, string> = {
      "settings-account-title": t.setAccountTitle,
      "settings-workplace-title": t.setWorkplaceTitle,
      "settings-prefs-title": t.setPrefsTitle,
      "pref-popups-legend": t.setPopupsLegend,
      "pref-notify-legend": t.setNotifyLegend,
      "pref-hotkey-hint": t.setHotkeyHint,
      "pref-crm-hint": t.setCrmHint,
      "pref-keep-legend": t.setKeepLegend,
      "pref-wrapup-legend": t.setWrapupTitle,
      "pref-wrapup-tags-hint": t.setWrapupTagsHint,
      "pref-keep-hint": t.setKeepHint,
    };
    for (const [id, text] of Object.entries(titles)) {
      const el = this.root.querySelector(`#${id}`);
      if (el) el.textContent = text;
    }
    this.crm.placeholder = "https://crm.example.com/find?phone={number}";
    this.hotkey.placeholder = "Ctrl+Alt+D";
    this.options(this.popupWhose, [
      { value: "mine", label: () => t.setPopupMine },
      { value: "allIncoming", label: () => t.setPopupAll },
    ]);
    this.options(this.linkAction, [
      { value: "fill", label: () => t.setLinkFill },
      { value: "confirm", label: () => t.setLinkConfirm },
    ]);
    this.options(this.language, [
      { value: "system", label: () => t.setSystem },
      { value: "ru", label: () => "Русский" },
      { value: "en", label: () => "English" },
    ]);
    this.options(this.theme, [
      { value: "system", label: () => t.setSystem },
      { value: "light", label: () => t.setThemeLight },
      { value: "dark", label: () => t.setThemeDark },
    ]);
    for (const [select, days] of [
      [this.keepCalls, this.prefs?.keepCallsDays ?? null],
      [this.keepRawEvents, this.prefs?.keepRawEventsDays ?? null],
    ] as const) {
      this.options(
        select,
        keepChoices(days).map((d) => ({ value: keepValue(d), label: () => keepLabel(d, t) })),
      );
    }
    this.options(this.wrapupOffer, [
      { value: "answered", label: () => t.setWrapupOffers.answered ?? "" },
      { value: "always", label: () => t.setWrapupOffers.always ?? "" },
      { value: "never", label: () => t.setWrapupOffers.never ?? "" },
    ]);
    this.pruneLine.textContent = pruneText(this.lastPrune, this.lastPrune ? at(this.lastPrune.atMs) : "", t);
    this.saveButton.textContent = t.setSave;
    this.routing.render();
    this.diagnostics.render();
    this.about.render();
    this.renderAccount();
    this.renderWorkplaces();
    this.renderLink();
  }

  /** Replaces a select's options, keeping its value. */
  private options<V extends string>(select: HTMLSelectElement, choices: Choice<V>[]): void {
    const value = select.value;
    replace(select, ...choices.map((c) => h("option", { value: c.value, text: c.label() })));
    if (value) select.value = value;
  }

  private fill(p: Preferences): void {
    this.prefs = p;
    this.popups.checked = p.popups;
    this.popupWhose.disabled = !p.popups;
    this.notifyIncoming.checked = p.notifyIncoming;
    this.notifyMissed.checked = p.notifyMissed;
    this.hotkey.value = p.hotkey;
    this.crm.value = p.crmUrlTemplate;
    this.autostart.checked = p.autostart;
    this.render();
    this.popupWhose.value = p.popupWhose;
    this.linkAction.value = p.linkAction;
    this.language.value = p.language;
    this.theme.value = p.theme;
    this.keepCalls.value = keepValue(p.keepCallsDays);
    this.keepRawEvents.value = keepValue(p.keepRawEventsDays);
    this.wrapupOffer.value = p.wrapupOffer;
    this.wrapupTags.value = p.wrapupTags.join(", ");
  }

  private read(): Preferences | null {
    if (!this.prefs) return null;
    return {
      popups: this.popups.checked,
      popupWhose: this.popupWhose.value === "allIncoming" ? "allIncoming" : "mine",
      notifyIncoming: this.notifyIncoming.checked,
      notifyMissed: this.notifyMissed.checked,
      hotkey: this.hotkey.value,
      linkAction: this.linkAction.value === "fill" ? "fill" : "confirm",
      crmUrlTemplate: this.crm.value,
      language: this.language.value === "ru" ? "ru" : this.language.value === "en" ? "en" : "system",
      theme: this.theme.value === "light" ? "light" : this.theme.value === "dark" ? "dark" : "system",
      autostart: this.autostart.checked,
      keepCallsDays: keepDays(this.keepCalls.value),
      keepRawEventsDays: keepDays(this.keepRawEvents.value),
      wrapupOffer: this.wrapupOffer.value === "always" ? "always" : this.wrapupOffer.value === "never" ? "never" : "answered",
      wrapupTags: this.wrapupTags.value.split(","),
    };
  }

  private async save(): Promise<void> {
    const prefs = this.read();
    if (!prefs) return;
    for (const id of Object.values(PREF_FIELDS)) {
      document.getElementById(id)?.removeAttribute("aria-invalid");
      const error = document.getElementById(`${id}-error`);
      if (error) error.textContent = "";
    }
    this.saveButton.disabled = true;
    this.formStatus.say(t.setSaving);
    try {
      const saved = await api.saveSettings(prefs);
      this.onApplied(saved);
      this.fill(saved);
      this.formStatus.say(t.setSaved);
    } catch (e) {
      const refused = fieldError(e);
      const input = refused ? document.getElementById(PREF_FIELDS[refused.field] ?? "") : null;
      if (refused && input) {
        input.setAttribute("aria-invalid", "true");
        const error = document.getElementById(`${input.id}-error`);
        if (error) error.textContent = refused.reason;
        input.focus();
      }
      this.formStatus.fail(describe(e));
    } finally {
      this.saveButton.disabled = false;
    }
  }

  private renderAccount(): void {
    const a = this.account;
    const lines: HTMLElement[] = [];
    const buttons: HTMLElement[] = [];
    if (!a) {
      lines.push(h("p", { class: "muted", text: t.loading }));
    } else if (a.mode === "demo") {
      lines.push(h("p", { id: "account-mode", text: t.setDemoMode }));
      const connect = h("button", { type: "button", id: "connect-account", text: t.welcomeConnect });
      connect.addEventListener("click", () => this.onConnect());
      buttons.push(connect);
    } else if ((this.team.view()?.state ?? "none") !== "none") {
      // Team mode: the team server holds the МТТ integration; nothing to sign in to here.
      lines.push(h("p", { id: "account-mode", text: t.setTeamMode }));
    } else {
      const dl = h("dl", { class: "facts" });
      const fact = (term: string, value: string, id: string) =>
        dl.append(h("dt", { text: term }), h("dd", { id, text: value }));
      fact(t.setClientId, a.clientId ?? "—", "account-client-id-value");
      fact(t.setSignInState, a.signedIn ? t.setSignedIn : t.setSignedOut, "account-signed-in");
      if (a.signedIn) {
        fact(t.setAccessUntil, at(a.accessExpiresAtMs), "account-access-until");
        fact(t.setRefreshUntil, at(a.refreshExpiresAtMs), "account-refresh-until");
      }
      lines.push(dl);
      if (a.renewSoon) lines.push(h("p", { id: "renew-warning", class: "warning", role: "alert", text: t.setRenewSoon }));
      const signIn = h("button", {
        type: "button",
        id: "sign-in",
        class: a.signedIn ? "" : "primary",
        text: this.signingIn ? t.setSigningIn : t.setSignIn,
      });
      signIn.disabled = this.signingIn;
      signIn.addEventListener("click", () => void this.signIn());
      buttons.push(signIn);
      if (a.signedIn) {
        const signOut = h("button", { type: "button", id: "sign-out", class: "danger", text: t.setSignOut });
        signOut.addEventListener("click", () => void this.signOut());
        buttons.push(signOut);
      }
    }
    if (a?.trouble) lines.push(h("p", { id: "account-trouble", class: "status error", text: a.trouble }));
    replace(this.accountBox, ...lines, h("div", { class: "form-actions start" }, ...buttons), this.accountStatus.root);
  }

  private async signIn(): Promise<void> {
    this.signingIn = true;
    this.renderAccount();
    this.accountStatus.say(t.setSignInBrowser);
    try {
      this.account = await api.signIn();
      this.accountStatus.say(t.setSignInDone);
      this.workplaces = await api.workplaces().catch(() => this.workplaces);
    } catch (e) {
      this.accountStatus.fail(describe(e));
    } finally {
      this.signingIn = false;
      this.renderAccount();
      this.renderWorkplaces();
      if (this.prefs) this.onApplied(this.prefs);
      document.getElementById("sign-in")?.focus();
    }
  }

  private async signOut(): Promise<void> {
    try {
      this.account = await api.signOut();
      this.accountStatus.say(t.setSignedOutDone);
    } catch (e) {
      this.accountStatus.fail(describe(e));
    }
    this.renderAccount();
    document.getElementById("sign-in")?.focus();
  }

  private renderWorkplaces(): void {
    const mine = this.workplaces.find((w) => w.mine)?.sipId ?? this.account?.workplace ?? "";
    const options = this.workplaces.map((w) =>
      h("option", { value: w.sipId, text: w.name ? `${w.name} — ${w.sipId}` : w.sipId }),
    );
    const none = h("option", { value: "", text: this.workplaces.length ? t.setWorkplaceChoose : t.setWorkplaceNone });
    none.disabled = true;
    replace(this.workplaceSelect, none, ...options);
    if (mine && !this.workplaces.some((w) => w.sipId === mine)) {
      this.workplaceSelect.append(h("option", { value: mine, text: mine }));
    }
    this.workplaceSelect.value = mine;
    this.workplaceSelect.disabled = this.workplaces.length === 0;
  }

  private async chooseWorkplace(): Promise<void> {
    const chosen = this.workplaceSelect.value;
    if (!chosen) return;
    try {
      await api.setWorkplace(chosen);
      for (const w of this.workplaces) w.mine = w.sipId === chosen;
      if (this.account) this.account.workplace = chosen;
      this.workplaceStatus.say(t.setWorkplaceSaved);
      if (this.prefs) this.onApplied(this.prefs);
    } catch (e) {
      this.workplaceStatus.fail(describe(e));
    }
  }

  private renderLink(): void {
    const words: Record<string, string> = {
      connected: t.linkConnected,
      reconnecting: t.linkReconnecting,
      offline: t.linkOffline,
      refused: t.linkRefused,
      revoked: t.linkRevoked,
    };
    const team = this.team.joined();
    if (team) {
      // The events come from the team's server, not from the PBX.
      words.connected = t.linkTeamConnected;
      words.refused = t.linkTeamRefused;
      words.offline = t.linkTeamUnreachable;
      words.reconnecting = t.linkTeamUnreachable;
    }
    const title = this.root.querySelector("#settings-link-title");
    if (title) title.textContent = team ? t.setLinkTitleTeam : t.setLinkTitle;
    const state = this.link?.state ?? "";
    const lines: HTMLElement[] = [
      h("p", {
        id: "settings-link-state",
        class: `link ${state || "none"}`,
        text: state ? (words[state] ?? state) : t.setLinkNone,
      }),
    ];
    if (this.link?.reason) lines.push(h("p", { id: "settings-link-reason", class: "hint", text: this.link.reason }));
    if (this.account?.relayUrl) lines.push(h("p", { class: "hint", text: `${t.setRelay}: ${this.account.relayUrl}` }));
    replace(this.linkBox, ...lines);
  }

  /** Whether the operator still has to choose a workplace (for the Calls screen's banner). */
  needsWorkplace(): boolean {
    const a = this.account;
    return !!a && !a.trouble && !a.workplace && (a.mode === "demo" || a.signedIn);
  }

  accountState(): AccountState | null {
    return this.account;
  }
}

/** Applies a saved language: `system` keeps whatever the window already shows. */
export function applyLanguage(language: Preferences["language"], setLang: (lang: "ru" | "en") => void): boolean {
  if (language === "system" || language === currentLang()) return false;
  setLang(language);
  return true;
}

/** The Calls screen's reminder to choose a workplace, with a way straight to the choice. */
export class WorkplaceBanner {
  readonly root: HTMLElement;
  private readonly text = h("p", { id: "workplace-banner-text" });
  private readonly button = h("button", { type: "button", id: "workplace-banner-go", class: "primary" });

  constructor(go: () => void) {
    this.root = h("div", { id: "workplace-banner", class: "banner", role: "region", "aria-labelledby": "workplace-banner-text" }, this.text, this.button);
    this.root.hidden = true;
    this.button.addEventListener("click", go);
  }

  render(): void {
    this.text.textContent = t.bannerWorkplace;
    this.button.textContent = t.bannerWorkplaceButton;
  }

  update(needed: boolean): void {
    this.root.hidden = !needed;
  }
}
