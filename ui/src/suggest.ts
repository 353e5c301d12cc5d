// The dialer's suggestions while typing: numbers this app dialled lately, then phonebook
// contacts whose name, company or number matches. Arrow keys move, Enter takes the highlighted
// one (else the form dials what was typed), Esc closes the list.
import { h, replace } from "./dom";
import { t } from "./i18n";
import { api } from "./ipc";

const RECENT_KEY = "trubka.recentNumbers";
const RECENT_KEPT = 12;
const SHOWN = 6;

interface Suggestion {
  label: string;
  detail: string | null;
  raw: string;
}

/** Numbers dialled from this app, newest first. */
export function recentNumbers(): string[] {
  try {
    const saved: unknown = JSON.parse(localStorage.getItem(RECENT_KEY) ?? "[]");
    return Array.isArray(saved) ? saved.filter((n): n is string => typeof n === "string") : [];
  } catch {
    return [];
  }
}

/** Remembers a number that was dialled. */
export function rememberNumber(raw: string): void {
  const number = raw.trim();
  if (!number) return;
  const kept = [number, ...recentNumbers().filter((n) => n !== number)].slice(0, RECENT_KEPT);
  localStorage.setItem(RECENT_KEY, JSON.stringify(kept));
}

const digits = (s: string): string => s.replace(/\D/g, "");

export class DialSuggestions {
  readonly root: HTMLUListElement;
  private items: Suggestion[] = [];
  private active = -1;
  private timer: number | undefined;
  private asked = 0;

  constructor(private readonly input: HTMLInputElement) {
    this.root = h("ul", { id: "dial-suggestions", class: "suggestions", role: "listbox", hidden: true });
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", "dial-suggestions");
    input.setAttribute("aria-expanded", "false");
    input.addEventListener("input", () => this.schedule());
    input.addEventListener("focus", () => this.schedule());
    input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    input.addEventListener("keydown", (e) => this.key(e));
  }

  close(): void {
    this.items = [];
    this.active = -1;
    this.root.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  private schedule(): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.refresh(), 120);
  }

  private async refresh(): Promise<void> {
    const typed = this.input.value.trim();
    const ask = ++this.asked;
    const wanted = digits(typed);
    const recent: Suggestion[] = recentNumbers()
      .filter((n) => n !== typed && (!wanted || digits(n).includes(wanted)))
      .map((n) => ({ label: n, detail: t.suggestRecent, raw: n }));
    let contacts: Suggestion[] = [];
    if (typed.length >= 2) {
      try {
        const rows = await api.contacts(typed);
        contacts = rows.flatMap((c) =>
          c.numbers.map((n) => ({ label: c.name, detail: n.number, raw: n.raw })),
        );
      } catch {
        contacts = [];
      }
    }
    if (ask !== this.asked || document.activeElement !== this.input) return;
    const seen = new Set<string>();
    this.items = [...recent, ...contacts]
      .filter((s) => {
        const key = digits(s.raw) || s.raw;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .slice(0, SHOWN);
    this.active = -1;
    this.render();
  }

  private render(): void {
    if (this.items.length === 0) {
      this.close();
      return;
    }
    replace(
      this.root,
      ...this.items.map((s, i) => {
        const li = h(
          "li",
          {
            id: `dial-suggestion-${i}`,
            role: "option",
            class: i === this.active ? "suggestion active" : "suggestion",
            "aria-selected": String(i === this.active),
          },
          h("span", { class: "suggestion-label", text: s.label }),
          s.detail ? h("span", { class: "suggestion-detail", text: s.detail }) : null,
        );
        // mousedown, not click: the input's blur would close the list before a click lands.
        li.addEventListener("mousedown", (e) => {
          e.preventDefault();
          this.take(i);
        });
        return li;
      }),
    );
    this.root.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    if (this.active >= 0) this.input.setAttribute("aria-activedescendant", `dial-suggestion-${this.active}`);
    else this.input.removeAttribute("aria-activedescendant");
  }

  private key(e: KeyboardEvent): void {
    if (this.root.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.items.length + 1) % (this.items.length + 1);
      if (this.active === this.items.length) this.active = -1;
      this.render();
    } else if (e.key === "Enter" && this.active >= 0) {
      e.preventDefault();
      this.take(this.active);
    } else if (e.key === "Escape") {
      e.preventDefault();
      this.close();
    }
  }

  private take(i: number): void {
    const chosen = this.items[i];
    if (!chosen) return;
    this.input.value = chosen.raw;
    this.close();
    this.input.focus();
  }
}
