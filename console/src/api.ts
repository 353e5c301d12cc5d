// The relay's /admin/api, as CONSOLE-API.md has it. Every change carries the session's CSRF
// token; a 401 from anything but the sign-in itself means the session is gone, and the console
// goes back to the sign-in page (the handler the router installs).
import type { ConsoleError } from "./bindings/ConsoleError";
import type { ConsoleSession } from "./bindings/ConsoleSession";

export const API = "/admin/api";

/** What the relay refused, with the form field it names (if any). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;
  /** Seconds to wait, from `Retry-After` (a locked account, the sign-in cap). */
  readonly retryAfter: number | null;

  constructor(status: number, body: Partial<ConsoleError>, retryAfter: number | null = null) {
    super(body.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body.code ?? (status === 0 ? "network" : "unknown");
    this.field = body.field ?? null;
    this.retryAfter = retryAfter;
  }
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => {};

/** The session's CSRF token, sent as `X-CSRF-Token` on every change. */
export function useSession(session: ConsoleSession | null): void {
  csrfToken = session?.csrfToken ?? null;
}

/** What to do when the relay says the session is gone. */
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export interface RequestOptions {
  /** A raw body (a file to import) instead of JSON. */
  raw?: string;
  /** The raw body's type. */
  contentType?: string;
  /** A 401 here is an answer for the caller (a wrong password), not a lost session. */
  ownUnauthorized?: boolean;
}

/** Calls the API; resolves to the parsed JSON answer (`undefined` for 204), throws `ApiError`. */
export async function request<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  let payload: string | undefined;
  if (options.raw !== undefined) {
    payload = options.raw;
    headers["Content-Type"] = options.contentType ?? "text/plain; charset=utf-8";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(API + path, { method, headers, body: payload, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, { code: "network", message: String(e) });
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const retry = Number(response.headers.get("Retry-After"));
    const error = new ApiError(response.status, (parsed as Partial<ConsoleError>) ?? {}, Number.isFinite(retry) && retry > 0 ? retry : null);
    if (response.status === 401 && !options.ownUnauthorized) {
      csrfToken = null;
      onUnauthorized();
    }
    throw error;
  }
  return parsed as T;
}

export const get = <T>(path: string) => request<T>("GET", path);
export const post = <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {});
export const put = <T>(path: string, body: unknown) => request<T>("PUT", path, body);
export const del = <T>(path: string) => request<T>("DELETE", path);

/** A query string from the values that are set. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}
