// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

export type ConsoleError = { code: string; message: string; field: string | null };
