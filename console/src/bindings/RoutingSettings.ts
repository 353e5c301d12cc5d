// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { BusinessHours } from "./BusinessHours";
import type { Rule } from "./Rule";
import type { WhenBusy } from "./WhenBusy";

export type RoutingSettings = {
  rules: Array<Rule>;
  when_busy: WhenBusy;
  hours: BusinessHours;
  deadline_ms: number;
  parking_applied_at: string | null;
};
