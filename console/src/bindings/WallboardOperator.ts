// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { Availability } from "./Availability";
import type { Presence } from "./Presence";

export type WallboardOperator = {
  seat: number;
  name: string;
  workplace: string;
  role: string;
  presence: Presence;
  availability: Availability;
  answeredToday: number;
  missedToday: number;
  talkSecondsToday: number;
};
