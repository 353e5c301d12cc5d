// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { IntegrationState } from "./IntegrationState";

export type ConsoleHealth = {
  version: string;
  startedAt: string;
  storeBytes: number | null;
  eventsLastMinute: number;
  eventsPerMinute15: number;
  connectedSeats: number;
  connectedClients: number;
  consoleStreams: number;
  integration: IntegrationState;
  webhooksSilent: boolean;
  lastWebhookAt: string | null;
};
