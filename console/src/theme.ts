// Light or dark: the system's preference unless the switch chose one (remembered in
// localStorage; style.css reads `data-theme` on <html>).
export type ThemeChoice = "system" | "light" | "dark";

export const THEME_KEY = "trubka.console.theme";

export function currentTheme(): ThemeChoice {
  const saved = localStorage.getItem(THEME_KEY);
  return saved === "light" || saved === "dark" ? saved : "system";
}

export function applyTheme(choice: ThemeChoice): void {
  if (choice === "system") {
    delete document.documentElement.dataset.theme;
    localStorage.removeItem(THEME_KEY);
  } else {
    document.documentElement.dataset.theme = choice;
    localStorage.setItem(THEME_KEY, choice);
  }
}

/** The next choice of the switch: system → light → dark → system. */
export function nextTheme(choice: ThemeChoice): ThemeChoice {
  return choice === "system" ? "light" : choice === "light" ? "dark" : "system";
}
