// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { ParkingNumber } from "./ParkingNumber";

export type ConsoleParking = { numbers: Array<ParkingNumber> };
