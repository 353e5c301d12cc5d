// A browser's document for the tests that build the interface: happy-dom's window installed as
// the globals the UI's code uses (`window`, `document`, `localStorage`…), before any of it is
// imported (so import this first). No test here talks to the shell: `invoke` is a stand-in.
import { Window } from "happy-dom";

const win = new Window({ url: "tauri://localhost/" });
const globals = globalThis as unknown as Record<string, unknown>;
for (const name of [
  "window",
  "document",
  "navigator",
  "localStorage",
  "Node",
  "Element",
  "HTMLElement",
  "HTMLButtonElement",
  "HTMLInputElement",
  "HTMLDialogElement",
  "Event",
  "KeyboardEvent",
  "MouseEvent",
  "getComputedStyle",
]) {
  Object.defineProperty(globals, name, { value: (win as unknown as Record<string, unknown>)[name], configurable: true, writable: true });
}
globals.window = win;

// Screens refresh themselves on timers (the call timer, the Today card); the test process must
// still end when its tests have.
const every = globals.setInterval as (handler: () => void, ms: number) => { unref(): void };
globals.setInterval = (handler: () => void, ms: number) => {
  const timer = every(handler, ms);
  timer.unref();
  return timer;
};

/** What the shell answered to each command: nothing, unless a test says otherwise. */
export const commands: Record<string, (args: unknown) => unknown> = {};
(win as unknown as Record<string, unknown>).__TAURI_INTERNALS__ = {
  invoke: async (command: string, args: unknown) => {
    const answer = commands[command];
    if (!answer) throw { code: "starting", message: `no stand-in for ${command}` };
    return answer(args);
  },
  transformCallback: () => 0,
};

export { win };
