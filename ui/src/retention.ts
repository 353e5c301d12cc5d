// How long the call log keeps calls and raw events, as Settings offers it: a few usual periods
// (and whatever other number of days the settings file holds), "forever", and the last
// clean-up's result in words. No window here, so the UI's unit tests can read it.
import type { PruneSummary } from "./bindings/PruneSummary";
import type { Strings } from "./i18n/en";

/** The periods offered, in days; `null` keeps for ever. */
export const KEEP_CHOICES: readonly (number | null)[] = [30, 90, 180, 365, 3 * 365, 5 * 365, null];

/** The select's value for a period (`forever` for `null`). */
export function keepValue(days: number | null): string {
  return days === null ? "forever" : String(days);
}

/** The period a select's value stands for. */
export function keepDays(value: string): number | null {
  if (value === "forever") return null;
  const days = Number.parseInt(value, 10);
  return Number.isFinite(days) ? days : null;
}

/** The periods to offer when `current` is set: the usual ones, plus `current` in its place. */
export function keepChoices(current: number | null): (number | null)[] {
  if (KEEP_CHOICES.includes(current)) return [...KEEP_CHOICES];
  const days = KEEP_CHOICES.filter((d): d is number => d !== null);
  return [...[...days, current as number].sort((a, b) => a - b), null];
}

/** A period in words: whole years as years, anything else as days. */
export function keepLabel(days: number | null, t: Strings): string {
  if (days === null) return t.keepForever;
  return days % 365 === 0 ? t.keepYears(days / 365) : t.keepDays(days);
}

/** What the last clean-up did, `when` already written for people. */
export function pruneText(last: PruneSummary | null, when: string, t: Strings): string {
  if (!last) return t.pruneNever;
  if (last.failed) return t.pruneFailed(when, last.failed);
  return t.pruneDone(when, last.calls, last.rawEvents);
}
