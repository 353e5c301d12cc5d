// The link indicator in the window's header: how the live events from the relay are doing, in
// a word. For a team's seat the relay is the team server, which every action goes through, so a
// link that is down — or an action that found the server gone before the link noticed — reads
// "the team server is unreachable — dial from your phone" (issue #15 item 12) until the link
// reports again or an action is answered again.
import { h } from "./dom";
import { t } from "./i18n";
import { onTeamReach } from "./ipc";

export class LinkIndicator {
  readonly root = h("span", { class: "link starting", role: "status", "aria-live": "polite" });
  /** The link's last report. */
  private reported = "starting";
  /** Whether the last action found the team server gone (and nothing has said otherwise since). */
  private unreachable = false;

  /** `team` says whether the app is a team's seat now (Settings' Team section knows). */
  constructor(private readonly team: () => boolean) {
    onTeamReach((reachable) => {
      if (this.unreachable === !reachable) return;
      this.unreachable = !reachable;
      this.render();
    });
  }

  /** The link's report (`connected`, `reconnecting`, `offline`, `refused`, `revoked`), or `""` for none. */
  set(state: string): void {
    this.reported = state;
    this.unreachable = false;
    this.render();
  }

  /** The state shown now. */
  get current(): string {
    return this.unreachable ? "unreachable" : this.reported;
  }

  /** Says `message` in the indicator's place (a failed availability change) until the link or an
   * action next reports. */
  note(message: string): void {
    this.root.hidden = false;
    this.root.className = "link trouble";
    this.root.textContent = message;
  }

  render(): void {
    const words: Record<string, string> = {
      connected: t.linkConnected,
      reconnecting: t.linkReconnecting,
      offline: t.linkOffline,
      refused: t.linkRefused,
      starting: t.linkStarting,
      revoked: t.linkRevoked,
      unreachable: t.linkTeamUnreachable,
    };
    if (this.team()) {
      // The events come from the team's server, not from the PBX.
      words.connected = t.linkTeamConnected;
      words.refused = t.linkTeamRefused;
      words.offline = t.linkTeamUnreachable;
      words.reconnecting = t.linkTeamUnreachable;
    }
    const state = this.current;
    this.root.className = `link ${state}`;
    this.root.hidden = state === "";
    this.root.textContent = words[state] ?? state;
  }
}
