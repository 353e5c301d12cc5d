// The confirmation: one question in a modal dialog, answered yes or no. Deleting a contact,
// parking a number and dialling a number that came from outside the window all ask with it.
// Escape or Cancel is a no.
import { h } from "../dom";
import { t } from "../i18n";

export interface Question {
  /** The question itself ("Delete Ivan from the phonebook?"). */
  title: string;
  /** What follows from yes, when it needs saying. */
  text?: string;
  /** The yes button's words: the action ("Delete", "Call"), not "OK". */
  yes: string;
  /** `danger` for what cannot be undone, else `primary`. */
  tone: "primary" | "danger";
  /** Which answer has the focus: the safe one (`no`) unless yes is what the operator came for
   * in this very window. A question raised from outside (a link, the hotkey) always focuses
   * `no`: a key typed into another program as the window comes up must not answer yes. */
  focus: "yes" | "no";
}

export class ConfirmDialog {
  readonly root: HTMLDialogElement;
  private readonly title: HTMLElement;
  private readonly text: HTMLElement;
  private readonly yes: HTMLButtonElement;
  private readonly no: HTMLButtonElement;
  private answer: (yes: boolean) => void = () => {};

  /** `id` names the dialog; its parts are `<id>-title`, `<id>-text`, `<id>-yes` and `<id>-no`. */
  constructor(id: string) {
    this.title = h("h2", { id: `${id}-title` });
    this.text = h("p", { id: `${id}-text`, class: "hint" });
    this.yes = h("button", { type: "button", id: `${id}-yes` });
    this.no = h("button", { type: "button", id: `${id}-no` });
    this.yes.addEventListener("click", () => this.finish(true));
    this.no.addEventListener("click", () => this.finish(false));
    this.root = h(
      "dialog",
      {
        id,
        class: "transfer confirm-dialog",
        "aria-labelledby": `${id}-title`,
        "aria-describedby": `${id}-text`,
      },
      this.title,
      this.text,
      h("div", { class: "dialog-actions" }, this.no, this.yes),
    );
    // Escape closes the dialog: that is a no. (The event comes a moment after the closing; a
    // question asked meanwhile has opened the dialog again and stays open.)
    this.root.addEventListener("close", () => {
      if (!this.root.open) this.settle(false);
    });
  }

  /** Asks; a question still open is answered no first. */
  ask(question: Question): Promise<boolean> {
    this.settle(false);
    this.title.textContent = question.title;
    this.text.textContent = question.text ?? "";
    this.text.hidden = !question.text;
    this.yes.textContent = question.yes;
    this.yes.className = question.tone;
    this.no.textContent = t.cancel;
    return new Promise((resolve) => {
      this.answer = resolve;
      if (!this.root.open) this.root.showModal();
      (question.focus === "yes" ? this.yes : this.no).focus();
    });
  }

  /** Withdraws an open question (answered no). */
  withdraw(): void {
    if (this.root.open) this.root.close();
    this.settle(false);
  }

  private finish(yes: boolean): void {
    this.settle(yes);
    this.root.close();
  }

  private settle(yes: boolean): void {
    const answer = this.answer;
    this.answer = () => {};
    answer(yes);
  }
}
