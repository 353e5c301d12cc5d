// The API's types that the relay does not generate into bindings/ (yet): the error body, the
// routing settings and journal (call-routing's serde shapes, snake_case as `/team/routing` has
// them), parking and the phonebook import's answer, written from CONSOLE-API.md.

export type BusinessHours = {
  mon: string;
  tue: string;
  wed: string;
  thu: string;
  fri: string;
  sat: string;
  sun: string;
  holidays: Array<string>;
};

export type ConsoleError = { code: string; message: string; field: string | null };


export type ImportResult = { added: number; updated: number; skipped: Array<ImportSkipped> };

export type ImportSkipped = { line: number; reason: string };

export type JournalEntry = {
  leg: string;
  caller_number: string | null;
  line_number: string | null;
  rule: string | null;
  target: string | null;
  outcome: RoutingOutcome;
  detail: string | null;
  decided_at: string;
  took_ms: number;
  deadline_ms: number;
};


export type RoutingDecisionEvent = { id: number; entry: JournalEntry };

export type RoutingJournal = { decisions: Array<RoutingDecisionEvent> };

export type RoutingOutcome = "transferred" | "released" | "timed_out" | "failed" | "missed_offline";

export type RoutingSettings = {
  rules: Array<Rule>;
  when_busy: WhenBusy;
  hours: BusinessHours;
  deadline_ms: number;
  parking_applied_at: string | null;
};

export type Rule =
  | { kind: "manager"; enabled: boolean }
  | { kind: "last_operator"; enabled: boolean; days: number }
  | { kind: "outside_hours"; enabled: boolean }
  | { kind: "unknown_caller"; enabled: boolean; to?: string };

export type TeamRouting = { settings: RoutingSettings; parked: Array<string>; timeZone: string };

export type WhenBusy = "next_rule" | "release" | "ignore";

/** Who may sign in to the console. */
export type ConsoleRole = "admin" | "supervisor";
