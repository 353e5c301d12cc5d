// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { WallboardCall } from "./WallboardCall";
import type { WallboardMissed } from "./WallboardMissed";
import type { WallboardOperator } from "./WallboardOperator";

export type Wallboard = {
  at: string;
  timeZone: string;
  calls: Array<WallboardCall>;
  missed: Array<WallboardMissed>;
  operators: Array<WallboardOperator>;
};
