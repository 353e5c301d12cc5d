// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

export type WallboardCall = {
  legId: string;
  state: "ringing" | "talking";
  direction: string | null;
  caller: string | null;
  callee: string | null;
  seat: number | null;
  seatName: string | null;
  workplace: string | null;
  since: string;
  answeredAt: string | null;
};
