// The after-call wrap-up: a small panel docked at the bottom of the main window, offered when a
// call of mine ends (and from History's "Note" on any call). Keyboard first: the note has the
// focus (unless the operator is half-way through typing elsewhere), Tab goes to the tags, then the follow-up;
// Enter saves (Shift+Enter is a new line in the note), Esc dismisses. It lives in the main
// window, never in the popup, so a new call's popup is never held up by it; wrap-ups offered
// while one is open wait in line behind it.
import type { WrapUpView } from "./bindings/WrapUpView";
import { h, replace } from "./dom";
import { t } from "./i18n";
import { api, describe } from "./ipc";
import { StatusLine } from "./widgets/status";

/** A call to wrap up. */
export interface WrapUpTarget {
  leg: string;
  /** The number as a person reads it, or null. */
  number: string | null;
  /** The name (external text: textContent only). */
  name: string | null;
  /** Whether the call was answered (a team may require a tag on those). */
  answered: boolean;
  /** What was saved already. */
  saved: WrapUpView | null;
}

type FollowUpChoice = "none" | "hour" | "afternoon" | "tomorrow" | "custom";
const FOLLOW_UP_CHOICES: FollowUpChoice[] = ["none", "hour", "afternoon", "tomorrow", "custom"];

/** Tags as typed: split at commas, trimmed, blanks and repeats (ignoring case) dropped. */
export function parseTags(text: string): string[] {
  const tags: string[] = [];
  for (const raw of text.split(",")) {
    const tag = raw.trim().replace(/\s+/g, " ");
    if (tag && !tags.some((t) => t.toLowerCase() === tag.toLowerCase())) tags.push(tag);
  }
  return tags;
}

/** When a follow-up choice falls due, from `now` (ms), on this computer's clock. */
export function followUpAt(choice: FollowUpChoice, now: number, custom: string): number | null {
  const at = new Date(now);
  switch (choice) {
    case "none":
      return null;
    case "hour":
      return now + 3_600_000;
    case "afternoon":
      at.setHours(15, 0, 0, 0);
      if (at.getTime() <= now) at.setDate(at.getDate() + 1);
      return at.getTime();
    case "tomorrow":
      at.setDate(at.getDate() + 1);
      at.setHours(10, 0, 0, 0);
      return at.getTime();
    case "custom": {
      const ms = custom ? new Date(custom).getTime() : NaN;
      return Number.isFinite(ms) ? ms : null;
    }
  }
}

/** `datetime-local`'s value for a time in ms. */
function localInput(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}

export class WrapUpPanel {
  readonly root: HTMLElement;
  private readonly title = h("h2", { id: "wrapup-title" });
  private readonly who = h("p", { id: "wrapup-who", class: "wrapup-who" });
  private readonly noteLabel = h("label", { for: "wrapup-note" });
  private readonly note = h("textarea", { id: "wrapup-note", rows: 2, maxlength: 4000 });
  private readonly tagsLabel = h("label", { for: "wrapup-tags" });
  private readonly tags = h("input", {
    id: "wrapup-tags",
    type: "text",
    autocomplete: "off",
    spellcheck: "false",
    list: "wrapup-tag-choices",
  });
  private readonly choices = h("datalist", { id: "wrapup-tag-choices" });
  private readonly chips = h("div", { id: "wrapup-chips", class: "wrapup-chips" });
  private readonly followLabel = h("label", { for: "wrapup-follow-up" });
  private readonly follow = h("select", { id: "wrapup-follow-up" });
  private readonly followAt = h("input", { id: "wrapup-follow-up-at", type: "datetime-local" });
  private readonly save = h("button", { type: "submit", id: "wrapup-save", class: "primary" });
  private readonly dismiss = h("button", { type: "button", id: "wrapup-dismiss" });
  private readonly waiting = h("span", { id: "wrapup-waiting", class: "wrapup-waiting" });
  private readonly status = new StatusLine({ id: "wrapup-status" });
  private readonly queue: WrapUpTarget[] = [];
  private known: string[] = [];
  /** An answered call's wrap-up must carry one of the known tags (the team's rule). */
  private required = false;
  private busy = false;

