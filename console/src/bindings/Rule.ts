// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

export type Rule =
  | { kind: "manager"; enabled: boolean }
  | { kind: "last_operator"; enabled: boolean; days: number }
  | { kind: "outside_hours"; enabled: boolean }
  | { kind: "unknown_caller"; enabled: boolean; to?: string };
