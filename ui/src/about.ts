// Settings' About: the app's version, what Trubka does, and what the PBX's Open API has no
// methods for (listening in, attended transfer, voicemail, do-not-disturb at the PBX), said
// plainly so that nobody hunts the app for them. The version comes from the shell; the words
// are the interface's.
import { h, replace } from "./dom";
import { t } from "./i18n";
import { api } from "./ipc";

export class AboutSection {
  readonly root: HTMLElement;
  private version: string | null = null;

  constructor() {
    this.root = h("section", { id: "settings-about", "aria-labelledby": "settings-about-title" });
  }

  async load(): Promise<void> {
    if (this.version === null) {
      try {
        this.version = (await api.about()).version;
      } catch {
        // About still says what the app does; only the version is missing.
      }
    }
    this.render();
  }

  render(): void {
    replace(
      this.root,
      h("h2", { id: "settings-about-title", text: t.aboutTitle }),
      h(
        "div",
        { class: "settings-box about" },
        h("p", { id: "about-version", class: "about-version", text: t.aboutVersion(this.version ?? "—") }),
        h("p", { id: "about-does", text: t.aboutDoes }),
        h("h3", { id: "about-cannot-title", text: t.aboutCannotTitle }),
        h("p", { text: t.aboutCannotLead }),
        h("ul", { id: "about-cannot", class: "about-cannot", "aria-labelledby": "about-cannot-title" }, ...t.aboutCannot.map((text) => h("li", { text }))),
        h("p", { class: "hint", text: t.aboutCannotWhere }),
      ),
    );
  }
}
