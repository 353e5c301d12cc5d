// The first-run welcome: "Try the demo" (the app already runs it) or "Connect my МТТ Бизнес
// account", a form whose details are checked in Rust field by field. The client secret and the
// relay key go to the OS keyring; after saving, the app restarts into account mode. An invite
// from a team's admin (a link or a code) joins a team instead (team.ts).
import type { AccountForm } from "./bindings/AccountForm";
import { h, replace } from "./dom";
import { t } from "./i18n";
import { api, describe, fieldError } from "./ipc";
import { InviteForm } from "./team";
import { StatusLine } from "./widgets/status";

type Field = "clientId" | "clientSecret" | "redirectUri" | "relayUrl" | "relayKey";

const FIELDS: { field: Field; id: string; type: string; label: () => string; hint: () => string }[] = [
  { field: "clientId", id: "account-client-id", type: "text", label: () => t.wizClientId, hint: () => t.wizClientIdHint },
  {
    field: "clientSecret",
    id: "account-client-secret",
    type: "password",
    label: () => t.wizClientSecret,
    hint: () => t.wizClientSecretHint,
  },
  {
    field: "redirectUri",
    id: "account-redirect-uri",
    type: "url",
    label: () => t.wizRedirectUri,
    hint: () => t.wizRedirectUriHint,
  },
  { field: "relayUrl", id: "account-relay-url", type: "url", label: () => t.wizRelayUrl, hint: () => t.wizRelayHint },
  { field: "relayKey", id: "account-relay-key", type: "password", label: () => t.wizRelayKey, hint: () => t.wizRelayKeyHint },
];

export class WelcomeDialog {
  readonly root: HTMLDialogElement;
  private step: "choose" | "account" = "choose";
  private readonly inputs = new Map<Field, HTMLInputElement>();
  private readonly errors = new Map<Field, HTMLElement>();
  private readonly status = new StatusLine({ id: "account-form-status" });
  private saving = false;
  /** "Join my team": an invite link or code, confirmed with the server's host. */
  private readonly invite = new InviteForm("welcome-invite");

  constructor() {
    this.root = h("dialog", { id: "welcome", class: "welcome", "aria-labelledby": "welcome-title" });
    for (const f of FIELDS) {
      const input = h("input", {
        id: f.id,
        name: f.field,
        type: f.type,
        autocomplete: "off",
        spellcheck: "false",
        "aria-describedby": `${f.id}-hint ${f.id}-error`,
      });
      input.addEventListener("input", () => this.clearError(f.field));
      this.inputs.set(f.field, input);
      this.errors.set(f.field, h("p", { id: `${f.id}-error`, class: "field-error" }));
    }
    // Escape on the form goes back to the choice; on the choice it means "try the demo".
    this.root.addEventListener("cancel", (e) => {
      e.preventDefault();
      if (this.saving) return;
      if (this.step === "account") this.showChoice();
      else void this.tryDemo();
    });
  }

  /** Opens at the choice (first start). */
  open(): void {
    this.showChoice();
    if (!this.root.open) this.root.showModal();
    document.getElementById("welcome-demo")?.focus();
  }

  /** Opens straight at the account form (Settings' "Connect my account"). */
  openForm(): void {
    if (!this.root.open) this.root.showModal();
    this.showForm();
  }

  /** Re-renders in the current language. */
  render(): void {
    if (!this.root.open) return;
    if (this.step === "choose") this.showChoice();
    else this.showForm(false);
  }

  private showChoice(): void {
    this.step = "choose";
    const demo = h("button", { type: "button", id: "welcome-demo", text: t.welcomeDemo });
    const connect = h("button", { type: "button", id: "welcome-connect", class: "primary", text: t.welcomeConnect });
    demo.addEventListener("click", () => void this.tryDemo());
    connect.addEventListener("click", () => this.showForm());
    replace(
      this.root,
      h("h2", { id: "welcome-title", text: t.welcomeTitle }),
      h("p", { text: t.welcomeText }),
      h("ul", { class: "welcome-points" }, h("li", { text: t.welcomeDemoPoint }), h("li", { text: t.welcomeConnectPoint })),
      h("div", { class: "dialog-actions" }, demo, connect),
      h("h3", { id: "welcome-team-title", text: t.welcomeTeam }),
      this.invite.root,
    );
    this.invite.render();
    demo.focus();
  }

  private showForm(focus = true): void {
    this.step = "account";
    const form = h("form", { id: "account-form", novalidate: true });
    for (const f of FIELDS) {
      const input = this.inputs.get(f.field);
      const error = this.errors.get(f.field);
      if (!input || !error) continue;
      form.append(
        h(
          "div",
          { class: "field" },
          h("label", { for: f.id, id: `${f.id}-label`, text: f.label() }),
          input,
          h("p", { id: `${f.id}-hint`, class: "hint", text: f.hint() }),
          error,
        ),
      );
    }
    const back = h("button", { type: "button", id: "account-back", text: t.wizBack });
    back.addEventListener("click", () => this.showChoice());
    const save = h("button", { type: "submit", id: "account-save", class: "primary", text: t.wizSave });
    form.append(h("div", { class: "dialog-actions" }, back, save), this.status.root);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.save(save);
    });
    replace(
      this.root,
      h("h2", { id: "welcome-title", text: t.wizTitle }),
      h("p", { class: "hint", text: t.wizIntro }),
      form,
    );
    if (focus) this.inputs.get("clientId")?.focus();
  }

  private async tryDemo(): Promise<void> {
    try {
      await api.dismissWelcome();
    } catch {
      // Not remembering the answer only means the welcome shows again next time.
    }
    this.root.close();
  }

  private clearError(field: Field): void {
    this.inputs.get(field)?.removeAttribute("aria-invalid");
    const error = this.errors.get(field);
    if (error) error.textContent = "";
  }

  private value(field: Field): string {
    return this.inputs.get(field)?.value ?? "";
  }

  private async save(button: HTMLButtonElement): Promise<void> {
    for (const f of FIELDS) this.clearError(f.field);
    const form: AccountForm = {
      clientId: this.value("clientId"),
      clientSecret: this.value("clientSecret"),
      redirectUri: this.value("redirectUri"),
      relayUrl: this.value("relayUrl") || undefined,
      relayKey: this.value("relayKey") || undefined,
    };
    this.saving = true;
    button.disabled = true;
    this.status.say(t.setSaving);
    try {
      await api.saveAccount(form);
      this.status.say(t.wizRestarting);
      await api.restartApp();
    } catch (e) {
      const refused = fieldError(e);
      const known = FIELDS.find((f) => f.field === refused?.field);
      if (refused && known) {
        const input = this.inputs.get(known.field);
        input?.setAttribute("aria-invalid", "true");
        const error = this.errors.get(known.field);
        if (error) error.textContent = refused.reason;
        input?.focus();
        this.status.clear();
      } else {
        this.status.fail(describe(e));
      }
    } finally {
      this.saving = false;
      button.disabled = false;
    }
  }
}
