import { defineConfig } from "vite";

// The app loads the UI from its own assets (tauri://localhost) under a strict CSP: no inline
// scripts or styles, nothing from outside. Vite's output already keeps to that.
export default defineConfig({
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari15",
    sourcemap: false,
    // Two pages: the main window and the incoming-call popup, which the shell keeps ready.
    rollupOptions: {
      input: {
        main: "index.html",
        popup: "popup.html",
      },
    },
  },
});
