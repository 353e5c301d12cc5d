// Who the popup says is calling: the lines of text it shows for a call, apart from the page so
// that a unit test can read them.
import type { PopupView } from "./bindings/PopupView";

/** The popup's "who" lines; an empty line is hidden. */
export interface PopupWho {
  name: string;
  number: string;
  company: string;
}

/** The characters that steer bidirectional text: the marks (U+061C, U+200E, U+200F), the
 * embeddings and overrides (U+202A–U+202E) and the isolates (U+2066–U+2069). */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;

/** Text from outside (the PBX, the phonebook, the relay) without bidi controls: a U+2069 in a
 * name would close the isolate around it early and let a U+202E after it reverse what follows.
 * Its letters keep their own direction without them. Empty text is none. */
export function withoutBidiControls(text: string | null | undefined): string | null {
  const plain = (text ?? "").replace(BIDI_CONTROLS, "");
  return plain.trim() ? plain : null;
}

/** The lines for `view`: the name (else the number, else `unknownCaller`), the number under a
 * name, and the phonebook's company, each without bidi controls. */
export function popupWho(view: Pick<PopupView, "name" | "number" | "company">, unknownCaller: string): PopupWho {
  const name = withoutBidiControls(view.name);
  const number = withoutBidiControls(view.number);
  return {
    name: name ?? number ?? unknownCaller,
    number: name && number ? number : "",
    company: withoutBidiControls(view.company) ?? "",
  };
}
