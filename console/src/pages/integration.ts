// Integration: the connection to МТТ Бизнес (state, token expiries, the last webhook), a red
// banner when МТТ refused the refresh, webhooks went silent or a lapse is near, and the connect
// form (client id and secret, sent once) that gives the authorize link to open. The state is
// asked again every few seconds, so a connection finished in another tab shows here.
import { get, post } from "../api";
import type { Page } from "../app";
import type { ConsoleAuthorize } from "../bindings/ConsoleAuthorize";
import type { ConsoleConnect } from "../bindings/ConsoleConnect";
import type { ConsoleIntegration } from "../bindings/ConsoleIntegration";
import type { IntegrationState } from "../bindings/IntegrationState";
import { h, replace } from "../dom";
import { copyable } from "../dialog";
import { describe, Form, input } from "../forms";
import { when } from "../format";
import { t } from "../i18n";

export function integrationWords(state: IntegrationState): string {
  return state === "connected" ? t.intConnected : state === "refresh_failing" ? t.intRefreshFailing : t.intNotConnected;
}

/** The banners an integration's state calls for (empty when all is well). */
export function integrationBanners(i: ConsoleIntegration): string[] {
  const out: string[] = [];
  if (i.status.integration === "refresh_failing") out.push(t.intBannerRefresh);
  if (i.webhooksSilent) out.push(t.intBannerSilent);
  if (i.status.lapseWarning) out.push(t.intBannerLapse);
  return out;
}

export function integrationPage(): Page {
  const banners = h("div", { id: "int-banners" });
  const facts = h("dl", { class: "facts", id: "int-facts" });
  const stateLine = h("p", { class: "state-line", id: "int-state" });
  const authorize = h("div", { id: "int-authorize", class: "authorize", hidden: true });

  const show = (i: ConsoleIntegration) => {
    const s = i.status;
    replace(banners, ...integrationBanners(i).map((text) => h("div", { class: "banner banner-danger", role: "alert", text })));
    replace(stateLine, h("span", { class: `badge badge-int-${s.integration}`, text: integrationWords(s.integration) }));
    const fact = (label: string, value: string, id: string) => [h("dt", { text: label }), h("dd", { id }, h("bdi", { text: value }))];
    const yesNo = (v: boolean | null) => (v === null ? t.none : v ? t.yes : t.no);
    replace(
      facts,
      ...fact(t.intTeamMode, yesNo(s.teamMode), "int-team-mode"),
      ...fact(t.intClientId, i.clientId ?? t.none, "int-client-id"),
      ...fact(t.intRedirectUri, i.redirectUri ?? t.none, "int-redirect"),
      ...fact(t.intAccessExpires, when(s.accessExpiresAt), "int-access"),
      ...fact(t.intRefreshExpires, when(s.refreshExpiresAt), "int-refresh"),
      ...fact(t.intRotates, yesNo(s.refreshRotates), "int-rotates"),
      ...fact(t.intLastRefresh, when(s.lastRefreshAt), "int-last-refresh"),
      ...fact(t.intLastWebhook, i.lastWebhookAt ? when(i.lastWebhookAt) : t.never, "int-last-webhook"),
      ...(s.lastError ? fact(t.intLastError, s.lastError, "int-last-error") : []),
    );
  };
  const loadError = h("p", { class: "form-status error", role: "alert", hidden: true });
  const load = async () => {
    try {
      show(await get<ConsoleIntegration>("/integration"));
      loadError.hidden = true;
    } catch (e) {
      loadError.textContent = describe(e);
      loadError.hidden = false;
    }
  };

  const form = new Form("int-connect", async () => {
    if (!form.requireFilled("clientId", "clientSecret")) return;
    const connect: ConsoleConnect = { clientId: form.value("clientId").trim(), clientSecret: form.value("clientSecret") };
    const answer = await post<ConsoleAuthorize>("/integration/connect", connect);
    const secret = form.control("clientSecret");
    if (secret) secret.value = "";
    replace(
      authorize,
      h("h3", { text: t.intAuthorizeTitle }),
      h("p", { class: "hint", text: t.intAuthorizeHint }),
      copyable(t.intOpenLink, answer.authorizeUrl, "int-authorize-url"),
      h("p", {}, h("a", { id: "int-authorize-link", class: "button primary", href: answer.authorizeUrl, target: "_blank", rel: "noopener noreferrer", text: t.intOpenLink })),
    );
    authorize.hidden = false;
    void load();
  });
  form.field("clientId", t.intClientId, input("text", { id: "int-client", autocomplete: "off", spellcheck: false }));
  form.field("clientSecret", t.intClientSecret, input("password", { id: "int-secret", autocomplete: "new-password" }));
  form.buttons(t.intConnect);

  void load();
  const poll = setInterval(() => void load(), 5000);
  const root = h(
    "div",
    { class: "stack" },
    banners,
    loadError,
    h("section", { class: "card", "aria-labelledby": "int-state-title" }, h("h2", { id: "int-state-title", text: t.intState }), stateLine, facts),
    h("section", { class: "card", "aria-labelledby": "int-connect-title" }, h("h2", { id: "int-connect-title", text: t.intConnectTitle }), h("p", { class: "hint", text: t.intConnectIntro }), form.root, authorize),
  );
  return { root, dispose: () => clearInterval(poll) };
}
