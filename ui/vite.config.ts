import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { resolve } from "node:path";

// Two pages: the app (index.html, every /ui/... route) and GraphiQL (graphiql.html, served at
// GET /graphql). Both are built into the Python package, which serves them; nothing comes from a
// CDN. Hashed assets live under /ui/assets/ and are cached as immutable.
export default defineConfig({
  base: "/ui/",
  plugins: [svelte()],
  build: {
    outDir: resolve(import.meta.dirname, "../src/tercel/webui/dist"),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: {
        app: resolve(import.meta.dirname, "index.html"),
        graphiql: resolve(import.meta.dirname, "graphiql.html"),
      },
      // GraphiQL's React packages carry "use client" directives, meaningless in a bundle
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
  server: {
    proxy: { "/graphql": { target: "http://127.0.0.1:8080", ws: true } },
  },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
} as never);
