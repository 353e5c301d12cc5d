// Sign-in: a seat's name or number and its console password. Wrong ones, a locked account and the
// sign-in cap are said above the button (the relay names no field: it never tells which was wrong).
import { request } from "../api";
import type { ConsoleApp, Page } from "../app";
import type { ConsoleSession } from "../bindings/ConsoleSession";
import type { ConsoleSignIn } from "../bindings/ConsoleSignIn";
import { h } from "../dom";
import { Form, input } from "../forms";
import { currentLang, setLang, t } from "../i18n";

export function signInPage(app: ConsoleApp, notice: string | null): Page {
  const form = new Form("signin-form", async () => {
    if (!form.requireFilled("login", "password")) return;
    const body: ConsoleSignIn = { login: form.value("login").trim(), password: form.value("password") };
    const session = await request<ConsoleSession>("POST", "/session", body, { ownUnauthorized: true });
    app.signedIn(session);
  });
  form.field("login", t.login, input("text", { id: "signin-login", autocomplete: "username", required: true, autofocus: true }));
  form.field("password", t.password, input("password", { id: "signin-password", autocomplete: "current-password", required: true }));
  form.buttons(t.signIn);
  if (notice) form.say(notice, true);
  const lang = h("button", { type: "button", id: "switch-lang", class: "quiet", text: t.switchLanguage, title: t.switchLanguageLabel, lang: currentLang() === "ru" ? "en" : "ru" });
  lang.addEventListener("click", () => {
    setLang(currentLang() === "ru" ? "en" : "ru");
    app.redraw();
    document.getElementById("switch-lang")?.focus();
  });
  const root = h(
    "main",
    { class: "signin", id: "main", "aria-labelledby": "signin-title" },
    h(
      "div",
      { class: "signin-card" },
      h("p", { class: "brand" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), h("span", { text: t.appName }), h("span", { class: "brand-sub", text: t.consoleName })),
      h("h1", { id: "signin-title", text: t.signinTitle }),
      h("p", { class: "hint", text: t.signinIntro }),
      form.root,
      h("div", { class: "signin-foot" }, lang),
    ),
  );
  queueMicrotask(() => document.getElementById("signin-login")?.focus());
  return { root };
}
