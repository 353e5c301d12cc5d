// Team mode in the window: joining a team from an invite — a `trubka://join` link from outside
// (src-tauri/src/desktop/links.rs), or a link or code pasted in the welcome or in Settings —
// always after confirming the server's host (the focus on Cancel: a link can come from anyone),
// then the app restarts into team mode; Settings' Team section shows the team, the seat, its
// role and workplace, and leaves the team (optionally deleting the team's history and contacts).
import type { TeamView } from "./bindings/TeamView";
import { h, replace } from "./dom";
import { t } from "./i18n";
import { api, describe } from "./ipc";
import { ConfirmDialog } from "./widgets/confirm";
import { StatusLine } from "./widgets/status";

const joinConfirm = new ConfirmDialog("team-confirm");

/** Reads the invite, asks to join its server's host, joins and restarts. Says how it went in `status`. */
export async function askToJoin(invite: string, server: string | null, status: StatusLine): Promise<void> {
  if (!joinConfirm.root.isConnected) document.body.append(joinConfirm.root);
  let host: string;
  try {
    host = (await api.readInvite(invite, server)).host;
  } catch (e) {
    status.fail(describe(e));
    return;
  }
  const yes = await joinConfirm.ask({
    title: t.teamJoinQuestion(host),
    text: t.teamJoinText,
    yes: t.teamJoin,
    tone: "primary",
    focus: "no",
  });
  if (!yes) return;
  status.say(t.teamJoining);
  try {
    const joined = await api.joinTeam(invite, server);
    status.say(t.teamJoined(joined.host, joined.seat));
    await api.restartApp();
  } catch (e) {
    status.fail(describe(e));
  }
}

/** The invite box: a link or a code, and the server's address for a bare code. */
export class InviteForm {
  readonly root: HTMLFormElement;
  private readonly invite: HTMLInputElement;
  private readonly server: HTMLInputElement;
  private readonly status: StatusLine;

  constructor(id: string) {
    this.invite = h("input", { id: `${id}-invite`, type: "text", autocomplete: "off", spellcheck: "false" });
    this.server = h("input", { id: `${id}-server`, type: "url", autocomplete: "off", spellcheck: "false" });
    this.status = new StatusLine({ id: `${id}-status` });
    this.root = h("form", { id, class: "invite-form", novalidate: true });
    this.root.addEventListener("submit", (e) => {
      e.preventDefault();
      const server = this.server.value.trim();
      void askToJoin(this.invite.value, server || null, this.status);
    });
    this.render();
  }

  /** Joins with an invite that came from a link: filled in, then confirmed. */
  join(invite: string): void {
    this.invite.value = invite;
    this.server.value = "";
    void askToJoin(invite, null, this.status);
  }

  render(): void {
    const id = this.root.id;
    replace(
      this.root,
      h("label", { for: this.invite.id, text: t.teamInviteLabel }),
      this.invite,
      h("label", { for: this.server.id, text: t.teamServerLabel }),
      this.server,
      h("div", { class: "dialog-actions" }, h("button", { type: "submit", id: `${id}-join`, text: t.teamJoin })),
      this.status.root,
    );
  }
}

/** Settings' Team section. */
export class TeamSection {
  readonly root: HTMLElement;
  private readonly box = h("div", { class: "settings-box", id: "settings-team" });
  private readonly title = h("h2", { id: "settings-team-title" });
  private readonly invite = new InviteForm("settings-invite");
  private readonly status = new StatusLine({ id: "settings-team-status" });
  private readonly deleteHistory = h("input", { type: "checkbox", id: "settings-team-delete" });
  private view_: TeamView | null = null;

  constructor() {
    this.root = h("section", { "aria-labelledby": "settings-team-title" }, this.title, this.box);
  }

  async load(): Promise<void> {
    this.view_ = await api.team().catch(() => null);
    this.render();
  }

  /** An invite link from outside the window (src-tauri's links): shown here, then confirmed. */
  joinFromLink(invite: string): void {
    if (this.view_ && this.view_.state !== "none") void askToJoin(invite, null, this.status);
    else this.invite.join(invite);
  }

  /** The team as last read (`null` before it was). */
  view(): TeamView | null {
    return this.view_;
  }

  /** Whether the app is a team's seat (the link indicator then speaks of the team server). */
  joined(): boolean {
    return this.view_?.state === "joined";
  }

  render(): void {
    this.title.textContent = t.teamTitle;
    this.invite.render();
    const view = this.view_;
    if (!view || view.state === "none") {
      replace(this.box, h("p", { class: "hint", text: t.teamNone }), this.invite.root);
      return;
    }
    const lines: HTMLElement[] = [];
    if (view.state === "revoked") lines.push(h("p", { id: "settings-team-revoked", class: "error", text: t.teamRevoked }));
    lines.push(
      h("p", { id: "settings-team-host", text: `${t.teamServer}: ${view.host ?? ""}` }),
      h("p", { id: "settings-team-seat", text: `${t.teamSeat}: ${view.seat ?? ""}` }),
      h("p", { id: "settings-team-role", text: `${t.teamRole}: ${roleWord(view.role)}` }),
      h("p", { id: "settings-team-workplace", text: `${t.teamWorkplace}: ${view.workplace ?? ""}` }),
    );
    const leave = h("button", { type: "button", id: "settings-team-leave", class: "danger", text: t.teamLeave });
    leave.addEventListener("click", () => void this.leave());
    replace(
      this.box,
      ...lines,
      h("div", { class: "check" }, this.deleteHistory, h("label", { for: this.deleteHistory.id, text: t.teamDeleteHistory })),
      h("div", { class: "dialog-actions" }, leave),
      this.status.root,
    );
  }

  private async leave(): Promise<void> {
    this.status.say(t.teamLeaving);
    try {
      const left = await api.leaveTeam(this.deleteHistory.checked);
      this.status.say(t.teamLeft(left.deletedCalls, left.deletedContacts));
      await api.restartApp();
    } catch (e) {
      this.status.fail(describe(e));
    }
  }
}

/** The role in the window's language; one this app does not know, as the server wrote it. */
function roleWord(role: string | null): string {
  if (!role) return "";
  return t.teamRoles[role] ?? role;
}
