// Settings' Diagnostics: one button that saves a zip of the app's logs, its settings (without
// secrets) and a short summary into Downloads, and says where it went, for whoever helps the
// operator with a problem. The shell chooses the folder and a name that replaces nothing.
import { h, replace } from "./dom";
import { t } from "./i18n";
import { api, describe } from "./ipc";
import { StatusLine } from "./widgets/status";

export class DiagnosticsSection {
  readonly root: HTMLElement;
  private readonly button = h("button", { type: "button", id: "save-diagnostics" });
  private readonly status = new StatusLine({ id: "diagnostics-status" });
  private saving = false;

  constructor() {
    this.root = h("section", { id: "settings-diagnostics", "aria-labelledby": "settings-diagnostics-title" });
    this.button.addEventListener("click", () => void this.save());
  }

  render(): void {
    this.button.textContent = this.saving ? t.diagSaving : t.diagSave;
    this.button.disabled = this.saving;
    replace(
      this.root,
      h("h2", { id: "settings-diagnostics-title", text: t.diagTitle }),
      h(
        "div",
        { class: "settings-box" },
        h("p", { id: "diagnostics-hint", class: "hint", text: t.diagHint }),
        h("div", { class: "form-actions start" }, this.button),
        this.status.root,
      ),
    );
  }

  private async save(): Promise<void> {
    this.saving = true;
    this.render();
    this.status.say(t.diagSaving);
    try {
      const saved = await api.saveDiagnostics();
      this.status.say(t.diagSaved(saved.path));
    } catch (e) {
      this.status.fail(describe(e));
    } finally {
      this.saving = false;
      this.render();
      this.button.focus();
    }
  }
}
