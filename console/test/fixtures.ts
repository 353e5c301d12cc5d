// Answers the stand-in relay gives, shaped as CONSOLE-API.md has them.
import type { ConsoleRole } from "../src/bindings/ConsoleRole";
import type { ConsoleSeat } from "../src/bindings/ConsoleSeat";
import type { ConsoleSession } from "../src/bindings/ConsoleSession";
import type { Wallboard } from "../src/bindings/Wallboard";

/** What a page might be sent by someone who hopes it is read as HTML. */
export const HOSTILE = `<img src=x onerror="window.pwned=1">Анна<script>window.pwned=2</script>`;

export function session(role: ConsoleRole = "admin"): ConsoleSession {
  return { seat: 1, name: "Иванова Анна", role, csrfToken: "csrf-token-1", expiresAt: "2030-01-01T00:00:00Z" };
}

export function seat(change: Partial<ConsoleSeat> = {}): ConsoleSeat {
  return {
    id: 7,
    name: "Петров Сергей",
    workplace: "883140777446532",
    role: "operator",
    createdAt: "2026-12-01T09:00:00Z",
    revokedAt: null,
    joinedAt: "2026-12-01T10:00:00Z",
    inviteExpiresAt: null,
    appVersion: "0.9.0",
    lastSeenAt: "2026-12-03T10:00:00Z",
    presence: "free",
    availability: "available",
    consoleAccess: false,
    ...change,
  };
}

export function wallboard(change: Partial<Wallboard> = {}): Wallboard {
  const at = new Date().toISOString();
  return {
    at,
    timeZone: "Europe/Moscow",
    calls: [
      {
        legId: "leg-1",
        state: "talking",
        direction: "incoming",
        caller: "79219462761",
        callee: "78005560251",
        seat: 7,
        seatName: "Петров Сергей",
        workplace: "883140777446532",
        since: new Date(Date.now() - 65_000).toISOString(),
        answeredAt: new Date(Date.now() - 61_000).toISOString(),
      },
    ],
    missed: [{ number: "79001234567", companyNumber: "78005560251", legId: "leg-0", missedAt: new Date(Date.now() - 600_000).toISOString() }],
    operators: [
      { seat: 7, name: "Петров Сергей", workplace: "883140777446532", role: "operator", presence: "talking", availability: "available", answeredToday: 4, missedToday: 1, talkSecondsToday: 754 },
    ],
    ...change,
  };
}
