import { defineConfig } from "vite";

// No React plugin: Vite 8's built-in oxc transform compiles .tsx with the automatic JSX runtime.
// `base: "./"` keeps asset URLs relative so the server can serve dist/ at `/` (or any prefix).
export default defineConfig({
  base: "./",
  oxc: { jsx: { runtime: "automatic" } },
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022", chunkSizeWarningLimit: 800 },
  server: {
    proxy: {
      "/replay": process.env.RTT_API ?? "http://127.0.0.1:8080",
      "/api": process.env.RTT_API ?? "http://127.0.0.1:8080",
    },
  },
});
