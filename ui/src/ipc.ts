// The one door to the shell: every command the UI calls and every event it hears goes through
// here, typed by what src-tauri generates into ./bindings (the types, and contract.ts's command
// and event names). No other file imports `@tauri-apps/api`: a test in src-tauri checks that,
// and that every command named here is one the shell has.
import { invoke, type InvokeArgs } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { About } from "./bindings/About";
import type { AccountForm } from "./bindings/AccountForm";
import type { AccountState } from "./bindings/AccountState";
import type { Availability } from "./bindings/Availability";
import type { Callback } from "./bindings/Callback";
import type { Colleague } from "./bindings/Colleague";
import type { ContactDraft } from "./bindings/ContactDraft";
import type { ContactRow } from "./bindings/ContactRow";
import type { Command, Events } from "./bindings/contract";
import type { DialRequest } from "./bindings/DialRequest";
import type { Dialled } from "./bindings/Dialled";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { HistoryPage } from "./bindings/HistoryPage";
import type { HistoryQuery } from "./bindings/HistoryQuery";
import type { ImportFormat } from "./bindings/ImportFormat";
import type { ImportOutcome } from "./bindings/ImportOutcome";
import type { IpcError } from "./bindings/IpcError";
import type { LinkState } from "./bindings/LinkState";
import type { LiveCall } from "./bindings/LiveCall";
import type { PopupView } from "./bindings/PopupView";
import type { Preferences } from "./bindings/Preferences";
import type { PruneSummary } from "./bindings/PruneSummary";
import type { RoutingView } from "./bindings/RoutingView";
import type { SavedFile } from "./bindings/SavedFile";
import type { TeamInvite } from "./bindings/TeamInvite";
import type { TeamJoined } from "./bindings/TeamJoined";
import type { TeamLeft } from "./bindings/TeamLeft";
import type { TeamView } from "./bindings/TeamView";
import type { Today } from "./bindings/Today";
import type { Workplace } from "./bindings/Workplace";
import type { FollowUpRow } from "./bindings/FollowUpRow";
import type { WrapUpDraft } from "./bindings/WrapUpDraft";
import type { WrapUpTags } from "./bindings/WrapUpTags";
import type { WrapUpView } from "./bindings/WrapUpView";
import { t } from "./i18n";

export { EVENTS } from "./bindings/contract";

/** Who wants to know whether the last action found the team server (the link indicator). */
const teamReach = new Set<(reachable: boolean) => void>();

/** The actions that go to the team server in team mode and are never sent twice. */
const ACTIONS: ReadonlySet<Command> = new Set<Command>(["dial", "hang_up", "transfer"]);

/**
 * Calls `listener` with `false` whenever a command fails with `relay_unreachable` (the action
 * found the team server gone, which the link itself may not have noticed yet), and with `true`
 * when an action is answered again. Returns how to stop.
 */
export function onTeamReach(listener: (reachable: boolean) => void): () => void {
  teamReach.add(listener);
  return () => teamReach.delete(listener);
}

function call<T>(command: Command, args?: InvokeArgs): Promise<T> {
  return invoke<T>(command, args).then(
    (answer) => {
      if (ACTIONS.has(command)) for (const listener of teamReach) listener(true);
      return answer;
    },
    (e: unknown) => {
      if (isIpcError(e) && e.code === "relay_unreachable") for (const listener of teamReach) listener(false);
      throw e;
    },
  );
}

