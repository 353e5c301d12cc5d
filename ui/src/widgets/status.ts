// The status line: one sentence under a form or a list saying how the last action went. Screen
// readers hear it when it changes; a failure reads in the danger colour. Every screen's
// "Saving…", "Saved." and error messages go through it.
import { h } from "../dom";

export interface StatusLineOptions {
  /** The element's id, for tests and `aria-describedby`. */
  id?: string;
  /** Its look: `status` (the default) or a page's own, such as the popup's. */
  class?: string;
  /** `alert` for a line that only ever reports failures the operator must act on. */
  role?: "status" | "alert";
}

export class StatusLine {
  readonly root: HTMLParagraphElement;
  private readonly look: string;
  private failed = false;

  constructor(options: StatusLineOptions = {}) {
    this.look = options.class ?? "status";
    const role = options.role ?? "status";
    this.root = h("p", {
      id: options.id,
      class: this.look,
      role,
      "aria-live": role === "status" ? "polite" : undefined,
    });
  }

  /** Shows `text`; `error` marks it as a failure. */
  say(text: string, error = false): void {
    this.failed = error;
    this.root.className = error ? `${this.look} error` : this.look;
    this.root.textContent = text;
  }

  /** Shows a failure. */
  fail(text: string): void {
    this.say(text, true);
  }

  /** Empties the line. */
  clear(): void {
    this.say("");
  }

  /** What the line shows now. */
  get text(): string {
    return this.root.textContent ?? "";
  }

  /** Whether it shows a failure. */
  get isError(): boolean {
    return this.failed;
  }
}
