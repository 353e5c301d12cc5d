// The Integration page: a red banner for each trouble (МТТ refused the refresh, webhooks went
// silent, a lapse is near), none when all is well, and the connect form gives the link to open
// and forgets the secret once sent.
import { reset, routes, sent, settle } from "./dom";
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConsoleApp } from "../src/app";
import { PAGES } from "../src/pages";
import { signInPage } from "../src/pages/signin";
import type { ConsoleIntegration } from "../src/bindings/ConsoleIntegration";
import { session } from "./fixtures";

function integration(change: Partial<ConsoleIntegration["status"]> = {}, silent = false): ConsoleIntegration {
  return {
    status: {
      integration: "connected",
      teamMode: true,
      accessExpiresAt: "2030-01-01T10:00:00Z",
      refreshExpiresAt: "2030-01-03T10:00:00Z",
      refreshRotates: true,
      lastRefreshAt: "2030-01-01T08:00:00Z",
      lastError: null,
      lapseWarning: false,
      ...change,
    },
    clientId: "ccb350cc-6218-40b0-b134-3d290f00b9e7",
    lastWebhookAt: "2030-01-01T09:59:00Z",
    webhooksSilent: silent,
    redirectUri: "https://team.example.com/…",
  };
}

async function open(answer: ConsoleIntegration): Promise<void> {
  reset();
  routes["GET /session"] = () => ({ status: 200, body: session() });
  routes["GET /integration"] = () => ({ status: 200, body: answer });
  history.replaceState(null, "", "/admin/integration");
  const root = document.createElement("div");
  document.body.append(root);
  await new ConsoleApp(root, PAGES, signInPage).start();
  await settle();
}

function banners(): string[] {
  return [...document.querySelectorAll("#int-banners .banner")].map((b) => b.textContent ?? "");
}

test("no banner when all is well; one for each trouble", async () => {
  await open(integration());
  assert.deepEqual(banners(), []);
  await open(integration({ integration: "refresh_failing", lastError: "invalid_grant" }, true));
  assert.equal(banners().length, 2);
  assert.ok(document.querySelector("#int-banners .banner[role=alert]"));
  assert.match(document.getElementById("int-last-error")?.textContent ?? "", /invalid_grant/);
  await open(integration({ lapseWarning: true }));
  assert.equal(banners().length, 1);
});

test("connecting shows the authorize link and forgets the secret; the change carries the CSRF token", async () => {
  await open(integration({ integration: "not_connected", teamMode: false }));
  routes["POST /integration/connect"] = () => ({ status: 200, body: { authorizeUrl: "https://oauth.example/authorize?state=1" } });
  (document.getElementById("int-client") as HTMLInputElement).value = "client";
  (document.getElementById("int-secret") as HTMLInputElement).value = "the secret";
  (document.getElementById("int-connect") as HTMLFormElement).requestSubmit();
  await settle();
  const link = document.getElementById("int-authorize-link") as HTMLAnchorElement;
  assert.equal(link.getAttribute("href"), "https://oauth.example/authorize?state=1");
  assert.equal(link.getAttribute("rel"), "noopener noreferrer");
  assert.equal((document.getElementById("int-secret") as HTMLInputElement).value, "");
  const connect = sent.find((r) => r.path === "/integration/connect");
  assert.deepEqual(connect?.body, { clientId: "client", clientSecret: "the secret" });
  assert.equal(connect?.headers["X-CSRF-Token"], "csrf-token-1");
});
