// The app's commands and events, typed by the bindings generated from src-tauri/src/ipc.rs.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AppEvent } from "./bindings/AppEvent";
import type { Callback } from "./bindings/Callback";
import type { ContactDraft } from "./bindings/ContactDraft";
import type { ContactRow } from "./bindings/ContactRow";
import type { ImportFormat } from "./bindings/ImportFormat";
import type { ImportOutcome } from "./bindings/ImportOutcome";
import type { SavedFile } from "./bindings/SavedFile";
import type { Dialled } from "./bindings/Dialled";
import type { HistoryPage } from "./bindings/HistoryPage";
import type { HistoryQuery } from "./bindings/HistoryQuery";
import type { IpcError } from "./bindings/IpcError";
import type { LinkState } from "./bindings/LinkState";
import type { LiveCall } from "./bindings/LiveCall";
import type { Today } from "./bindings/Today";
import type { Workplace } from "./bindings/Workplace";
import { t } from "./i18n";

/** The event name of src-tauri/src/events.rs's DOMAIN_EVENT. */
const DOMAIN_EVENT = "domain-event";

export const api = {
  dial: (number: string) => invoke<Dialled>("dial", { number }),
  hangUp: (leg: string) => invoke<void>("hang_up", { leg }),
  transfer: (leg: string, target: string) => invoke<void>("transfer", { leg, target }),
  liveCalls: () => invoke<LiveCall[]>("live_calls"),
  linkStatus: () => invoke<LinkState | null>("link_status"),
  history: (query: HistoryQuery) => invoke<HistoryPage>("history", { query }),
  today: () => invoke<Today>("today"),
  workplaces: () => invoke<Workplace[]>("workplaces"),
  callbacks: () => invoke<Callback[]>("callbacks"),
  exportHistory: (query: HistoryQuery) => invoke<SavedFile>("export_history", { query }),
  saveRecording: (leg: string) => invoke<SavedFile>("save_recording", { leg }),
  contacts: (search?: string) => invoke<ContactRow[]>("contacts", { search: search ?? null }),
  addContact: (contact: ContactDraft) => invoke<ContactRow>("add_contact", { contact }),
  updateContact: (id: number, contact: ContactDraft) =>
    invoke<ContactRow>("update_contact", { id, contact }),
  deleteContact: (id: number) => invoke<void>("delete_contact", { id }),
  // The file's bytes cross as a plain array: the command reports rows that are not UTF-8.
  importContacts: (format: ImportFormat, data: Uint8Array) =>
    invoke<ImportOutcome>("import_contacts", { format, data: Array.from(data) }),
  exportContacts: () => invoke<SavedFile>("export_contacts"),
};

export function onAppEvent(handler: (event: AppEvent) => void): Promise<UnlistenFn> {
  return listen<AppEvent>(DOMAIN_EVENT, (e) => handler(e.payload));
}

function isIpcError(e: unknown): e is IpcError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

/** An error as the operator reads it: our words for the codes we know, else the core's. */
export function describe(e: unknown): string {
  if (!isIpcError(e)) return `${t.errorGeneric} ${String(e)}`;
  switch (e.code) {
    case "invalid_number":
      return `${t.errorInvalidNumber} (${e.message})`;
    case "not_configured":
      return `${t.errorNotConfigured} (${e.message})`;
    case "starting":
      return `${t.errorStarting} (${e.message})`;
    case "search_too_short":
      return t.searchTooShort;
    default: {
      const lead = Object.hasOwn(t.errorCodes, e.code) ? t.errorCodes[e.code] : undefined;
      if (lead) return e.message ? `${lead} (${e.message})` : lead;
      return e.message || t.errorGeneric;
    }
  }
}

export function errorCode(e: unknown): string | null {
  return isIpcError(e) ? e.code : null;
}
