// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { RoutingSettings } from "./RoutingSettings";

export type TeamRouting = { settings: RoutingSettings; parked: Array<string>; timeZone: string };
