import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string, file = "index") =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${file}.ts`, import.meta.url));

const ALL = [
  "packages/*/test/**/*.test.ts",
  "bench/**/*.test.ts",
  "deploy/**/*.test.ts",
  "spec/**/*.test.ts",
  "sdk-python/**/*.test.ts",
];

/**
 * Tests that start servers, child processes, browsers, PostgreSQL or language toolchains. Everything else is `unit`:
 * in-process and fast (`npx vitest run --project unit`). `npm test` runs both.
 */
const INTEGRATION = [
  "packages/web/test/e2e/**/*.test.ts", // Chromium against `rtt serve`
  "packages/cli/test/**/*.test.ts", // the built CLI as a child process; conformance runs C, Go, Java, Rust, Python
  "packages/sdk/test/python-sdk.test.ts", // python3
  "packages/sdk/test/seed-snippets.test.ts", // child processes
  "packages/fabric/test/mcp/stdio-*.test.ts", // real MCP servers over stdio (npm's and SDK fixtures)
  "packages/server/test/api.runner.test.ts", // a listening server, promtool
  "packages/server/test/kill.test.ts", // SIGKILLed server processes
  "packages/server/test/shutdown.test.ts", // server processes and signals
  "packages/server/test/serve-wiring.test.ts", // startServer as `rtt serve` wires it
  "packages/server/test/hostile.test.ts", // a listening server under hostile input
  "packages/server/test/fuzz/**/*.test.ts", // a listening server, property runs
  "packages/shm/test/**/*.test.ts", // child processes sharing memory
  "packages/server/test/store.contract.test.ts", // PostgreSQL (and SQLite)
  "packages/diagnostics/test/store.test.ts", // PostgreSQL (and SQLite)
  "packages/fabric/test/registry/sigkill.test.ts", // `rtt registry ingest` SIGKILLed mid-run
  "packages/fabric/test/registry/cli.test.ts", // the built `rtt registry` as a child process
  "packages/fabric/test/daemon/**/*.test.ts", // `rtt fabric up` as a child process, drivers, SHM lanes
  "packages/fabric/test/reconcile/kill.test.ts", // a child applying plans SIGKILLed at random moments (built package)
  "packages/fabric/test/cluster/**/*.test.ts", // a three-server nats-server JetStream cluster, nodes SIGKILLed mid-apply
  "packages/fabric/test/autotune/live.test.ts", // an echo worker (built package), /dev/shm rings, the built CLI
  "packages/fabric/test/sandbox/sandbox.test.ts", // drivers under bubblewrap + seccomp (python3, node children)
  "packages/fabric/test/sandbox/supervisor.test.ts", // sandboxed drivers crashing, hanging, restarted
  "deploy/**/*.test.ts", // promtool, Prometheus, python3
  "bench/**/*.test.ts", // benchmark smoke runs
  "sdk-python/**/*.test.ts", // python3
];

// Tests import workspace packages from source so `npm test` needs no build step for library code.
export default defineConfig({
  resolve: {
    alias: {
      "@rtt/core": src("core"),
      "@rtt/ctf": src("ctf"),
      "@rtt/sdk": src("sdk"),
      "@rtt/http": src("http"),
      "@rtt/diagnostics/migrations": src("diagnostics", "migrations"),
      "@rtt/diagnostics": src("diagnostics"),
      "@rtt/fabric": src("fabric"),
      "@rtt/shm": src("shm"),
      // A subpath export needs its own entry, before its package's (which would also match "@rtt/server/…").
      "@rtt/server/api": src("server", "api"),
      "@rtt/server/config": src("server", "config"),
      "@rtt/server": src("server"),
    },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      { extends: true, test: { name: "unit", include: ALL, exclude: INTEGRATION } },
      { extends: true, test: { name: "integration", include: INTEGRATION } },
    ],
  },
});
