// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

export type TeamContactDraft = { name: string; company?: string; numbers: Array<string>; manager?: string; notes?: string };
