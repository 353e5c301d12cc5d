// Forms: every field has a label and a place for its error, and a refusal from the relay lands
// next to the field its `field` names (or above the buttons when it names none).
import { ApiError } from "./api";
import { h } from "./dom";
import { t } from "./i18n";

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

let nextId = 0;

/** An id unique in the page, for labels and descriptions. */
export function uid(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** What the person reads for a refusal: our words for the code, the relay's for a bad field. */
export function describe(error: unknown): string {
  if (!(error instanceof ApiError)) return t.errors.unknown;
  if (error.code === "bad_request" && error.message) return error.message;
  const words = t.errors[error.code] ?? (error.message || t.errors.unknown);
  return error.retryAfter ? `${words} ${t.retryIn(error.retryAfter)}` : words;
}

export class Form {
  readonly root: HTMLFormElement;
  private readonly fields = new Map<string, { control: Control; error: HTMLElement }>();
  private readonly status = h("p", { class: "form-status", role: "status" });
  private readonly actions = h("div", { class: "form-actions" });

  constructor(id: string, private readonly onSubmit: () => Promise<void>) {
    this.root = h("form", { id, class: "form", novalidate: true });
    this.root.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.submit();
    });
  }

  /** Adds a labelled field named as the relay names it in `field`. */
  field(name: string, label: string, control: Control, hint?: string): Control {
    const id = control.id || uid(`f-${name}`);
    control.id = id;
    control.name = name;
    const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint`, text: hint }) : null;
    control.setAttribute("aria-describedby", [hintEl?.id, error.id].filter(Boolean).join(" "));
    this.fields.set(name, { control, error });
    const wrap = h("div", { class: `field field-${control.type === "checkbox" ? "check" : "text"}` });
    if (control.type === "checkbox") wrap.append(control, h("label", { for: id, text: label }));
    else wrap.append(h("label", { for: id, text: label }), control);
    if (hintEl) wrap.append(hintEl);
    wrap.append(error);
    this.root.insertBefore(wrap, this.status.parentNode === this.root ? this.status : null);
    return control;
  }

  /** Adds anything else (a heading, a list) in the form's flow. */
  add(...nodes: Node[]): void {
    for (const node of nodes) this.root.insertBefore(node, this.status.parentNode === this.root ? this.status : null);
  }

  /** The buttons, after the fields; the first is the submit button. */
  buttons(submit: string, ...others: HTMLElement[]): HTMLButtonElement {
    const button = h("button", { type: "submit", class: "primary", text: submit });
    this.actions.replaceChildren(button, ...others);
    this.root.append(this.status, this.actions);
    return button;
  }

  value(name: string): string {
    return this.fields.get(name)?.control.value ?? "";
  }

  control(name: string): Control | undefined {
    return this.fields.get(name)?.control;
  }

  /** Clears every error and the status line. */
  clear(): void {
    for (const { control, error } of this.fields.values()) {
      error.hidden = true;
      error.textContent = "";
      control.removeAttribute("aria-invalid");
    }
    this.status.textContent = "";
    this.status.className = "form-status";
  }

  /** Shows `message` next to the field `name` (matched exactly, or as the last part of a dotted path). */
  fieldError(name: string, message: string): boolean {
    const entry = this.fields.get(name) ?? [...this.fields.entries()].find(([k]) => name.endsWith(`.${k}`) || k.endsWith(`.${name}`))?.[1];
    if (!entry) return false;
    entry.error.textContent = message;
    entry.error.hidden = false;
    entry.control.setAttribute("aria-invalid", "true");
    entry.control.focus();
    return true;
  }

  /** Shows a refusal: next to its field when the relay named one this form has. */
  showError(error: unknown): void {
    const message = describe(error);
    if (error instanceof ApiError && error.field && this.fieldError(error.field, message)) return;
    this.say(message, true);
  }

  say(message: string, isError = false): void {
    this.status.textContent = message;
    this.status.className = isError ? "form-status error" : "form-status ok";
    this.status.setAttribute("role", isError ? "alert" : "status");
  }

  /** Checks the required fields here first (the relay checks everything again). */
  requireFilled(...names: string[]): boolean {
    let ok = true;
    for (const name of [...names].reverse()) {
      if (this.value(name).trim() === "") {
        this.fieldError(name, t.fieldRequired);
        ok = false;
      }
    }
    return ok;
  }

  async submit(): Promise<void> {
    this.clear();
    const submit = this.actions.querySelector<HTMLButtonElement>("button[type=submit]");
    if (submit) submit.disabled = true;
    try {
      await this.onSubmit();
    } catch (e) {
      this.showError(e);
    } finally {
      if (submit) submit.disabled = false;
    }
  }
}

/** A text input. */
export function input(type: string, attrs: Record<string, string | boolean> = {}): HTMLInputElement {
  return h("input", { type, ...attrs });
}

/** A select with these options (value, words). */
export function select(options: [string, string][], value = "", id?: string): HTMLSelectElement {
  const s = h("select", { id }, ...options.map(([v, text]) => h("option", { value: v, text })));
  s.value = value;
  return s;
}
