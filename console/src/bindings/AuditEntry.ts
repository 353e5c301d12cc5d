// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

export type AuditEntry = {
  id: number;
  at: string;
  seatId: number | null;
  seatName: string | null;
  action: string;
  target: string | null;
  outcome: "done" | "refused" | "failed";
  detail: string | null;
};
