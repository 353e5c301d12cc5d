// Opens the console at a path, as a browser would: import after "./dom", which sets up the
// document the console runs in.
import { settle } from "./dom";
import { ConsoleApp } from "../src/app";
import { PAGES } from "../src/pages";
import { signInPage } from "../src/pages/signin";

/** Starts the console at `path` in a fresh `#app` root and waits until it has settled. */
export async function openConsole(path: string): Promise<ConsoleApp> {
  history.replaceState(null, "", path);
  const root = document.createElement("div");
  root.id = "app";
  document.body.append(root);
  const app = new ConsoleApp(root, PAGES, signInPage);
  await app.start();
  await settle();
  return app;
}
