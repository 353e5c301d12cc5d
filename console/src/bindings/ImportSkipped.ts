// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

export type ImportSkipped = { line: number; reason: string };
