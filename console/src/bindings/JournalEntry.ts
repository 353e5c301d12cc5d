// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { RoutingOutcome } from "./RoutingOutcome";

export type JournalEntry = {
  leg: string;
  caller_number: string | null;
  line_number: string | null;
  rule: string | null;
  target: string | null;
  outcome: RoutingOutcome;
  detail: string | null;
  decided_at: string;
  took_ms: number;
  deadline_ms: number;
};
