// How times and lengths read on screen.
import { currentLang } from "./i18n";

/** `m:ss`, or `h:mm:ss` past an hour. */
export function clock(totalSecs: number): string {
  const s = Math.max(0, Math.floor(totalSecs));
  const hours = Math.floor(s / 3600);
  const mins = Math.floor((s % 3600) / 60);
  const secs = String(s % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(mins).padStart(2, "0")}:${secs}` : `${mins}:${secs}`;
}

/** A call's start: the time today, else the date and time. */
export function when(ms: number): string {
  const date = new Date(ms);
  const locale = currentLang() === "ru" ? "ru-RU" : "en-GB";
  const sameDay = date.toDateString() === new Date().toDateString();
  const time = date.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  if (sameDay) return time;
  const day = date.toLocaleDateString(locale, { day: "numeric", month: "short" });
  return `${day}, ${time}`;
}
