// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

export type ConsoleInvite = { code: string; link: string; expiresAt: string };
