import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Tests import workspace packages from source so `npm test` needs no build step for library code.
export default defineConfig({
  resolve: {
    alias: {
      "@rtt/core": src("core"),
      "@rtt/ctf": src("ctf"),
      "@rtt/sdk": src("sdk"),
      "@rtt/server": src("server"),
    },
  },
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "bench/**/*.test.ts",
      "deploy/**/*.test.ts",
      "spec/**/*.test.ts",
      "sdk-python/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
