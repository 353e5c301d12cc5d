// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { JournalEntry } from "./JournalEntry";

export type RoutingDecisionEvent = { id: number; entry: JournalEntry };
