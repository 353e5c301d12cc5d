// The recording player of a History row: play/pause, a seek slider, 1× / 1.5× / 2× speed, and a
// download into the Downloads folder (through the `save_recording` command, which fetches the
// address the PBX sent for the leg). Only one recording plays at a time.
import { h, replace } from "./dom";
import { clock } from "./format";
import { t } from "./i18n";
import { api, describe } from "./ipc";
import { icon } from "./widgets/icons";

const SPEEDS = [1, 1.5, 2];
let playing: HTMLAudioElement | null = null;

export class RecordingPlayer {
  readonly root: HTMLElement;
  private readonly audio: HTMLAudioElement;
  private readonly toggle: HTMLButtonElement;
  private readonly seek: HTMLInputElement;
  private readonly time: HTMLElement;
  private readonly speedGroup: HTMLElement;
  private readonly speeds: HTMLButtonElement[];
  private readonly download: HTMLButtonElement;

  constructor(
    private readonly leg: string,
    url: string,
    private readonly who: string,
    private readonly report: (message: string, error: boolean) => void,
  ) {
    this.audio = h("audio", { preload: "metadata", src: url, class: "player-audio" });
    this.toggle = h("button", { type: "button", class: "player-play primary" });
    this.toggle.addEventListener("click", () => void this.playOrPause());
    this.seek = h("input", { type: "range", class: "player-seek", min: 0, max: 0, step: 1, value: 0 });
    this.seek.addEventListener("input", () => {
      this.audio.currentTime = Number(this.seek.value);
      this.renderTime();
    });
    this.time = h("span", { class: "player-time", "aria-hidden": "true" });
    this.speeds = SPEEDS.map((rate) => {
      const button = h("button", {
        type: "button",
        class: "player-speed",
        "data-rate": rate,
        text: `${rate}×`,
      });
      button.addEventListener("click", () => {
        this.audio.playbackRate = rate;
        this.renderSpeed();
      });
      return button;
    });
    this.speedGroup = h("div", { class: "player-speeds segmented", role: "group" }, ...this.speeds);
    this.download = h("button", { type: "button", class: "player-download" });
    this.download.addEventListener("click", () => void this.save());
    for (const event of ["play", "pause", "ended"]) {
      this.audio.addEventListener(event, () => this.renderState());
    }
    this.audio.addEventListener("loadedmetadata", () => this.renderTime());
    this.audio.addEventListener("durationchange", () => this.renderTime());
    this.audio.addEventListener("timeupdate", () => this.renderTime());
    this.audio.addEventListener("error", () => {
      this.report(t.recordingFailed, true);
      this.renderState();
    });
    this.root = h(
      "div",
      { class: "player", "data-leg": leg },
      this.audio,
      this.toggle,
      this.seek,
      this.time,
      this.speedGroup,
      this.download,
    );
    this.render();
  }

  render(): void {
    this.seek.setAttribute("aria-label", t.playerSeek);
    this.speedGroup.setAttribute("aria-label", t.playerSpeed);
    this.download.textContent = t.playerDownload;
    this.download.setAttribute("aria-label", t.playerDownloadLabel(this.who));
    this.renderState();
    this.renderSpeed();
    this.renderTime();
  }

  focus(): void {
    this.toggle.focus();
  }

  async playOrPause(): Promise<void> {
    if (!this.audio.paused) {
      this.audio.pause();
      return;
    }
    if (playing && playing !== this.audio) playing.pause();
    playing = this.audio;
    try {
      await this.audio.play();
    } catch {
      this.report(t.recordingFailed, true);
    }
  }

  stop(): void {
    this.audio.pause();
    if (playing === this.audio) playing = null;
  }

  private renderState(): void {
    const paused = this.audio.paused;
    replace(this.toggle, icon(paused ? "play" : "pause"), h("span", { text: paused ? t.playerPlay : t.playerPause }));
    this.toggle.setAttribute("aria-label", paused ? t.playLabel(this.who) : t.playerPause);
    this.root.classList.toggle("playing", !paused);
  }

  private renderSpeed(): void {
    for (const [i, button] of this.speeds.entries()) {
      button.setAttribute("aria-pressed", String(this.audio.playbackRate === SPEEDS[i]));
    }
  }

  private renderTime(): void {
    const duration = Number.isFinite(this.audio.duration) ? this.audio.duration : 0;
    const now = this.audio.currentTime;
    this.seek.max = String(Math.floor(duration));
    this.seek.value = String(Math.floor(now));
    const text = `${clock(now)} / ${duration > 0 ? clock(duration) : "–:––"}`;
    this.seek.setAttribute("aria-valuetext", text);
    this.time.textContent = text;
  }

  private async save(): Promise<void> {
    this.download.disabled = true;
    try {
      const saved = await api.saveRecording(this.leg);
      this.report(t.recordingSaved(saved.path), false);
    } catch (e) {
      this.report(describe(e), true);
    } finally {
      this.download.disabled = false;
    }
  }
}
