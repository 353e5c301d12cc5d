import { defineConfig } from "vite";

// The relay embeds console/dist and serves it under /admin with a strict CSP (script-src 'self',
// style-src 'self': no inline script or style). Vite's output keeps to that: one module script
// and one stylesheet, both files under /admin/assets/.
export default defineConfig({
  base: "/admin/",
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // A stylesheet is never inlined as a data: URL or a <style> (the CSP refuses both).
    assetsInlineLimit: 0,
  },
});
