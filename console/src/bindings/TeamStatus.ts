// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

import type { IntegrationState } from "./IntegrationState";

export type TeamStatus = {
  integration: IntegrationState;
  teamMode: boolean;
  accessExpiresAt: string | null;
  refreshExpiresAt: string | null;
  refreshRotates: boolean | null;
  lastRefreshAt: string | null;
  lastError: string | null;
  lapseWarning: boolean;
};
