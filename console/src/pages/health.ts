// The relay's health: version, uptime, store size, event rates, connections, the integration and
// the webhooks; asked again every ten seconds while the page is open.
import { get } from "../api";
import type { Page } from "../app";
import type { ConsoleHealth } from "../bindings/ConsoleHealth";
import { h, replace } from "../dom";
import { describe } from "../forms";
import { when } from "../format";
import { t } from "../i18n";
import { integrationWords } from "./integration";

export function healthPage(): Page {
  const tiles = h("dl", { class: "tiles health", id: "health-tiles" });
  const status = h("p", { class: "form-status error", role: "alert", hidden: true });
  const load = async () => {
    try {
      const x = await get<ConsoleHealth>("/health");
      status.hidden = true;
      const tile = (id: string, label: string, value: string, tone = "") => h("div", { class: `tile ${tone}`.trim(), id }, h("dt", { text: label }), h("dd", { text: value }));
      const num = (n: number) => n.toLocaleString();
      replace(
        tiles,
        tile("health-version", t.healthVersion, x.version),
        tile("health-started", t.healthStarted, when(x.startedAt)),
        tile("health-store", t.healthStore, x.storeBytes === null ? t.none : t.bytes(x.storeBytes)),
        tile("health-events", t.healthEventsMinute, num(x.eventsLastMinute)),
        tile("health-events15", t.healthEvents15, num(Math.round(x.eventsPerMinute15 * 10) / 10)),
        tile("health-seats", t.healthSeats, num(x.connectedSeats)),
        tile("health-clients", t.healthClients, num(x.connectedClients)),
        tile("health-streams", t.healthStreams, num(x.consoleStreams)),
        tile("health-integration", t.healthIntegration, integrationWords(x.integration), x.integration === "connected" ? "tone-ok" : "tone-danger"),
        tile(
          "health-webhooks",
          t.healthWebhooks,
          `${x.webhooksSilent ? t.healthWebhooksSilent : t.healthWebhooksFlowing} · ${x.lastWebhookAt ? when(x.lastWebhookAt) : t.never}`,
          x.webhooksSilent ? "tone-danger" : "",
        ),
      );
    } catch (e) {
      status.textContent = describe(e);
      status.hidden = false;
    }
  };
  void load();
  const timer = setInterval(() => void load(), 10_000);
  return { root: h("div", { class: "stack" }, status, tiles), dispose: () => clearInterval(timer) };
}
