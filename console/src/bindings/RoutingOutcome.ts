// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

export type RoutingOutcome = "transferred" | "released" | "timed_out" | "failed" | "missed_offline";
