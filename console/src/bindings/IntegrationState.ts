// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

export type IntegrationState = "not_connected" | "connected" | "refresh_failing";