/** Every command, by the screen that uses it (src-tauri/src/commands/). */
export const api = {
  // Calls.
  dial: (number: string) => call<Dialled>("dial", { number }),
  hangUp: (leg: string) => call<void>("hang_up", { leg }),
  transfer: (leg: string, target: string) => call<void>("transfer", { leg, target }),
  liveCalls: () => call<LiveCall[]>("live_calls"),
  linkStatus: () => call<LinkState | null>("link_status"),
  workplaces: () => call<Workplace[]>("workplaces"),
  // A number that came from outside the window before it listened.
  takeDialRequest: () => call<DialRequest | null>("take_dial_request"),
  // History and Today.
  history: (query: HistoryQuery) => call<HistoryPage>("history", { query }),
  today: () => call<Today>("today"),
  callbacks: () => call<Callback[]>("callbacks"),
  exportHistory: (query: HistoryQuery) => call<SavedFile>("export_history", { query }),
  saveRecording: (leg: string) => call<SavedFile>("save_recording", { leg }),
  // The after-call wrap-up and its follow-ups.
  saveWrapup: (draft: WrapUpDraft) => call<WrapUpView>("save_wrapup", { draft }),
  wrapupTags: () => call<WrapUpTags>("wrapup_tags"),
  followUps: () => call<FollowUpRow[]>("follow_ups"),
  // Contacts.
  contacts: (search?: string) => call<ContactRow[]>("contacts", { search: search ?? null }),
  addContact: (contact: ContactDraft) => call<ContactRow>("add_contact", { contact }),
  updateContact: (id: number, contact: ContactDraft) => call<ContactRow>("update_contact", { id, contact }),
  deleteContact: (id: number) => call<void>("delete_contact", { id }),
  // The file's bytes cross as a plain array: the command reports rows that are not UTF-8.
  importContacts: (format: ImportFormat, data: Uint8Array) =>
    call<ImportOutcome>("import_contacts", { format, data: Array.from(data) }),
  exportContacts: () => call<SavedFile>("export_contacts"),
  // Settings, the account and the first-run welcome.
  settings: () => call<Preferences>("settings"),
  saveSettings: (preferences: Preferences) => call<Preferences>("save_settings", { preferences }),
  setWorkplace: (workplace: string) => call<void>("set_workplace", { workplace }),
  about: () => call<About>("about"),
  lastPrune: () => call<PruneSummary | null>("last_prune"),
  saveDiagnostics: () => call<SavedFile>("save_diagnostics"),
  account: () => call<AccountState>("account"),
  signIn: () => call<AccountState>("sign_in"),
  signOut: () => call<AccountState>("sign_out"),
  saveAccount: (form: AccountForm) => call<void>("save_account", { form }),
  dismissWelcome: () => call<void>("dismiss_welcome"),
  restartApp: () => call<void>("restart_app"),
  // Team mode: an invite to confirm, joining, the team, leaving.
  team: () => call<TeamView>("team"),
  readInvite: (invite: string, server: string | null) => call<TeamInvite>("read_invite", { invite, server }),
  joinTeam: (invite: string, server: string | null) => call<TeamJoined>("join_team", { invite, server }),
  leaveTeam: (deleteHistory: boolean) => call<TeamLeft>("leave_team", { deleteHistory }),
  // Team mode: the colleagues (the Team panel, the transfer picker) and my availability.
  colleagues: () => call<Colleague[]>("colleagues"),
  setAvailability: (availability: Availability) => call<Availability>("set_availability", { availability }),
  // A team invite link that came from outside the window before it listened.
  takeJoinRequest: () => call<string | null>("take_join_request"),
  // Routing.
  routing: () => call<RoutingView>("routing"),
  setRouter: (on: boolean) => call<RoutingView>("set_router", { on }),
  setParking: (number: string, on: boolean) => call<RoutingView>("set_parking", { number, on }),
  saveRoutingRules: (rules: string) => call<RoutingView>("save_routing_rules", { rules }),
  // The incoming-call popup.
  popupCall: () => call<PopupView | null>("popup_call"),
  dismissPopup: () => call<void>("dismiss_popup"),
  openCrm: (number: string) => call<void>("open_crm", { number }),
};

/** Hears one of the shell's events (EVENTS names them) with its payload's type. */
export function on<E extends keyof Events>(event: E, handler: (payload: Events[E]) => void): Promise<UnlistenFn> {
  return listen<Events[E]>(event, (e) => handler(e.payload));
}

function isIpcError(e: unknown): e is IpcError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

/** An error as the operator reads it: our words for its code, then the core's in parentheses. */
export function describe(e: unknown): string {
  if (!isIpcError(e)) return `${t.errorGeneric} ${String(e)}`;
  const lead = t.errors[e.code] ?? t.errorGeneric;
  // "Type at least 3 characters" says all there is to say; so does "the team server is
  // unreachable — dial from your phone", whose message only repeats it.
  if (e.code === "search_too_short" || e.code === "relay_unreachable" || !e.message) return lead;
  return `${lead} (${e.message})`;
}

export function errorCode(e: unknown): ErrorCode | null {
  return isIpcError(e) ? e.code : null;
}

/** A refused form field: which one (as the form names it) and why. */
export interface FieldError {
  field: string;
  reason: string;
}

/** The field an `invalid` error names, with its reason, or null when it names none. */
export function fieldError(e: unknown): FieldError | null {
  if (!isIpcError(e) || e.field === undefined) return null;
  return { field: e.field, reason: e.reason ?? e.message };
}
