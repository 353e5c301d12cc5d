// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { AuditEntry } from "./AuditEntry";

export type ConsoleAudit = { entries: Array<AuditEntry>; more: boolean };
