// Seats: everyone's app version, last seen, presence and availability, and (for admins) add,
// edit, invite, revoke and the console password of admin and supervisor seats. Supervisors see
// the same table without the buttons.
import { get, post } from "../api";
import type { Page, PageContext } from "../app";
import type { ConsoleNewInvite } from "../bindings/ConsoleNewInvite";
import type { ConsoleSeat } from "../bindings/ConsoleSeat";
import type { ConsoleSeats } from "../bindings/ConsoleSeats";
import { button, h, replace, row, scroller, table } from "../dom";
import { describe } from "../forms";
import { when } from "../format";
import { t } from "../i18n";
import { inviteDialog, passwordDialog, revokeDialog, roleWords, seatDialog } from "./seat-dialogs";
import { availabilityWords, presenceWords } from "./wallboard";

/** A seat's status in words (revoked, joined, invited, not joined) and since or until when. */
export function seatStatus(seat: ConsoleSeat): { word: string; when: string | null; kind: string } {
  if (seat.revokedAt) return { word: t.statusRevoked, when: when(seat.revokedAt), kind: "revoked" };
  if (seat.joinedAt) return { word: t.statusJoined, when: when(seat.joinedAt), kind: "joined" };
  if (seat.inviteExpiresAt && Date.parse(seat.inviteExpiresAt) > Date.now()) return { word: t.statusInvited, when: t.statusUntil(when(seat.inviteExpiresAt)), kind: "invited" };
  return { word: t.statusNotJoined, when: null, kind: "none" };
}

export function seatsPage(ctx: PageContext): Page {
  const admin = ctx.session.role === "admin";
  const columns = [t.colSeatName, t.colRole, t.colApp, t.colNow, t.colStatus];
  const grid = table("seats", admin ? [...columns, t.colActions] : columns, { id: "seats-table", "aria-label": t.pageSeats });
  const status = h("p", { class: "form-status", id: "seats-status", role: "status" });

  const say = (text: string, error = false) => {
    status.textContent = text;
    status.className = error ? "form-status error" : "form-status ok";
    status.setAttribute("role", error ? "alert" : "status");
  };
  const guarded = async (action: () => Promise<void>) => {
    try {
      await action();
    } catch (e) {
      say(describe(e), true);
    }
  };

  const actions = (seat: ConsoleSeat): HTMLElement => {
    if (seat.revokedAt) return h("span", { class: "muted", text: t.none });
    const label = (verb: string) => `${verb}: ${seat.name}`;
    return h(
      "div",
      { class: "row-actions" },
      button(t.edit, () => void guarded(async () => {
        if (await seatDialog(seat)) await load();
      }), { "aria-label": label(t.edit), class: "small" }),
      button(t.seatsInvite, () => void guarded(async () => {
        const { invite } = await post<ConsoleNewInvite>(`/seats/${seat.id}/invite`);
        await inviteDialog(seat.name, invite);
        await load();
      }), { "aria-label": label(t.seatsInvite), class: "small", "data-action": "invite" }),
      seat.role !== "operator"
        ? button(t.seatsPasswordShort, () => void guarded(async () => {
            if (await passwordDialog(seat)) say(t.passwordSet);
            await load();
          }), { "aria-label": label(t.seatsPassword), class: "small", "data-action": "password" })
        : null,
      button(t.seatsRevoke, () => void guarded(async () => {
        if (await revokeDialog(seat)) await load();
      }), { "aria-label": label(t.seatsRevoke), class: "small danger", "data-action": "revoke" }),
    );
  };

  const show = (seats: ConsoleSeat[]) => {
    if (!seats.length) {
      replace(grid.body, h("tr", {}, h("td", { colspan: String(admin ? 6 : 5), class: "empty", text: t.seatsEmpty })));
      return;
    }
    replace(
      grid.body,
      ...seats.map((s) => {
        const status = seatStatus(s);
        const cells: (string | Node)[] = [
          h("span", { class: "stacked" }, h("bdi", { class: "name", text: s.name }), h("span", { class: "sub number", text: s.workplace })),
          h("span", { class: "stacked" }, h("span", { text: roleWords(s.role) }), s.consoleAccess ? h("span", { class: "sub", text: t.seatsConsoleAccess }) : null),
          h("span", { class: "stacked" }, h("span", { text: s.appVersion ?? t.none }), h("span", { class: "sub", text: t.lastSeen(s.lastSeenAt ? when(s.lastSeenAt) : t.never) })),
          // A revoked seat is nobody's line any more: the last presence the relay knew of it
          // would read as a colleague free to take calls.
          s.revokedAt
            ? h("span", { class: "muted", text: t.none })
            : h(
                "span",
                { class: "badges" },
                h("span", { class: `badge badge-${s.presence}`, text: presenceWords(s.presence), title: t.colPresence }),
                h("span", { class: `badge badge-${s.availability}`, text: availabilityWords(s.availability), title: t.colAvailability }),
              ),
          h("span", { class: `stacked status-${status.kind}` }, h("span", { class: "status-word", text: status.word }), status.when ? h("span", { class: "sub", text: status.when }) : null),
        ];
        if (admin) cells.push(actions(s));
        return row(cells, { "data-seat": String(s.id), class: s.revokedAt ? "revoked" : "" });
      }),
    );
  };

  const load = async () => {
    try {
      show((await get<ConsoleSeats>("/seats")).seats);
    } catch (e) {
      say(describe(e), true);
    }
  };

  const toolbar = admin
    ? h(
        "div",
        { class: "toolbar" },
        button(t.seatsAdd, () => void guarded(async () => {
          const added = await seatDialog(null);
          if (!added) return;
          await load();
          if (added.invite) await inviteDialog(added.seat.name, added.invite);
        }), { class: "primary", id: "seat-add" }),
      )
    : h("p", { class: "hint", id: "seats-read-only", text: t.seatsReadOnly });
  void load();
  return { root: h("div", { class: "stack" }, toolbar, status, h("div", { class: "card flush" }, scroller({ "aria-label": t.pageSeats }, grid.table))) };
}
