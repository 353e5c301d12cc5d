// The console's entry point: the theme first (no flash of the wrong one), then the frame, which
// asks the relay for the session and shows the page the address names.
import "./style.css";
import { ConsoleApp } from "./app";
import { PAGES } from "./pages";
import { signInPage } from "./pages/signin";
import { applyTheme, currentTheme } from "./theme";

applyTheme(currentTheme());
const root = document.getElementById("app");
if (root) void new ConsoleApp(root, PAGES, signInPage).start();
