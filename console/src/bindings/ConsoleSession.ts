// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { ConsoleRole } from "./ConsoleRole";

export type ConsoleSession = { seat: number; name: string; role: ConsoleRole; csrfToken: string; expiresAt: string };
