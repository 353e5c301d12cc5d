// The Seats page's dialogs: add or edit a seat, show an invite (code and link with Copy), revoke
// (confirmed, with the "delete local data" choice), set a console password.
import { post, put, request } from "../api";
import type { ConsoleInvite } from "../bindings/ConsoleInvite";
import type { ConsolePassword } from "../bindings/ConsolePassword";
import type { ConsoleRevoke } from "../bindings/ConsoleRevoke";
import type { ConsoleSeat } from "../bindings/ConsoleSeat";
import type { ConsoleSeatAdded } from "../bindings/ConsoleSeatAdded";
import type { ConsoleSeatChanged } from "../bindings/ConsoleSeatChanged";
import type { ConsoleSeatDraft } from "../bindings/ConsoleSeatDraft";
import type { Role } from "../bindings/Role";
import { cancelButton, copyable, openDialog } from "../dialog";
import { h } from "../dom";
import { Form, input, select } from "../forms";
import { when } from "../format";
import { t } from "../i18n";

export function roleWords(role: string): string {
  return role === "admin" ? t.roleAdmin : role === "supervisor" ? t.roleSupervisor : t.roleOperator;
}

/** Adds a seat (`seat` null) or edits one; resolves with what the relay answered, or null. */
export function seatDialog(seat: ConsoleSeat | null): Promise<{ seat: ConsoleSeat; invite?: ConsoleInvite } | null> {
  return new Promise((resolve) => {
    let result: { seat: ConsoleSeat; invite?: ConsoleInvite } | null = null;
    const form = new Form("seat-form", async () => {
      if (!form.requireFilled("name", "workplace")) return;
      const body: ConsoleSeatDraft = { name: form.value("name").trim(), workplace: form.value("workplace").trim(), role: form.value("role") as Role };
      result = seat ? await put<ConsoleSeatChanged>(`/seats/${seat.id}`, body) : await post<ConsoleSeatAdded>("/seats", body);
      close();
    });
    const name = form.field("name", t.seatName, input("text", { id: "seat-name", autocomplete: "off" }));
    const workplace = form.field("workplace", t.seatWorkplace, input("text", { id: "seat-workplace", autocomplete: "off", inputmode: "numeric", spellcheck: false }));
    form.field("role", t.seatRole, select([["operator", t.roleOperator], ["supervisor", t.roleSupervisor], ["admin", t.roleAdmin]], seat?.role ?? "operator", "seat-role"));
    if (seat) {
      name.value = seat.name;
      workplace.value = seat.workplace;
    }
    const { close, closed } = openDialog(seat ? t.seatsEditTitle : t.seatsAddTitle, form.root, "seat-dialog");
    form.buttons(t.save, cancelButton(close));
    name.focus();
    void closed.then(() => resolve(result));
  });
}

/** Shows an invite: its code and its link, each with Copy. */
export function inviteDialog(seatName: string, invite: ConsoleInvite): Promise<void> {
  const done = h("button", { type: "button", class: "primary", id: "invite-done", text: t.close });
  const body = h(
    "div",
    { class: "invite" },
    h("p", { class: "hint", text: t.inviteHint(when(invite.expiresAt)) }),
    copyable(t.inviteLink, invite.link, "invite-link"),
    copyable(t.inviteCode, invite.code, "invite-code"),
    h("div", { class: "form-actions" }, done),
  );
  const { close, closed } = openDialog(t.inviteTitle(seatName), body, "invite-dialog");
  done.addEventListener("click", close);
  document.getElementById("invite-link")?.focus();
  return closed;
}

/** Asks before revoking; resolves with the revoked seat, or null. */
export function revokeDialog(seat: ConsoleSeat): Promise<ConsoleSeat | null> {
  return new Promise((resolve) => {
    let result: ConsoleSeat | null = null;
    const form = new Form("revoke-form", async () => {
      const wipe = (form.control("deleteLocalData") as HTMLInputElement).checked;
      const revoke: ConsoleRevoke = { deleteLocalData: wipe };
      result = (await post<ConsoleSeatChanged>(`/seats/${seat.id}/revoke`, revoke)).seat;
      close();
    });
    form.add(h("p", { class: "hint", text: t.revokeHint }));
    form.field("deleteLocalData", t.revokeDeleteData, input("checkbox", { id: "revoke-wipe" }));
    const { close, closed } = openDialog(t.revokeTitle(seat.name), form.root, "revoke-dialog");
    const confirm = form.buttons(t.revokeConfirm, cancelButton(close));
    confirm.className = "danger";
    confirm.id = "revoke-confirm";
    (form.root.querySelector("button[type=button]") as HTMLButtonElement | null)?.focus();
    void closed.then(() => resolve(result));
  });
}

/** Sets the seat's console password (≥ 12 characters, typed twice). */
export function passwordDialog(seat: ConsoleSeat): Promise<boolean> {
  return new Promise((resolve) => {
    let set = false;
    const form = new Form("password-form", async () => {
      const password = form.value("password");
      if (password.length < 12) {
        form.fieldError("password", t.passwordTooShort);
        return;
      }
      if (password !== form.value("repeat")) {
        form.fieldError("repeat", t.passwordMismatch);
        return;
      }
      const body: ConsolePassword = { password };
      await request("PUT", `/seats/${seat.id}/console-password`, body);
      set = true;
      close();
    });
    form.add(h("p", { class: "hint", text: t.passwordHint }));
    const first = form.field("password", t.passwordNew, input("password", { id: "password-new", autocomplete: "new-password", minlength: "12" }));
    form.field("repeat", t.passwordRepeat, input("password", { id: "password-repeat", autocomplete: "new-password" }));
    const { close, closed } = openDialog(t.passwordTitle(seat.name), form.root, "password-dialog");
    form.buttons(t.save, cancelButton(close));
    first.focus();
    void closed.then(() => resolve(set));
  });
}
