// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { ImportSkipped } from "./ImportSkipped";

export type ImportResult = { added: number; updated: number; skipped: Array<ImportSkipped> };
