// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { Availability } from "./Availability";
import type { Presence } from "./Presence";
import type { Role } from "./Role";

export type ConsoleSeat = {
  id: number;
  name: string;
  workplace: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
  joinedAt: string | null;
  inviteExpiresAt: string | null;
  appVersion: string | null;
  lastSeenAt: string | null;
  presence: Presence;
  availability: Availability;
  consoleAccess: boolean;
};
