// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { TeamStatus } from "./TeamStatus";

export type ConsoleIntegration = {
  status: TeamStatus;
  clientId: string | null;
  lastWebhookAt: string | null;
  webhooksSilent: boolean;
  redirectUri: string | null;
};
