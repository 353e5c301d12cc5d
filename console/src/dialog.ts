// Modal dialogs (<dialog>, so the browser keeps the keyboard inside and Esc closes), and the
// Copy button for invites and links.
import { h } from "./dom";
import { uid } from "./forms";
import { t } from "./i18n";

/** Opens a modal with a title and a body; resolves when it closes. The dialog leaves the page then. */
export function openDialog(title: string, body: Node, className = ""): { dialog: HTMLDialogElement; close: () => void; closed: Promise<void> } {
  const titleId = uid("dialog-title");
  const dialog = h("dialog", { class: `modal ${className}`.trim(), "aria-labelledby": titleId }, h("h2", { id: titleId, text: title }), body);
  document.body.append(dialog);
  const closed = new Promise<void>((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve();
    });
  });
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
  const close = () => {
    if (typeof dialog.close === "function" && dialog.open) dialog.close();
    else {
      dialog.removeAttribute("open");
      dialog.dispatchEvent(new Event("close"));
    }
  };
  return { dialog, close, closed };
}

/** A Cancel button that closes the dialog it is in. */
export function cancelButton(close: () => void): HTMLButtonElement {
  const b = h("button", { type: "button", text: t.cancel });
  b.addEventListener("click", close);
  return b;
}

/** A read-only value with a Copy button beside it. */
export function copyable(label: string, value: string, id: string): HTMLElement {
  const field = h("input", { id, type: "text", readonly: true, value, class: "copy-value" });
  field.value = value;
  const button = h("button", { type: "button", class: "copy", text: t.copy, "aria-label": `${t.copy}: ${label}` });
  const said = h("span", { class: "copy-said", role: "status" });
  button.addEventListener("click", () => {
    const done = (text: string) => {
      said.textContent = text;
      setTimeout(() => (said.textContent = ""), 2500);
    };
    const fallback = () => {
      field.select();
      done(document.execCommand?.("copy") ? t.copied : t.copyFailed);
    };
    if (navigator.clipboard?.writeText) navigator.clipboard.writeText(value).then(() => done(t.copied), fallback);
    else fallback();
  });
  field.addEventListener("focus", () => field.select());
  return h("div", { class: "field copy-field" }, h("label", { for: id, text: label }), h("div", { class: "copy-row" }, field, button, said));
}
