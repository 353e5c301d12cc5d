// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { RoutingDecisionEvent } from "./RoutingDecisionEvent";

export type RoutingJournal = { decisions: Array<RoutingDecisionEvent> };
