// How times, lengths and ages read on screen, in the console's language.
import { currentLang, t } from "./i18n";

function locale(): string {
  return currentLang() === "ru" ? "ru-RU" : "en-GB";
}

/** `m:ss`, or `h:mm:ss` past an hour. */
export function clock(totalSecs: number): string {
  const s = Math.max(0, Math.floor(totalSecs));
  const hours = Math.floor(s / 3600);
  const mins = Math.floor((s % 3600) / 60);
  const secs = String(s % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(mins).padStart(2, "0")}:${secs}` : `${mins}:${secs}`;
}

/** A moment: the time today, else the date and time; `—` for none. */
export function when(iso: string | null | undefined): string {
  if (!iso) return t.none;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = date.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
  if (date.toDateString() === new Date().toDateString()) return time;
  const day = date.toLocaleDateString(locale(), { day: "numeric", month: "short", year: "numeric" });
  return `${day}, ${time}`;
}

/** A moment with seconds (the audit log, the wallboard's "updated"). */
export function exact(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(locale(), { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** Seconds from `iso` to `nowMs`, never negative. */
export function secondsSince(iso: string, nowMs: number): number {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? 0 : Math.max(0, (nowMs - at) / 1000);
}

/** A phone number as people read it: Russian numbers grouped, anything else as it came. */
export function phone(raw: string | null | undefined): string {
  if (!raw) return t.none;
  const d = raw.replace(/\D/g, "");
  if (d.length === 11 && (d[0] === "7" || d[0] === "8")) {
    return `+7 ${d.slice(1, 4)} ${d.slice(4, 7)}-${d.slice(7, 9)}-${d.slice(9)}`;
  }
  return raw;
}
