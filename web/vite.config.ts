/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// The API serves the production build at / (src/nexora/api/static); `vite` alone proxies /api to a local `nexora up`.
const API_TARGET = process.env.NEXORA_WEB_API ?? "http://127.0.0.1:8080";

// Only the production page carries the policy: the dev server injects inline scripts for hot reload.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Mantine sets style attributes and injects its CSS variables at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

function contentSecurityPolicy(): Plugin {
  return {
    name: "nexora-content-security-policy",
    apply: "build",
    transformIndexHtml: () => [
      {
        tag: "meta",
        attrs: { "http-equiv": "Content-Security-Policy", content: CONTENT_SECURITY_POLICY },
        injectTo: "head-prepend",
      },
    ],
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicy()],
  build: {
    outDir: "../src/nexora/api/static",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      output: {
        // Libraries in their own chunks keep their cache across console releases (app code changes more often).
        codeSplitting: {
          groups: [
            { name: "react", test: /node_modules[\\/](react|react-dom|scheduler|react-router)[\\/]/, priority: 30 },
            { name: "query", test: /node_modules[\\/]@tanstack[\\/]/, priority: 20 },
            { name: "mantine", test: /node_modules[\\/]@mantine[\\/](core|hooks)[\\/]/, priority: 10 },
          ],
        },
      },
    },
  },
  server: {
    host: "127.0.0.1",
    proxy: {
      "/api": API_TARGET,
      "/.well-known": API_TARGET,
      "/healthz": API_TARGET,
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./vitest.setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    // The machine is shared: a generous per-test limit keeps a busy CI from failing on time alone.
    testTimeout: 20_000,
    // One jsdom per worker instead of per file: most of the run was environment start-up (vitest.setup.ts resets state).
    pool: "threads",
    isolate: false,
  },
});
