// A browser's document for the console's tests: happy-dom's window installed as the globals the
// console's code uses, before any of it is imported (so import this first), and stand-ins for
// the relay: `fetch` answers from `routes` and records every request; `EventSource` records the
// streams opened, and a test pushes snapshots through them.
import { Window } from "happy-dom";

const win = new Window({ url: "http://localhost/admin/" });
const globals = globalThis as unknown as Record<string, unknown>;
for (const name of [
  "window",
  "document",
  "navigator",
  "localStorage",
  "location",
  "history",
  "Node",
  "Element",
  "HTMLElement",
  "HTMLButtonElement",
  "HTMLInputElement",
  "HTMLSelectElement",
  "HTMLTextAreaElement",
  "HTMLDialogElement",
  "Event",
  "KeyboardEvent",
  "MouseEvent",
  "getComputedStyle",
  "requestAnimationFrame",
]) {
  Object.defineProperty(globals, name, { value: (win as unknown as Record<string, unknown>)[name], configurable: true, writable: true });
}

// Pages refresh themselves on timers; the test process must still end when its tests have.
const every = globals.setInterval as (handler: () => void, ms: number) => { unref(): void };
globals.setInterval = (handler: () => void, ms: number) => {
  const timer = every(handler, ms);
  timer.unref();
  return timer;
};

/** A request the page made. */
export interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

/** What the stand-in relay answers: `status` and a JSON body (none for 204). */
export interface Answer {
  status: number;
  body?: unknown;
}

export const sent: Sent[] = [];
/** Answers by "METHOD /path" (the path below /admin/api, query string included). */
export const routes: Record<string, (request: Sent) => Answer> = {};

globals.fetch = async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
  const method = init.method ?? "GET";
  const path = url.replace(/^\/admin\/api/, "");
  let body: unknown = init.body;
  try {
    body = init.body ? JSON.parse(init.body) : undefined;
  } catch {
    // A raw body (an import): kept as text.
  }
  const request: Sent = { method, path, headers: init.headers ?? {}, body };
  sent.push(request);
  const handler = routes[`${method} ${path}`] ?? routes[`${method} ${path.split("?")[0]}`];
  const answer: Answer = handler ? handler(request) : { status: 404, body: { code: "not_found", message: `no stand-in for ${method} ${path}`, field: null } };
  const text = answer.body === undefined ? "" : JSON.stringify(answer.body);
  return {
    status: answer.status,
    ok: answer.status >= 200 && answer.status < 300,
    headers: { get: () => null },
    text: async () => text,
  };
};

/** A stream the page opened; `push` delivers an event to it. */
export class FakeEventSource {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  static opened: FakeEventSource[] = [];
  readyState = 0;
  private readonly listeners = new Map<string, ((e: unknown) => void)[]>();

  constructor(readonly url: string) {
    FakeEventSource.opened.push(this);
  }

  addEventListener(type: string, listener: (e: unknown) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  push(type: string, data: unknown): void {
    this.readyState = 1;
    for (const l of this.listeners.get(type) ?? []) l({ data: JSON.stringify(data) });
  }

  fail(): void {
    this.readyState = 2;
    for (const l of this.listeners.get("error") ?? []) l({});
  }

  close(): void {
    this.readyState = 2;
  }
}
globals.EventSource = FakeEventSource;

/** Lets the page's promises and their follow-ups run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
}

/** Forgets the requests and answers of the test before. */
export function reset(): void {
  sent.length = 0;
  for (const key of Object.keys(routes)) delete routes[key];
  FakeEventSource.opened = [];
  document.body.replaceChildren();
}

export { win };