  constructor(
    private readonly saved: (view: WrapUpView) => void,
    private readonly now: () => number = Date.now,
  ) {
    const form = h(
      "form",
      { class: "wrapup-form" },
      h("div", { class: "wrapup-head" }, this.title, this.waiting),
      this.who,
      this.noteLabel,
      this.note,
      this.tagsLabel,
      this.tags,
      this.choices,
      this.chips,
      h("div", { class: "wrapup-follow" }, this.followLabel, this.follow, this.followAt),
      this.status.root,
      h("div", { class: "wrapup-actions" }, this.dismiss, this.save),
    );
    this.root = h(
      "section",
      { id: "wrapup", class: "wrapup-panel", "aria-labelledby": "wrapup-title", hidden: true },
      form,
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.submit();
    });
    this.dismiss.addEventListener("click", () => this.next());
    this.root.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        if (this.mustTag()) this.status.fail(t.wrapupTagRequired);
        else this.next();
      } else if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        const target = e.target as HTMLElement;
        if (target instanceof HTMLButtonElement) return;
        e.preventDefault();
        void this.submit();
      }
    });
    this.follow.addEventListener("change", () => this.showCustom());
    this.tags.addEventListener("input", () => this.renderChips());
  }

  /** Whether a wrap-up is on screen. */
  get open(): boolean {
    return !this.root.hidden;
  }

  /** The leg on screen, if any. */
  get leg(): string | null {
    return this.queue[0]?.leg ?? null;
  }

  /** Offers a wrap-up for a call: at once when none is open, else after the ones waiting. An
   * offer for a call already in line replaces it. */
  offer(target: WrapUpTarget): void {
    const index = this.queue.findIndex((q) => q.leg === target.leg);
    if (index === 0) return;
    if (index > 0) this.queue.splice(index, 1, target);
    else this.queue.push(target);
    if (this.queue.length === 1) this.fill();
    else this.renderWaiting();
  }

  /** The tags to offer (the settings' list, then the others used). */
  setKnownTags(tags: string[], required = false): void {
    this.known = tags;
    this.required = required;
    this.renderWaiting();
    replace(this.choices, ...tags.map((tag) => h("option", { value: tag })));
    this.renderChips();
  }

  render(): void {
    this.title.textContent = t.wrapupTitle;
    this.noteLabel.textContent = t.wrapupNote;
    this.note.placeholder = t.wrapupNotePlaceholder;
    this.tagsLabel.textContent = t.wrapupTags;
    this.tags.placeholder = t.wrapupTagsPlaceholder;
    this.followLabel.textContent = t.wrapupFollowUp;
    this.chips.setAttribute("aria-label", t.wrapupTagChoices);
    const selected = this.follow.value || "none";
    replace(
      this.follow,
      ...FOLLOW_UP_CHOICES.map((c) => h("option", { value: c, text: t.wrapupFollowUps[c] })),
    );
    this.follow.value = selected;
    this.followAt.setAttribute("aria-label", t.wrapupFollowUpAt);
    this.save.textContent = t.wrapupSave;
    this.dismiss.textContent = t.wrapupDismiss;
    this.dismiss.title = t.wrapupDismissHint;
    this.renderWho();
    this.renderWaiting();
    this.renderChips();
  }

  private renderWho(): void {
    const target = this.queue[0];
    if (!target) {
      this.who.textContent = "";
      return;
    }
    const parts = [target.name, target.number].filter((p): p is string => Boolean(p && p.trim()));
    this.who.textContent = parts.length > 0 ? parts.join(" · ") : t.unknownNumber;
  }

  private renderWaiting(): void {
    const more = this.queue.length - 1;
    this.waiting.textContent = more > 0 ? t.wrapupWaiting(more) : "";
    this.waiting.hidden = more <= 0;
    // A wrap-up the team requires cannot be skipped: it stays until a tag is chosen.
    this.dismiss.hidden = this.mustTag();
  }

  /** Whether the call on screen needs one of the team's tags before the wrap-up may close. */
  private mustTag(): boolean {
    const target = this.queue[0];
    return Boolean(target?.answered) && this.required && this.known.length > 0;
  }

  /** Whether the tags typed include one of the known ones. */
  private hasKnownTag(): boolean {
    const known = this.known.map((k) => k.toLowerCase());
    return parseTags(this.tags.value).some((tag) => known.includes(tag.toLowerCase()));
  }

  /** The known tags as buttons that add or take off a tag (out of the Tab order: Tab goes
   * from the note to the tags' field). */
  private renderChips(): void {
    const chosen = parseTags(this.tags.value).map((tag) => tag.toLowerCase());
    replace(
      this.chips,
      ...this.known.map((tag) => {
        const on = chosen.includes(tag.toLowerCase());
        const chip = h("button", {
          type: "button",
          class: on ? "chip on" : "chip",
          tabindex: -1,
          "aria-pressed": String(on),
          text: tag,
        });
        chip.addEventListener("click", () => this.toggle(tag));
        return chip;
      }),
    );
    this.chips.hidden = this.known.length === 0;
  }

  private toggle(tag: string): void {
    const tags = parseTags(this.tags.value);
    const at = tags.findIndex((x) => x.toLowerCase() === tag.toLowerCase());
    if (at >= 0) tags.splice(at, 1);
    else tags.push(tag);
    this.tags.value = tags.join(", ");
    this.renderChips();
  }

  private showCustom(): void {
    const custom = this.follow.value === "custom";
    this.followAt.hidden = !custom;
    if (custom && !this.followAt.value) this.followAt.value = localInput(this.now() + 3_600_000);
  }

  /** Shows the first call in line, with what was saved for it. */
  private fill(): void {
    const target = this.queue[0];
    if (!target) {
      this.root.hidden = true;
      return;
    }
    this.note.value = target.saved?.note ?? "";
    this.tags.value = (target.saved?.tags ?? []).join(", ");
    const at = target.saved?.followUpAtMs ?? null;
    this.follow.value = at === null ? "none" : "custom";
    this.followAt.value = at === null ? "" : localInput(at);
    this.status.clear();
    this.render();
    this.showCustom();
    this.root.hidden = false;
    // The note takes the keyboard, unless the operator is half-way through typing something
    // else (a number in the dialer, a search): an empty field that merely has the focus, as
    // the dialer has between calls, gives it up.
    const active = document.activeElement;
    const typing =
      active !== null &&
      (active.tagName === "INPUT" || active.tagName === "TEXTAREA") &&
      !this.root.contains(active) &&
      (active as HTMLInputElement).value.trim() !== "";
    if (!typing) this.note.focus();
  }

  /** Closes the wrap-up on screen (saved or dismissed) and shows the next one in line. */
  next(): void {
    this.queue.shift();
    this.fill();
  }

  private async submit(): Promise<void> {
    const target = this.queue[0];
    if (!target || this.busy) return;
    const followUpAtMs = followUpAt(this.follow.value as FollowUpChoice, this.now(), this.followAt.value);
    if (this.mustTag() && !this.hasKnownTag()) {
      this.status.fail(t.wrapupTagRequired);
      this.tags.focus();
      return;
    }
    if (this.follow.value === "custom" && followUpAtMs === null) {
      this.status.fail(t.wrapupFollowUpInvalid);
      this.followAt.focus();
      return;
    }
    this.busy = true;
    this.save.disabled = true;
    this.status.say(t.setSaving);
    try {
      const view = await api.saveWrapup({
        leg: target.leg,
        note: this.note.value,
        tags: parseTags(this.tags.value),
        followUpAtMs,
      });
      this.saved(view);
      this.next();
    } catch (e) {
      this.status.fail(describe(e));
    } finally {
      this.busy = false;
      this.save.disabled = false;
    }
  }
}
