// The console's frame: routing by `location.pathname` (history API), the left navigation with the
// pages the role may see, the signed-in person with sign out and sign out everywhere, the language
// and theme switches. Pages are built fresh on each visit and disposed of when left (the
// wallboard closes its stream).
import { del, request, useSession, whenUnauthorized } from "./api";
import type { ConsoleRole } from "./bindings/ConsoleRole";
import type { ConsoleSession } from "./bindings/ConsoleSession";
import { h } from "./dom";
import { currentLang, setLang, t, type Strings } from "./i18n";
import { applyTheme, currentTheme, nextTheme } from "./theme";

export const BASE = "/admin";

/** A page on screen. */
export interface Page {
  root: HTMLElement;
  /** Stops what the page runs (streams, timers). */
  dispose?(): void;
}

/** What a page may use of the console. */
export interface PageContext {
  session: ConsoleSession;
  app: ConsoleApp;
}

/** One page of the console. */
export interface PageDef {
  /** The path below /admin: `wallboard`. */
  path: string;
  title: (t: Strings) => string;
  roles: ConsoleRole[];
  make(ctx: PageContext): Page;
}

/** The page a path names, or null (the path is /admin or unknown). */
export function pageFor(pathname: string, pages: PageDef[]): PageDef | null {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length).replace(/^\/+|\/+$/g, "") : "";
  return pages.find((p) => p.path === rest) ?? null;
}

/** The pages a role sees in the navigation, in order. */
export function pagesFor(role: ConsoleRole, pages: PageDef[]): PageDef[] {
  return pages.filter((p) => p.roles.includes(role));
}

export type SignInPage = (app: ConsoleApp, notice: string | null) => Page;

export class ConsoleApp {
  session: ConsoleSession | null = null;
  private current: Page | null = null;
  private wanted: string | null = null;
  private notice: string | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly pages: PageDef[],
    private readonly signIn: SignInPage,
  ) {
    whenUnauthorized(() => this.signedOut(t.sessionEnded));
    window.addEventListener("popstate", () => this.render());
  }

  /** Asks the relay whether a session is open, then shows the page the address names. */
  async start(): Promise<void> {
    try {
      // No session yet is an answer here, not a session lost: no "your session has ended".
      const session = await request<ConsoleSession>("GET", "/session", undefined, { ownUnauthorized: true });
      this.session = session;
      useSession(session);
    } catch {
      this.session = null;
      const page = pageFor(location.pathname, this.pages);
      if (page) this.wanted = location.pathname;
    }
    this.render();
  }

  /** Goes to a path (`/admin/seats`) as a link would. */
  navigate(path: string, replace = false): void {
    if (replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
    this.render(true);
  }

  signedIn(session: ConsoleSession): void {
    this.session = session;
    useSession(session);
    this.notice = null;
    const wanted = this.wanted;
    this.wanted = null;
    this.navigate(wanted ?? `${BASE}/wallboard`, true);
  }

  signedOut(notice: string | null = null): void {
    if (this.session && notice) this.wanted = location.pathname;
    this.session = null;
    useSession(null);
    this.notice = notice;
    this.navigate(`${BASE}/signin`, true);
  }

  /** Draws the page again in the current language. */
  redraw(): void {
    this.render();
  }

  private render(moveFocus = false): void {
    this.current?.dispose?.();
    this.current = null;
    document.body.classList.remove("wall");
    const session = this.session;
    if (!session) {
      if (location.pathname !== `${BASE}/signin`) history.replaceState(null, "", `${BASE}/signin`);
      document.title = `${t.pageSignin} — ${t.consoleName}`;
      this.current = this.signIn(this, this.notice);
      this.root.replaceChildren(this.current.root);
      return;
    }
    const allowed = pagesFor(session.role, this.pages);
    let page = pageFor(location.pathname, this.pages);
    if (!page || !allowed.includes(page)) {
      page = allowed[0];
      history.replaceState(null, "", `${BASE}/${page.path}`);
    }
    document.title = `${page.title(t)} — ${t.consoleName}`;
    this.current = page.make({ session, app: this });
    const heading = h("h1", { id: "page-title", tabindex: "-1", text: page.title(t) });
    const main = h("main", { id: "main", class: `page page-${page.path}`, "aria-labelledby": "page-title" }, this.current.root);
    this.root.replaceChildren(
      h("a", { class: "skip", href: "#main", text: t.skipToContent }),
      h("div", { class: "frame" }, this.nav(allowed, page, session), h("div", { class: "column" }, h("header", { class: "top" }, heading), main)),
    );
    if (moveFocus) heading.focus();
  }

  private nav(allowed: PageDef[], active: PageDef, session: ConsoleSession): HTMLElement {
    const links = allowed.map((p) => {
      const a = h("a", { href: `${BASE}/${p.path}`, id: `nav-${p.path}`, text: p.title(t), "aria-current": p === active ? "page" : null });
      a.addEventListener("click", (e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        this.navigate(`${BASE}/${p.path}`);
      });
      return h("li", {}, a);
    });
    return h(
      "nav",
      { class: "side", "aria-label": t.navLabel },
      h("p", { class: "brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), h("span", { text: t.appName }), h("span", { class: "brand-sub", text: t.consoleName })),
      h("ul", {}, ...links),
      this.account(session),
    );
  }

  /** The foot of the navigation: who is signed in, the switches, signing out. */
  private account(session: ConsoleSession): HTMLElement {
    const lang = h("button", { type: "button", id: "switch-lang", class: "quiet", text: t.switchLanguage, title: t.switchLanguageLabel, lang: currentLang() === "ru" ? "en" : "ru" });
    lang.addEventListener("click", () => {
      setLang(currentLang() === "ru" ? "en" : "ru");
      this.redraw();
      document.getElementById("switch-lang")?.focus();
    });
    const theme = currentTheme();
    const themeWords = { system: t.themeSystem, light: t.themeLight, dark: t.themeDark };
    const themeButton = h("button", { type: "button", id: "switch-theme", class: "quiet", text: themeWords[theme], "aria-label": `${t.theme}: ${themeWords[theme]}` });
    themeButton.addEventListener("click", () => {
      applyTheme(nextTheme(currentTheme()));
      this.redraw();
      document.getElementById("switch-theme")?.focus();
    });
    const signOut = h("button", { type: "button", id: "sign-out", text: t.signOut });
    signOut.addEventListener("click", () => void this.end("/session"));
    const everywhere = h("button", { type: "button", id: "sign-out-everywhere", class: "quiet", text: t.signOutEverywhere });
    everywhere.addEventListener("click", () => void this.end("/sessions"));
    const role = session.role === "admin" ? t.roleAdmin : t.roleSupervisor;
    return h(
      "div",
      { class: "side-foot" },
      h("div", { class: "switches" }, lang, themeButton),
      h("p", { class: "person", id: "person" }, h("span", { class: "visually-hidden", text: `${t.signedInAs} ` }), h("span", { class: "person-name", text: session.name }), h("span", { class: "person-role", text: role })),
      h("div", { class: "sign-out" }, signOut, everywhere),
    );
  }

  private async end(path: "/session" | "/sessions"): Promise<void> {
    try {
      await del(path);
    } catch {
      // Signed out either way: the page forgets the session, and a dead one is no loss.
    }
    this.signedOut(null);
  }
}
